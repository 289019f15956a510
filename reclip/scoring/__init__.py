"""Scoring proposals with CLIP: the ClipScorer and its caches."""

from reclip.caching import ImageKeys, LRUCache
from reclip.scoring.cache import ScorerStats
from reclip.scoring.scorer import DEFAULT_METHODS, ClipScorer

__all__ = ["ClipScorer", "DEFAULT_METHODS", "ImageKeys", "LRUCache", "ScorerStats"]
