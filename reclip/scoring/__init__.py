"""Scoring proposals with CLIP: the ClipScorer and its caches."""

from reclip.files import ImageKeys
from reclip.scoring.cache import LRUCache, ScorerStats
from reclip.scoring.scorer import DEFAULT_METHODS, ClipScorer

__all__ = ["ClipScorer", "DEFAULT_METHODS", "ImageKeys", "LRUCache", "ScorerStats"]
