"""Crops made ahead in worker threads, and encoded across images (issue 23's pipelined evaluation).

A scorer call's CPU work that does not depend on the texts — the image's content key, every
pixel method's isolated crop of each distinct proposal (crop, blur, circle, shade, mask_*) and
its bicubic resize to each model's square — is known as soon as the image and its proposals are:
``prepare_crops`` does it in a worker thread and returns ``PreparedCrops``. On the thread that
owns the models, ``encode_prepared`` takes the prepared crops of the next images, in order,
gathers those missing from the scorer's region cache until ``batch_size`` crops (None: one image,
the batches of the sequential run), encodes them per model in one forward (split beyond
``max_batch``) and puts the embeddings in the region cache under the keys ``score`` looks up:
the later ``score`` calls of those images find them there (region hits), encode nothing more,
and give the logits of the sequential run. The pixels go through the same ``to_square`` and
``normalise_pixels`` as ``score``'s own path, so the inputs are the same bytes.

Feature methods (``global_local``, ``region``) need the model to isolate and stay in ``score``.
Prepared crops are an optimisation only: any error while preparing gives None and the image is
scored the ordinary way, where the same error is raised in its place in the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch
from PIL import Image

from interpreter import as_proposals
from reclip.clip.pixels import to_square
from reclip.isolation import isolate_many

if TYPE_CHECKING:
    from reclip.scoring.scorer import ClipScorer

RegionKey = tuple[Any, ...]          # (image key, box, mask key): the region cache's first part


@dataclass
class PreparedCrops:
    """One image's crops, isolated and squared: ``squares[(method, region key, size)]`` is the
    (size, size, 3) uint8 RGB array a model of input ``size`` sees, for each distinct region."""

    regions: list[RegionKey]                      # distinct regions, in proposal order
    squares: dict[tuple[str, RegionKey, int], np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.squares)


def prepare_crops(scorer: "ClipScorer", image: Image.Image, proposals: Sequence[Any]) -> PreparedCrops:
    """The crops ``scorer.score(image, proposals, ...)`` would isolate and resize (CPU only; safe in
    a worker thread: it reads the scorer's settings and touches neither its caches nor its models)."""
    proposals = as_proposals(proposals)
    scorer.check_masks(proposals)
    keys = scorer.region_keys(image, proposals)
    first: dict[RegionKey, int] = {}
    for i, k in enumerate(keys):
        first.setdefault(k, i)
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    prepared = PreparedCrops(list(first))
    for method, sizes in _pixel_sizes(scorer).items():
        crops = isolate_many(rgb, [proposals[i] for i in first.values()], method) if first else []
        for key, crop in zip(first, crops, strict=True):
            for size in sizes:
                prepared.squares[(method, key, size)] = np.asarray(to_square(crop, size), dtype=np.uint8)
    return prepared


def encode_prepared(scorer: "ClipScorer", prepared: Sequence[PreparedCrops | None]) -> int:
    """Encode the missing crops of the first images of ``prepared`` (at least one; then more while
    they fit ``scorer.batch_size`` crops) into the region cache; returns how many images it took.
    A None (nothing prepared) ends the batch; alone, it is taken with nothing encoded."""
    jobs: dict[int, list[tuple[tuple, np.ndarray]]] = {}    # model index -> [(cache key, square)]
    queued: set[tuple] = set()
    taken = 0
    for crops in prepared:
        if crops is None:
            return taken or 1
        new = _missing(scorer, crops, queued)
        size = max((len(v) for v in new.values()), default=0)
        if taken and (scorer.batch_size is None or max(map(len, jobs.values()), default=0) + size > scorer.batch_size):
            break
        for m, items in new.items():
            jobs.setdefault(m, []).extend(items)
            queued.update(key for key, _ in items)
        taken += 1
    for m, items in jobs.items():
        model = scorer.models[m]
        pixels = torch.from_numpy(np.stack([square for _, square in items])).permute(0, 3, 1, 2)
        for (key, _), emb in zip(items, scorer.encode_pixels(model, pixels), strict=True):
            scorer.region_cache.put(key, emb)
        scorer.stats.regions_prefilled += len(items)
    return taken


def _missing(scorer: "ClipScorer", crops: PreparedCrops, queued: set[tuple]) -> dict[int, list]:
    """Per model (index), the crops of ``crops`` neither cached nor queued, in the order ``score``
    would encode them (its model/method pairs, then the proposals): the same batches as sequential."""
    new: dict[int, list[tuple[tuple, np.ndarray]]] = {}
    for model, method in scorer.model_method_pairs():
        if not scorer.prepares(method):
            continue
        m = scorer.models.index(model)
        for region in crops.regions:
            key = (region, method, model.name)
            if key in queued or scorer.region_cache.peek(key) is not None:
                continue
            new.setdefault(m, []).append((key, crops.squares[(method, region, model.image_size)]))
    return new


def _pixel_sizes(scorer: "ClipScorer") -> dict[str, list[int]]:
    """Each pixel method with the input sizes of the models that run it."""
    sizes: dict[str, list[int]] = {}
    for model, method in scorer.model_method_pairs():
        if scorer.prepares(method) and model.image_size not in sizes.setdefault(method, []):
            sizes[method].append(model.image_size)
    return sizes


__all__ = ["PreparedCrops", "encode_prepared", "prepare_crops"]
