"""The scorer's caches: an LRU dict, content keys for images and masks, and the counters."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any, Hashable

import numpy as np

from interpreter import Proposal
from primitives import ReclipError


class LRUCache:
    """A dict bounded by entries, evicting the least recently used."""

    def __init__(self, max_entries: int):
        if int(max_entries) < 0:
            raise ReclipError(f"cache size must be >= 0 entries; got {max_entries}")
        self.max_entries = int(max_entries)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def peek(self, key: Hashable) -> Any | None:
        """The value, without making it recently used."""
        return self._data.get(key)

    def put(self, key: Hashable, value: Any) -> None:
        if self.max_entries == 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class ScorerStats:
    """Counters for tests and benchmarks (``ClipScorer.reset_stats`` zeroes them)."""

    region_hits: int = 0
    region_misses: int = 0
    text_hits: int = 0
    text_misses: int = 0
    image_forwards: int = 0     # image-encoder (or feature-extractor) calls
    images_encoded: int = 0     # isolated images / regions through them
    text_forwards: int = 0
    texts_encoded: int = 0
    regions_prefilled: int = 0  # of images_encoded: crops prepared ahead (``encode_prepared``)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def mask_key(proposal: Proposal) -> str | None:
    if proposal.mask is None:
        return None
    bits = np.packbits(proposal.mask)
    return hashlib.blake2b(bits.tobytes() + str(proposal.mask.shape).encode(), digest_size=12).hexdigest()
