"""Where an evaluation's proposals come from: the one place that chooses them.

``proposal_source(config, dataset)`` returns a ``ProposalSource``: ``gt`` gives the
image's ground-truth objects (boxes and masks), a file gives its detections matched by
image id. An image without any is scored as wrong (no silent fallback to other boxes).
New sources (detectors, SAM) plug in as another branch of ``proposal_source``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable

from PIL import Image

from interpreter import Proposal
from reclip.datasets import Dataset, read_detections
from reclip.evaluation.config import EvalConfig
from reclip.masks import decode_mask

GT_WARNING = ("using ground-truth boxes as proposals: this is not a detector setting "
              "(ReCLIP's gold-box figures; detections are the paper's main setting)")


@dataclass
class ProposalSource:
    """``proposals(image_id, image) -> list[Proposal]``; ``has_masks``: whether any proposal
    of the source carries a mask (then masks are compared); ``name`` for run.json."""

    name: str
    proposals: Callable[[Any, Image.Image], list[Proposal]]
    has_masks: bool


def proposal_source(config: EvalConfig, dataset: Dataset, warn: Callable[[str], None] | None = None) -> ProposalSource:
    """The proposals the config names, for ``dataset``'s images."""
    warn = warn or (lambda line: print(line, file=sys.stderr))
    if config.gt:
        warn(GT_WARNING)

        def gold(image_id: Any, image: Image.Image) -> list[Proposal]:
            return [_proposal(o.box, o.mask, None) for o in dataset.objects_of(image_id)]

        return ProposalSource("gt", gold, dataset.has_masks)
    detections = read_detections(config.proposals)

    def detected(image_id: Any, image: Image.Image) -> list[Proposal]:
        return [_proposal(d.box, d.mask, d.label) for d in detections.of(image_id)]

    return ProposalSource(str(config.proposals), detected, detections.has_masks)


def _proposal(box, rle, label) -> Proposal:
    return Proposal(list(box), None if rle is None else decode_mask(rle), label)
