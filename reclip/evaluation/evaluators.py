"""Metrics as evaluators over the rows (detectron2's ``DatasetEvaluator`` is the model):
``reset()``, ``process(rows, outputs)`` as often as rows come, ``evaluate() -> dict`` of figures
merged into the summary. The summary runs them over a run's files, so figures never depend on
the order rows were written in (resume, shards); an observer of the loop (a failure gallery)
follows the same protocol and also gets the outputs behind fresh rows.

Accuracy counts IoU > 0.5 with the gold box (ReCLIP's rule) over every scored expression; an
expression with no proposals is scored (wrong), not dropped. With masks, mIoU is the mean
per-expression mask IoU and oIoU the cumulative intersection over the cumulative union; an
expression without a predicted mask counts with IoU 0 and its gold area in the union.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable, Protocol, Sequence

from reclip.evaluation.rows import IOU_THRESHOLD, KINDS

Row = dict[str, Any]


class Evaluator(Protocol):
    def reset(self) -> None: ...

    def process(self, rows: Sequence[Row], outputs: Sequence[Any] | None = None) -> None: ...

    def evaluate(self) -> dict[str, Any]: ...


def mean(values: Iterable[float]) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


class RowEvaluator:
    """An evaluator that keeps the rows it is given and computes its figures from them at the end."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def reset(self) -> None:
        self.rows = []

    def process(self, rows: Sequence[Row], outputs: Sequence[Any] | None = None) -> None:
        self.rows.extend(rows)


class Accuracy(RowEvaluator):
    """``n``, ``accuracy`` (Acc@0.5, IoU > 0.5) and ``mean_iou``, with the rule that counts."""

    def evaluate(self) -> dict[str, Any]:
        return {"n": len(self.rows), "accuracy": mean(float(bool(r["correct"])) for r in self.rows),
                "iou_threshold": IOU_THRESHOLD, "iou_rule": ">",
                "mean_iou": mean(float(r["iou"]) for r in self.rows)}


class ByKind(RowEvaluator):
    """``by_kind``: n and accuracy per kind (the structure kinds first, in their order)."""

    def evaluate(self) -> dict[str, Any]:
        rows = self.rows
        kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
        kinds += sorted({r["kind"] for r in rows} - set(KINDS))
        return {"by_kind": {k: {"n": sum(r["kind"] == k for r in rows),
                                "accuracy": mean(float(bool(r["correct"])) for r in rows if r["kind"] == k)}
                            for k in kinds}}


class Causes(RowEvaluator):
    """``causes``: how many rows per failure cause (``correct`` included), most frequent first."""

    def evaluate(self) -> dict[str, Any]:
        counts = Counter(r["cause"] for r in self.rows)
        return {"causes": dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}


class MaskIoU(RowEvaluator):
    """``n_masks``, ``miou`` and ``oiou`` over the rows with mask figures; only when the run
    compares masks (``masks``) or some row has them."""

    def __init__(self, masks: bool) -> None:
        super().__init__()
        self.masks = masks

    def evaluate(self) -> dict[str, Any]:
        masked = [r for r in self.rows if "mask_union" in r]
        if not (self.masks or masked):
            return {}
        union = sum(int(r["mask_union"]) for r in masked)
        return {"n_masks": len(masked), "miou": mean(float(r["mask_iou"]) for r in masked),
                "oiou": sum(int(r["mask_intersection"]) for r in masked) / union if union else 0.0}


class Skipped(RowEvaluator):
    """``skipped``: the count of skipped records and how many per reason (fed the skip rows)."""

    def evaluate(self) -> dict[str, Any]:
        reasons = Counter(s.get("reason") for s in self.rows)
        return {"skipped": {"count": len(self.rows), "reasons": dict(sorted(reasons.items()))}}


def standard_evaluators(masks: bool) -> list[Evaluator]:
    """The figures of every run: accuracy, by kind, causes, and the mask figures."""
    return [Accuracy(), ByKind(), Causes(), MaskIoU(masks)]


def run_evaluators(evaluators: Sequence[Evaluator], rows: Sequence[Row]) -> dict[str, Any]:
    """reset, process every row, evaluate: the evaluators' figures in one dict."""
    figures: dict[str, Any] = {}
    for evaluator in evaluators:
        evaluator.reset()
        evaluator.process(rows, None)
        figures.update(evaluator.evaluate())
    return figures
