"""Where an evaluation's proposals come from: the one place that chooses them.

``run_proposals(config, dataset)`` returns a ``RunProposals``: ``gt`` gives the
image's ground-truth objects (boxes and masks), an existing file gives its detections
matched by image id, anything else is a source spec of ``reclip.proposals`` (``maskrcnn``,
``fasterrcnn:W.pth``, ``sam:CKPT``, ``maskrcnn+sam:CKPT``) run on each image, cached in memory
and, with ``proposal_cache``, on disk. An image without any proposal is scored as wrong (no
silent fallback to other boxes). A text-conditioned source (``grounding-dino``) proposes for
the find texts of all the image's programs (``needs_texts``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

from interpreter import Proposal
from reclip.datasets import Dataset, read_detections
from reclip.proposals import PROPOSAL_SOURCES, parse_source_spec
from reclip.proposals.facts import facts_of
from reclip.proposals import proposal_source as spec_source
from reclip.evaluation.config import EvalConfig
from reclip.masks import decode_mask

GT_WARNING = ("using ground-truth boxes as proposals: this is not a detector setting "
              "(ReCLIP's gold-box figures; detections are the paper's main setting)")


@dataclass
class RunProposals:
    """``proposals(image_id, image) -> list[Proposal]``; ``has_masks``: whether any proposal
    of the source carries a mask (then masks are compared); ``name`` for run.json; with
    ``needs_texts``, ``proposals(image_id, image, texts)`` for the image's find texts;
    ``image_ids``: the image keys a detections file covers (None: every image has proposals)."""

    name: str
    proposals: Callable[..., list[Proposal]]
    has_masks: bool
    image_ids: set[str] | None = None
    built: Any = None            # the source object a spec built (its settings go to run.json)
    needs_texts: bool = False


def run_proposals(config: EvalConfig, dataset: Dataset, warn: Callable[[str], None] | None = None) -> RunProposals:
    """The proposals the config names, for ``dataset``'s images."""
    warn = warn or (lambda line: print(line, file=sys.stderr))
    if config.gt:
        warn(GT_WARNING)

        def gold(image_id: Any, image: Image.Image) -> list[Proposal]:
            return [_proposal(o.box, o.mask, o.label) for o in dataset.objects_of(image_id)]

        return RunProposals("gt", gold, dataset.has_masks)
    if not Path(config.proposals).is_file():
        return _spec_source(config)
    detections = read_detections(config.proposals)

    def detected(image_id: Any, image: Image.Image) -> list[Proposal]:
        return [_proposal(d.box, d.mask, d.label) for d in detections.of(image_id)]

    return RunProposals(str(config.proposals), detected, detections.has_masks, set(detections.by_image))


def _spec_source(config: EvalConfig) -> RunProposals:
    """A detector or SAM source: built once (its weights checked now, before any scoring)."""
    source = spec_source(config.proposals, cache_dir=config.proposal_cache, device=config.device,
                         precision=config.precision)
    if source.needs_texts:  # grounding-dino: boxes for the find texts of the image's programs
        return RunProposals(config.proposals, lambda image_id, image, texts: source.for_texts(texts)(image),
                              False, needs_texts=True, built=source)
    masks = any("masks" in facts_of(PROPOSAL_SOURCES.get(part.name)).gives   # the sources' declared facts
                for part in _parts(parse_source_spec(config.proposals)))
    return RunProposals(config.proposals, lambda image_id, image: source(image), masks, built=source)


def _parts(spec: Any) -> list[Any]:
    """A spec and the box source it prompts, if any (``maskrcnn+sam:CKPT``)."""
    return [spec] + ([] if spec.prompts is None else _parts(spec.prompts))


def _proposal(box, rle, label) -> Proposal:
    return Proposal(list(box), None if rle is None else decode_mask(rle), label)
