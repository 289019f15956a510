"""Proposals computed once per (image content, source spec and the contents of the files it
names): an in-memory LRU, and on request
a folder of JSON files (``--proposal-cache DIR``) that later runs read instead of the model."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from interpreter import Proposal
from reclip.caching import LRUCache, image_digest
from reclip.files import make_folder, spec_paths
from reclip.proposals.io import ProposalFileError, read_proposals, write_proposals

# Images, not proposals: 100 Mask R-CNN masks of a 640x480 image are ~30 MB as bool arrays.
MEMORY_CACHE_IMAGES = 32


_file_digests: dict[tuple[str, int, int], str] = {}


def content_key(spec: str) -> str:
    """``spec`` with a digest of the files it names (weights, checkpoints): a file replaced in
    place gets new proposals, not the old file's. Each file version is hashed once per process."""
    digests = []
    for path in spec_paths(spec):
        stat = path.stat()
        version = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if version not in _file_digests:
            h = hashlib.blake2b(digest_size=8)
            with path.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            _file_digests[version] = h.hexdigest()
        digests.append(_file_digests[version])
    return spec if not digests else f"{spec}#{'.'.join(digests)}"


class ProposalCache:
    """Memory LRU of proposals keyed by (spec, image digest), backed by ``folder`` when given."""

    def __init__(self, size: int = MEMORY_CACHE_IMAGES) -> None:
        self._memory = LRUCache(size)

    def get(self, spec: str, key: str, folder: Path | None, image: Image.Image) -> list[Proposal] | None:
        found = self._memory.get((spec, key))
        if found is not None:
            return found
        if folder is not None and (path := _file(folder, spec, key)).is_file():
            try:
                found = read_proposals(path, image_size=image.size)
            except ProposalFileError:
                return None  # a half-written or foreign file: compute again and overwrite it
            self._memory.put((spec, key), found)
        return found

    def put(self, spec: str, key: str, folder: Path | None, proposals: list[Proposal]) -> None:
        self._memory.put((spec, key), proposals)
        if folder is not None:
            path = _file(folder, spec, key)
            make_folder(path.parent, "proposal cache folder")
            write_proposals(path, proposals)

    def clear(self) -> None:
        self._memory.clear()


MEMORY = ProposalCache()


def _file(folder: Path, spec: str, key: str) -> Path:
    """``folder/<readable spec>-<spec digest>/<image digest>.json``."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec)[-40:].strip("._") or "source"
    digest = hashlib.blake2b(spec.encode(), digest_size=6).hexdigest()
    return folder / f"{readable}-{digest}" / f"{key}.json"


class CachedSource:
    """A source whose results are looked up before the model runs (sources that say
    ``cacheable = False``, such as files, are called every time)."""

    def __init__(self, source: Any, folder: str | os.PathLike | None = None,
                 cache: ProposalCache = MEMORY) -> None:
        self.source = source
        self.spec = source.spec
        # the cache's key: the spec and its files' contents (a file source is never cached)
        self.key = content_key(self.spec) if getattr(source, "cacheable", True) else self.spec
        self.folder = Path(folder) if folder is not None else None
        self.cache = cache

    def __call__(self, image: Image.Image) -> list[Proposal]:
        return self.batch([image])[0]

    @property
    def needs_texts(self) -> bool:
        return bool(getattr(self.source, "needs_texts", False))

    def for_texts(self, texts: Sequence[Any]) -> "CachedSource":
        """The source proposing for ``texts`` (a text-conditioned detector), cached by them too."""
        return CachedSource(self.source.for_texts(texts), self.folder, self.cache)

    def batch(self, images: Sequence[Image.Image]) -> list[list[Proposal]]:
        if not getattr(self.source, "cacheable", True):
            return self.source.batch(images)
        keys = [image_digest(image) for image in images]
        found = [self.cache.get(self.key, k, self.folder, im) for k, im in zip(keys, images)]
        missing = [i for i, f in enumerate(found) if f is None]
        if missing:
            computed = self.source.batch([images[i] for i in missing])
            for i, proposals in zip(missing, computed):
                self.cache.put(self.key, keys[i], self.folder, proposals)
                found[i] = proposals
        return found  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"<cached proposal source {self.spec}>"
