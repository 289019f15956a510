"""Open-vocabulary detectors as proposal sources (the ``detectors`` extra: transformers).

``owlv2[:WHERE]``: class-agnostic boxes, ranked by OWLv2's objectness (sigmoid), greedy NMS
at ``nms_iou``, the best ``max_proposals`` whose objectness is at least ``min_score``.
``grounding-dino[:WHERE]``: boxes for the program's ``find`` texts (the source says
``needs_texts``; ``Locator`` hands it the texts of the programs it runs), each box scored by
its best phrase, then the same NMS and cap. WHERE is a ``save_pretrained`` folder or a hub id
in the local Hugging Face cache (default: the reference checkpoint). The model and its
forward cache are shared with the engine of the same spec (``reclip.engines``), so scoring
the proposals of ``--model owlv2:DIR`` costs no second forward, and every proposal scores
exactly as its box did.
"""

from __future__ import annotations

import copy
from typing import Sequence

from PIL import Image

from interpreter import Proposal
from reclip.proposals.facts import SourceFacts, SourceOption, declare
from reclip.proposals.sources import PROPOSAL_SOURCES, ProposalSourceError


class _DetectorSource:
    kind = ""

    def __init__(self, where: str | None = None, *, max_proposals: int = 100, nms_iou: float = 0.5,
                 min_score: float = 0.0, device: str | None = None, precision: str | None = None) -> None:
        from reclip.engines import DETECTOR_KINDS, detector_engine  # torch and the model, only when used

        self.where = where or DETECTOR_KINDS[self.kind]
        self.max_proposals, self.nms_iou, self.min_score = int(max_proposals), float(nms_iou), float(min_score)
        if self.max_proposals < 1 or not 0.0 < self.nms_iou <= 1.0:
            raise ProposalSourceError(f"{self.kind}: max_proposals must be >= 1 and nms_iou in (0, 1]")
        self.engine = detector_engine(self.kind, self.where, device, precision)   # loads now: fast errors

    def batch(self, images: Sequence[Image.Image]) -> list[list[Proposal]]:
        return [self(image) for image in images]


@PROPOSAL_SOURCES.register("owlv2")
class Owlv2Source(_DetectorSource):
    """OWLv2's boxes ranked by objectness (see the module docstring)."""

    kind = "owlv2"

    def __call__(self, image: Image.Image) -> list[Proposal]:
        return self.engine.objectness_boxes(image, max_proposals=self.max_proposals, nms_iou=self.nms_iou,
                                            min_score=self.min_score)


@PROPOSAL_SOURCES.register("grounding-dino")
class GroundingDinoSource(_DetectorSource):
    """Grounding DINO's boxes for the find texts it is given (``for_texts``)."""

    kind = "grounding-dino"
    needs_texts = True
    texts: tuple[str, ...] = ()

    def for_texts(self, texts: Sequence[str]) -> "GroundingDinoSource":
        """This source, proposing for ``texts``."""
        other = copy.copy(self)
        other.texts = tuple(str(t) for t in texts)
        return other

    def __call__(self, image: Image.Image) -> list[Proposal]:
        if not self.texts:
            raise ProposalSourceError(
                "grounding-dino proposals need the texts to look for: they come from the program when "
                "the Locator (reclip locate / run) resolves the source; elsewhere use owlv2 or another source")
        return self.engine.text_boxes(image, self.texts, max_proposals=self.max_proposals,
                                      nms_iou=self.nms_iou, min_score=self.min_score)



DETECTOR_OPTIONS = (
    SourceOption("max_proposals", int, 100, 1, None, "keep at most this many boxes (after NMS)"),
    SourceOption("nms_iou", float, 0.5, 0, 1, "class-agnostic NMS: suppress boxes overlapping more than this"),
    SourceOption("min_score", float, 0.0, None, None, "drop boxes scoring below this"),
)
NEEDS = ("the transformers package (reclip[detectors])", "a save_pretrained folder or a cached hub id",
         "a device")
declare(Owlv2Source, SourceFacts(
    gives=frozenset({"boxes", "scores"}), arg="DIR", needs=NEEDS, options=DETECTOR_OPTIONS,
    summary="OWLv2's class-agnostic boxes ranked by objectness"))
declare(GroundingDinoSource, SourceFacts(
    gives=frozenset({"boxes", "scores"}), arg="DIR", needs=NEEDS + ("the program's find texts",),
    options=DETECTOR_OPTIONS, summary="Grounding DINO's boxes for the program's find texts"))
