"""Box geometry on numpy arrays, xyxy pixels, image y growing downward.

Every function takes boxes as an array whose last axis is (x0, y0, x1, y1) and works
on any leading shape, so the same code serves one box, a list of boxes and the
broadcast pairs ``boxes[:, None]`` x ``boxes[None, :]`` that relation matrices need.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from primitives.errors import BoxError

Box = Sequence[float]


def validate_boxes(boxes: object, what: str = "proposal") -> np.ndarray:
    """Return boxes as a float64 (N, 4) array, or raise ``BoxError`` naming the bad one."""
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise BoxError(f"{what} boxes must be numbers [x0, y0, x1, y1]: {exc}") from None
    if arr.size == 0:
        raise BoxError(f"no {what}s: at least one box is needed")
    if arr.ndim == 1 and arr.size == 4:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise BoxError(
            f"{what} boxes must have shape (N, 4) as [x0, y0, x1, y1]; got shape {arr.shape}"
        )
    for i, box in enumerate(arr):
        if not np.all(np.isfinite(box)):
            raise BoxError(f"{what} {i} has a NaN or infinite coordinate: {box.tolist()}")
        if box[2] < box[0] or box[3] < box[1]:
            raise BoxError(
                f"{what} {i} is reversed (x1 < x0 or y1 < y0): {box.tolist()}; "
                "boxes are [x0, y0, x1, y1] in pixels"
            )
        if box[2] == box[0] or box[3] == box[1]:
            raise BoxError(f"{what} {i} has zero area: {box.tolist()}")
    return arr


def widths(b: np.ndarray) -> np.ndarray:
    return b[..., 2] - b[..., 0]


def heights(b: np.ndarray) -> np.ndarray:
    return b[..., 3] - b[..., 1]


def areas(b: np.ndarray) -> np.ndarray:
    return widths(b) * heights(b)


def centres_x(b: np.ndarray) -> np.ndarray:
    return (b[..., 0] + b[..., 2]) / 2.0


def centres_y(b: np.ndarray) -> np.ndarray:
    return (b[..., 1] + b[..., 3]) / 2.0


def centres(b: np.ndarray) -> np.ndarray:
    return np.stack([centres_x(b), centres_y(b)], axis=-1)


def diagonals(b: np.ndarray) -> np.ndarray:
    return np.hypot(widths(b), heights(b))


def intersection_areas(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Area of a ∩ b, broadcasting over leading axes."""
    w = np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0])
    h = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    return np.clip(w, 0, None) * np.clip(h, 0, None)


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union, broadcasting; ReCLIP counts IoU > 0.5 as correct."""
    inter = intersection_areas(a, b)
    union = areas(a) + areas(b) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def gap_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance between the nearest points of two boxes (0 when they touch)."""
    dx = np.clip(np.maximum(a[..., 0], b[..., 0]) - np.minimum(a[..., 2], b[..., 2]), 0, None)
    dy = np.clip(np.maximum(a[..., 1], b[..., 1]) - np.minimum(a[..., 3], b[..., 3]), 0, None)
    return np.hypot(dx, dy)


def sample_points(b: np.ndarray, per_side: int = 8) -> np.ndarray:
    """Cell centres of a per_side x per_side grid in each box: shape (..., per_side**2, 2)."""
    t = (np.arange(per_side) + 0.5) / per_side
    xs = b[..., 0, None] + t * widths(b)[..., None]            # (..., k)
    ys = b[..., 1, None] + t * heights(b)[..., None]           # (..., k)
    gx = np.repeat(xs[..., :, None], per_side, axis=-1)        # (..., k, k)
    gy = np.repeat(ys[..., None, :], per_side, axis=-2)        # (..., k, k)
    return np.stack([gx, gy], axis=-1).reshape(*b.shape[:-1], per_side * per_side, 2)


def in_hull_of_two_boxes(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether each point lies in the convex hull of boxes a and b.

    The hull of two axis-aligned boxes is the union over t in [0, 1] of the box
    t·a + (1-t)·b, so a point is inside iff some t satisfies four linear
    inequalities at once: intersect their t-intervals with [0, 1].
    ``points`` is (..., P, 2); a and b broadcast against (..., 4).
    """
    lo = np.zeros(np.broadcast_shapes(points.shape[:-1], a.shape[:-1] + (1,), b.shape[:-1] + (1,)))
    hi = np.ones_like(lo)
    for axis in (0, 1):
        p = points[..., axis]
        for lower, edge in ((True, axis), (False, axis + 2)):
            ea = a[..., edge, None]
            eb = b[..., edge, None]
            d = ea - eb                                    # edge(t) = eb + t·d
            rhs = p - eb
            # lower edge: eb + t·d <= p ; upper edge: eb + t·d >= p
            sign = 1.0 if lower else -1.0
            dd, rr = sign * d, sign * rhs                  # constraint: t·dd <= rr
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = np.where(dd != 0, rr / np.where(dd != 0, dd, 1), 0.0)
            hi = np.where(dd > 0, np.minimum(hi, bound), hi)
            lo = np.where(dd < 0, np.maximum(lo, bound), lo)
            never = (dd == 0) & (rr < 0)
            hi = np.where(never, -1.0, hi)
    return lo <= hi
