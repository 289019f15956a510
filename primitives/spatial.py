"""The built-in spatial primitives.

The first seven relations are ReCLIP's, hard 0/1 with strict inequality except
``within``; ``near``, ``between`` and the superlatives beyond ReCLIP's are ours.
Each function is written once over broadcast arrays of boxes (see registry.py).
"""

from __future__ import annotations

import numpy as np

from primitives.boxes import (
    areas,
    centres,
    centres_x,
    centres_y,
    diagonals,
    gap_distances,
    hull_areas,
    intersection_areas,
)
from primitives.registry import relation, superlative, ternary


# -- binary relations (ReCLIP) ---------------------------------------------------
@relation("left_of", words=["left", "west"])
def left_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's centre is left of b's centre."""
    return (centres_x(a) < centres_x(b)).astype(float)


@relation("right_of", words=["right", "east"])
def right_of(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's centre is right of b's centre."""
    return (centres_x(a) > centres_x(b)).astype(float)


@relation("above", words=["above", "north", "top", "over", "on top", "back", "behind"])
def above(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's centre is higher in the image than b's (ReCLIP also reads 'behind' so)."""
    return (centres_y(a) < centres_y(b)).astype(float)


@relation("below", words=["below", "south", "under", "beneath", "underneath", "front"])
def below(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's centre is lower in the image than b's (ReCLIP also reads 'in front of' so)."""
    return (centres_y(a) > centres_y(b)).astype(float)


@relation("bigger_than", words=["bigger", "larger", "closer"])
def bigger_than(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's area exceeds b's (ReCLIP: closer objects look bigger)."""
    return (areas(a) > areas(b)).astype(float)


@relation("smaller_than", words=["smaller", "tinier", "further", "farther"])
def smaller_than(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a's area is below b's."""
    return (areas(a) < areas(b)).astype(float)


@relation("within", words=["inside", "within", "contained", "in"])
def within(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Share of a's area inside b: area(a ∩ b) / area(a), soft as in ReCLIP."""
    return intersection_areas(a, b) / areas(a)


# -- ours --------------------------------------------------------------------------
@relation("near", words=["near", "next to", "beside", "by", "closest to", "close to", "nearest to", "alongside"])
def near(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """exp(-gap / scale): 1 when the boxes touch, 1/e at a gap of half their mean diagonal."""
    scale = 0.25 * (diagonals(a) + diagonals(b))
    return np.exp(-gap_distances(a, b) / scale)


@ternary("between", words=["between", "in between", "in the middle of"])
def between(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Share of a's area inside the convex hull of b and c (exact), times the shares outside each."""
    # A box overlapping a landmark is "inside" the hull trivially; count only the
    # part of a outside both landmarks, so "between" means the space between them.
    return hull_areas(a, b, c) / areas(a) * _outside_share(a, b) * _outside_share(a, c)


def _outside_share(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 1.0 - intersection_areas(a, b) / areas(a)


# -- superlatives: key functions, larger = more so --------------------------------
@superlative(
    "leftmost", words=["left", "leftmost", "western", "far left", "left most"],
    opposite="rightmost", comparative="left_of", axis="x",
)
def leftmost(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Smallest centre x (comparative matrix = left_of)."""
    return -centres_x(boxes)


@superlative(
    "rightmost", words=["right", "rightmost", "eastern", "far right", "right most"],
    opposite="leftmost", comparative="right_of", axis="x",
)
def rightmost(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Largest centre x (comparative matrix = right_of)."""
    return centres_x(boxes)


@superlative(
    "topmost", words=["top", "topmost", "above", "north", "upper", "uppermost", "highest", "far top"],
    opposite="bottommost", comparative="above", axis="y",
)
def topmost(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Smallest centre y (comparative matrix = above)."""
    return -centres_y(boxes)


@superlative(
    "bottommost",
    words=["bottom", "bottommost", "below", "south", "underneath", "front", "lower", "lowest", "far bottom"],
    opposite="topmost", comparative="below", axis="y",
)
def bottommost(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Largest centre y (comparative matrix = below)."""
    return centres_y(boxes)


@superlative(
    "largest", words=["biggest", "bigger", "largest", "larger", "big", "large", "huge", "giant"],
    opposite="smallest", comparative="bigger_than", axis="size",
)
def largest(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Largest area (comparative matrix = bigger_than)."""
    return areas(boxes)


@superlative(
    "smallest", words=["smallest", "smaller", "tiniest", "tinier", "small", "tiny", "little"],
    opposite="largest", comparative="smaller_than", axis="size",
)
def smallest(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Smallest area (comparative matrix = smaller_than)."""
    return -areas(boxes)


@superlative(
    "closest", words=["closest", "closer", "nearest", "nearer"],
    opposite="farthest", comparative="bigger_than", axis="depth",
)
def closest(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ReCLIP's reading of 'closest': the biggest box (closer objects look bigger)."""
    return areas(boxes)


@superlative(
    "farthest", words=["farthest", "furthest", "further", "farther"],
    opposite="closest", comparative="smaller_than", axis="depth",
)
def farthest(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ReCLIP's reading of 'furthest': the smallest box."""
    return -areas(boxes)


@superlative(
    "middle", words=["middle", "center", "centre", "central"],
    opposite="middle", comparative="within", axis=None,
)
def middle(boxes: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Closest to the weighted centre of the candidates (distance scaled by their spread)."""
    c = centres(boxes)
    w = weights / weights.sum()
    mean = (w[:, None] * c).sum(axis=0)
    return -np.hypot(*(c - mean).T)
