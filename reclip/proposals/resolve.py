"""``proposal_source(spec)``: the one way to turn a spec string into a (cached) source."""

from __future__ import annotations

import os
from typing import Any, Sequence

from PIL import Image

from interpreter import Proposal
from reclip.caching import LRUCache
from reclip.proposals.cache import CachedSource, content_key
from reclip.proposals.sources import build_source

# Built sources hold models (a detector is ~180 MB): keep the last few for repeated calls.
BUILT_SOURCES = 4
_built = LRUCache(BUILT_SOURCES)


def proposal_source(spec: str | os.PathLike, *, cache_dir: str | os.PathLike | None = None,
                    device: str | None = None, image_id: Any = None,
                    precision: str | None = None) -> CachedSource:
    """The source ``spec`` names (``maskrcnn``, ``fasterrcnn:W.pth``, ``sam:CKPT``,
    ``maskrcnn+sam:CKPT``, ``file:P.json`` or a path), its results cached per (image, spec)
    in memory and, with ``cache_dir``, on disk. Building it checks its weights (fast errors).
    ``precision`` reaches the sources that run a model (detectors, SAM)."""
    # a weights file replaced in place is a new source, not the one built from the old file
    key = (content_key(str(spec)), device, None if image_id is None else str(image_id), precision)
    built = _built.get(key)
    if built is None:
        built = build_source(str(spec), device=device, image_id=image_id, precision=precision)
        _built.put(key, built)
    return CachedSource(built, cache_dir)


def proposals_for(spec: str | os.PathLike, image: Image.Image, **options: Any) -> list[Proposal]:
    """One image's proposals from ``spec`` (options as ``proposal_source``)."""
    return proposal_source(spec, **options)(image)


def batch_proposals(source: Any, images: Sequence[Image.Image]) -> list[list[Proposal]]:
    """Several images' proposals, in one batch when the source batches."""
    if hasattr(source, "batch"):
        return source.batch(list(images))
    return [source(image) for image in images]
