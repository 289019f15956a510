"""Detector boxes in pixels, and the rule that scores proposals the detector did not propose.

The foreign-proposal rule: a proposal gets the score of the predicted box that overlaps it
most (highest IoU), plus log(IoU):

    score(p, t) = logit(k*, t) + log(max(IoU(p, k*), IOU_FLOOR)),  k* = argmax_k IoU(p, k)

Why: the detector has judged exactly one region per prediction; the one closest to the
proposal is its opinion of that region, and log(IoU) discounts it by how far the region is
from the proposal (in probability terms, sigmoid-ish score times IoU). A proposal that *is*
a predicted box (the detector's own proposal source) has IoU 1 with it, so it scores exactly
as that box did. Choosing by IoU alone, not by score, keeps a foreign box from borrowing the
score of a better-scoring neighbour that covers another object.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from interpreter import Proposal

IOU_FLOOR = 1e-3   # log(1e-3) ~ -6.9: a proposal touching no predicted box is unlikely, not impossible


def cxcywh_to_xyxy(boxes: np.ndarray, scale_x: float, scale_y: float, width: int, height: int) -> np.ndarray:
    """Normalised (cx, cy, w, h) -> pixel [x0, y0, x1, y1], clamped to the image."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    x0, x1 = (b[:, 0] - b[:, 2] / 2) * scale_x, (b[:, 0] + b[:, 2] / 2) * scale_x
    y0, y1 = (b[:, 1] - b[:, 3] / 2) * scale_y, (b[:, 1] + b[:, 3] / 2) * scale_y
    out = np.stack([np.clip(x0, 0, width), np.clip(y0, 0, height), np.clip(x1, 0, width), np.clip(y1, 0, height)], 1)
    # float32 values, so a box written to JSON and read back is the same box (exact own scores)
    return out.astype(np.float32).astype(np.float64)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes; 0 where a union is empty."""
    a, b = np.asarray(a, np.float64).reshape(-1, 4), np.asarray(b, np.float64).reshape(-1, 4)
    w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def proposal_scores(pred_boxes: np.ndarray, pred_logits: np.ndarray,
                    proposals: Sequence[Proposal]) -> np.ndarray:
    """(T, N) scores of ``proposals`` from (T, K) logits of K predicted boxes (the rule above)."""
    logits = np.asarray(pred_logits, dtype=np.float64).reshape(-1, len(pred_boxes))
    if not len(proposals):
        return np.zeros((logits.shape[0], 0), dtype=np.float32)
    iou = iou_matrix(np.array([p.box for p in proposals]), pred_boxes)    # (N, K)
    best = iou.argmax(axis=1)
    overlap = iou[np.arange(len(proposals)), best]
    return (logits[:, best] + np.log(np.maximum(overlap, IOU_FLOOR))[None, :]).astype(np.float32)


def nms_order(boxes: np.ndarray, scores: np.ndarray, iou: float, limit: int) -> list[int]:
    """Indices of ``boxes`` kept by greedy NMS at ``iou``, best score first, at most ``limit``;
    boxes of zero area are never kept."""
    boxes = np.asarray(boxes, dtype=np.float64)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    order = [int(i) for i in np.argsort(-np.asarray(scores), kind="stable") if areas[i] > 0]
    kept: list[int] = []
    while order and len(kept) < limit:
        i = order.pop(0)
        kept.append(i)
        if order:
            over = iou_matrix(boxes[i:i + 1], boxes[order])[0]
            order = [j for j, o in zip(order, over) if o <= iou]
    return kept
