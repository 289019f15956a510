"""Engines that answer ``find``: open-vocabulary detectors from transformers (OWLv2, Grounding
DINO) beside CLIP, and the weighted ensemble mixing them. transformers is imported only when
a detector spec is used (the ``detectors`` extra)."""

from reclip.engines.boxes import IOU_FLOOR, iou_matrix, proposal_scores
from reclip.engines.ensemble import ENGINES, WeightedEnsemble, build_scorer, detector_engine
from reclip.engines.specs import DETECTOR_KINDS, EngineSpec, is_detector_spec, parse_engine_spec

__all__ = [
    "DETECTOR_KINDS", "ENGINES", "EngineSpec", "IOU_FLOOR", "WeightedEnsemble", "build_scorer",
    "detector_engine", "iou_matrix", "is_detector_spec", "parse_engine_spec", "proposal_scores",
]
