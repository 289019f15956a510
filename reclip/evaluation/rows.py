"""One prediction row of a referring-expression run: the answer, its IoU, its structure
kind, the cause of a failure, and the mask figures when masks are compared."""

from __future__ import annotations

from typing import Any

import numpy as np

from grammar.forms import STRUCTURE_KINDS as KINDS  # noqa: F401 (read from here)
from grammar.forms import node_key, structure_kind  # noqa: F401 (structure_kind: read from here)
from interpreter import Result
from primitives import iou
from reclip.datasets import RefRecord
from reclip.masks import decode_mask, encode_mask
from reclip.report.diagnose import diagnose

IOU_THRESHOLD = 0.5          # correct when IoU > 0.5 (ReCLIP's rule)


def base_row(record: RefRecord, program: str | None, kind: str) -> dict[str, Any]:
    return {"sent_id": record.sent_id, "ref_id": record.ref_id, "image_id": record.image_id,
            "ann_id": record.ann_id, "expression": record.expression, "program": program, "kind": kind}


def result_row(record: RefRecord, kind: str, result: Result | None, boxes: np.ndarray,
               masks: bool, program: str | None = None) -> dict[str, Any]:
    """The row of one scored expression; ``result`` None when there were no proposals
    (then it is wrong: index null, IoU 0, cause ``no_overlap``)."""
    row = base_row(record, str(result.program) if result is not None else program, kind)
    if result is None:
        row.update(index=None, box=None, iou=0.0, correct=False, cause="no_overlap")
    else:
        overlap = answer_iou(result.box, record)
        correct = is_correct(overlap)
        row.update(index=result.index, box=[float(v) for v in result.box], iou=overlap,
                   correct=correct, cause=failure_cause(result, record, boxes, correct))
    if masks and record.gold_mask is not None:
        row.update(mask_row(record, None if result is None else result.mask))
    return row


def answer_iou(box, record: RefRecord) -> float:
    """IoU of an answer's box with the record's gold box."""
    gold = np.asarray(record.gold_box, dtype=np.float64)[None, :]
    return float(iou(np.asarray(box, dtype=np.float64)[None, :], gold)[0])


def is_correct(overlap: float) -> bool:
    """ReCLIP's rule, the one place it is applied: IoU strictly greater than 0.5."""
    return overlap > IOU_THRESHOLD


def failure_cause(result: Result, record: RefRecord, boxes: np.ndarray, correct: bool) -> str:
    """``correct``; ``no_overlap`` (no proposal has IoU > 0.5 with the gold: the proposals
    failed); ``NODE:PRIMITIVE`` (the node that removed the gold, as the trace diagnosis
    finds it: ``relate:left_of``, ``superlative:leftmost``, ``and``); else ``find`` (CLIP
    preferred another object at the referent's find)."""
    if correct:
        return "correct"
    gold = np.asarray(record.gold_box, dtype=np.float64)[None, :]
    if not len(boxes) or not is_correct(float(iou(boxes, gold).max())):
        return "no_overlap"
    d = diagnose(result, list(record.gold_box))
    if d.lost_at is None:
        return "find"
    return node_key(result.trace.steps[d.lost_at].node)


def mask_row(record: RefRecord, predicted: np.ndarray | None) -> dict[str, Any]:
    """Pixel counts against the gold mask; no predicted mask = IoU 0 and the gold's area in the union."""
    gold = decode_mask(record.gold_mask)
    if predicted is None or predicted.shape != gold.shape:
        inter, union, rle = 0, int(gold.sum()), None
    else:
        inter = int(np.logical_and(gold, predicted).sum())
        union = int(np.logical_or(gold, predicted).sum())
        rle = encode_mask(predicted)
    return {"mask_iou": inter / union if union else 0.0, "mask_intersection": inter,
            "mask_union": union, "mask": rle}
