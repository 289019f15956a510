"""Geometry: the relation, superlative and ordinal primitives and their registry.

No torch, no CLIP: pure numpy functions of xyxy pixel boxes.
"""

from foundation.errors import RegistryError, ReclipError
from primitives.errors import BoxError
from primitives.registry import KINDS, REGISTRY, Primitive, Registry, relation, superlative, ternary
from primitives import spatial as _spatial  # noqa: F401  (registers the built-ins)
from primitives.boxes import Box, iou, validate_boxes

__all__ = [
    "Box", "BoxError", "KINDS", "Primitive", "REGISTRY", "ReclipError", "Registry",
    "RegistryError", "iou", "relation", "superlative", "ternary", "validate_boxes",
]
