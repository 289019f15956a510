"""The scorer's content keys for masks and its counters (its LRU dicts: ``reclip.caching``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

import numpy as np

from interpreter import Proposal


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
