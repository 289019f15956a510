"""The caches every stage shares: an LRU dict bounded by entries, and one content key of images.

The scorer's regions and texts, the engines' forwards, the built proposal sources and the
proposals of recent images are each an ``LRUCache``; they all key images by ``image_digest``.
"""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict
from typing import Any, Hashable

from PIL import Image

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


class ImageKeys:
    """A content hash per PIL image object, computed once while the object lives."""

    def __init__(self) -> None:
        self._keys: dict[int, tuple[weakref.ref, str]] = {}

    def __call__(self, image: Image.Image) -> str:
        entry = self._keys.get(id(image))
        if entry is not None and entry[0]() is image:
            return entry[1]
        digest = hashlib.blake2b(image.tobytes(), digest_size=16)
        digest.update(f"{image.mode}{image.size}".encode())
        key = digest.hexdigest()
        oid = id(image)
        self._keys[oid] = (weakref.ref(image, lambda _r, oid=oid: self._keys.pop(oid, None)), key)
        return key


# The one content hash of images: the scorers', the engines' and the proposal caches key by it.
image_digest = ImageKeys()
