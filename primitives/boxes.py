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


def is_number(value: object) -> bool:
    """A real number as a coordinate: an int or float, not a bool (True is no coordinate), not NaN."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def xywh_to_xyxy(box: object, what: str = "bbox", error: type[BoxError] | type = BoxError
                 ) -> tuple[float, float, float, float]:
    """A COCO ``[x, y, width, height]`` as ``(x0, y0, x1, y1)``: the one reader of that layout (detection
    results, annotations, proposal files). Four finite numbers with a positive width and height,
    else ``error`` (a ReclipError class) naming ``what``: an empty box can never be the answer."""
    if not isinstance(box, (list, tuple)) or len(box) != 4 or not all(is_number(v) for v in box):
        raise error(f"{what} must be 4 numbers [x, y, width, height], got {box!r}")
    x, y, w, h = (float(v) for v in box)
    if not all(np.isfinite((x, y, w, h))) or w <= 0 or h <= 0:
        raise error(f"{what} [x, y, width, height] needs finite numbers and a positive width and height, got {box!r}")
    return (x, y, x + w, y + h)


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


def hull_areas(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Exact area of a ∩ hull(b ∪ c), the convex hull of two boxes, broadcasting.

    The hull is the bounding box of b and c minus at most one right triangle at each
    of its four corners: at the (max x, max y) corner, say, the hull's edge joins the
    two boxes' (x1, y1) corners when one box reaches max x and the other max y. So
    area(a ∩ hull) = area(a ∩ bbox) - Σ over corners of area(a ∩ triangle), each in
    closed form (``_corner_triangle_areas``).
    """
    bbox = np.stack([np.minimum(b[..., 0], c[..., 0]), np.minimum(b[..., 1], c[..., 1]),
                     np.maximum(b[..., 2], c[..., 2]), np.maximum(b[..., 3], c[..., 3])], axis=-1)
    in_bbox = intersection_areas(a, bbox)
    total = in_bbox
    for x_edge, y_edge in ((0, 1), (0, 3), (2, 1), (2, 3)):
        total = total - _corner_triangle_areas(a, b, c, x_edge, y_edge)
    # the subtraction leaves rounding dust (where the true area is 0, or all of a): snap it
    return np.where(total > 1e-9 * areas(a), np.minimum(total, in_bbox), 0.0)


def _corner_triangle_areas(a: np.ndarray, b: np.ndarray, c: np.ndarray, x_edge: int, y_edge: int) -> np.ndarray:
    """Area of a ∩ the triangle the hull of b and c cuts off one corner of their bbox.

    Local coordinates run from that corner inward: u along x, v along y. The triangle
    is {u, v >= 0, u/A + v/B <= 1}; its legs are A = how far the box reaching the
    corner's y stops short of the corner's x, and B likewise. The area of
    [0, u] x [0, v] ∩ triangle is AB/2 · (1 - (1-u/A)₊² - (1-v/B)₊² + (1-u/A-v/B)₊²)
    (the triangle less the similar triangles beyond u and beyond v, plus the one beyond
    both); over a rectangle [u0, u1] x [v0, v1] by inclusion-exclusion, all terms but
    the last cancel.
    """
    sx = 1.0 if x_edge == 2 else -1.0   # +1: the corner is at max x
    sy = 1.0 if y_edge == 3 else -1.0
    bx, cx, by, cy = sx * b[..., x_edge], sx * c[..., x_edge], sy * b[..., y_edge], sy * c[..., y_edge]
    corner_x, corner_y = np.maximum(bx, cx), np.maximum(by, cy)
    leg_a = corner_x - np.where(by >= cy, bx, cx)
    leg_b = corner_y - np.where(bx >= cx, by, cy)
    ok = (leg_a > 0) & (leg_b > 0)
    inv_a = np.where(ok, 1.0 / np.where(ok, leg_a, 1.0), 0.0)
    inv_b = np.where(ok, 1.0 / np.where(ok, leg_b, 1.0), 0.0)
    # a's extent in local coordinates, scaled by the legs, clipped to u, v >= 0
    u0 = np.clip(corner_x - sx * a[..., x_edge], 0, None) * inv_a
    u1 = np.clip(corner_x - sx * a[..., 2 - x_edge], 0, None) * inv_a
    v0 = np.clip(corner_y - sy * a[..., y_edge], 0, None) * inv_b
    v1 = np.clip(corner_y - sy * a[..., 4 - y_edge], 0, None) * inv_b
    beyond = lambda u, v: np.square(np.clip(1.0 - u - v, 0, None))  # noqa: E731
    return 0.5 * np.where(ok, leg_a * leg_b, 0.0) * (beyond(u1, v1) - beyond(u0, v1) - beyond(u1, v0) + beyond(u0, v0))
