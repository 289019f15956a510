"""A run's figures, from its files alone (``run.json``, ``predictions.jsonl``, ``skipped.jsonl``),
so shard outputs merge by concatenating them and summarising again.

Accuracy counts IoU > 0.5 with the gold box (ReCLIP's rule) over every scored expression;
an expression with no proposals is scored (wrong), not dropped. With masks, mIoU is the
mean per-expression mask IoU and oIoU the cumulative intersection over the cumulative
union; an expression without a predicted mask counts with IoU 0 and its gold area in the union.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from reclip.datasets import sort_key
from reclip.evaluation.config import GT, PREDICTIONS, SKIPPED, read_run
from reclip.evaluation.loop import read_rows
from reclip.evaluation.rows import IOU_THRESHOLD, KINDS
from reclip.evaluation.tables import markdown_table, percent
from reclip.files import write_text

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"


def unique_rows(path: Path, *fields: str) -> list[dict[str, Any]]:
    """A jsonl file's rows, one per sent_id (and ``fields``; the first), sorted by sent_id: the
    figures then do not depend on the order rows were written in (resume, shards)."""
    rows: dict[Any, dict[str, Any]] = {}
    for row in read_rows(path):
        key = json.dumps([row.get("sent_id"), *(row.get(f) for f in fields)])
        rows.setdefault(key, row)
    return sorted(rows.values(), key=lambda r: (sort_key(r.get("sent_id")), *(str(r.get(f)) for f in fields)))


def summarize(out: str | Path) -> dict[str, Any]:
    """The figures of the run in ``out``."""
    out = Path(out)
    run = read_run(out)
    rows = unique_rows(out / PREDICTIONS)
    skipped = unique_rows(out / SKIPPED, "reason")
    n = len(rows)
    summary: dict[str, Any] = {
        "dataset": run.get("dataset"), "files": run.get("files"), "split": run.get("split"),
        "n": n,
        "skipped": {"count": len(skipped), "reasons": dict(sorted(Counter(s.get("reason") for s in skipped).items()))},
        "accuracy": _mean(float(bool(r["correct"])) for r in rows),
        "iou_threshold": IOU_THRESHOLD, "iou_rule": ">",
        "mean_iou": _mean(float(r["iou"]) for r in rows),
        "proposals": run.get("proposals"), "models": run.get("models"), "methods": run.get("methods"),
        "baseline": run.get("baseline"), "limit": run.get("limit"), "shard": run.get("shard"),
        "by_kind": _by_kind(rows),
        "causes": dict(sorted(Counter(r["cause"] for r in rows).items(), key=lambda kv: (-kv[1], kv[0]))),
    }
    masked = [r for r in rows if "mask_union" in r]
    if run.get("masks") or masked:
        union = sum(int(r["mask_union"]) for r in masked)
        summary.update(n_masks=len(masked), miou=_mean(float(r["mask_iou"]) for r in masked),
                       oiou=sum(int(r["mask_intersection"]) for r in masked) / union if union else 0.0)
    return summary


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _by_kind(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
    kinds += sorted({r["kind"] for r in rows} - set(KINDS))
    return {k: {"n": sum(r["kind"] == k for r in rows),
                "accuracy": _mean(float(bool(r["correct"])) for r in rows if r["kind"] == k)} for k in kinds}


def markdown(summary: dict[str, Any]) -> str:
    """summary.md: the conventions in words, then the figures as tables."""
    gt = summary["proposals"] == GT
    files = summary.get("files") or {}
    name = files.get("dataset") or Path(files.get("annotations") or "").name
    title = " ".join(str(v) for v in (summary["dataset"], name, summary.get("split")) if v)
    lines = [f"# reclip eval {title}", ""]
    if gt:
        lines += ["**proposals: ground-truth boxes (gt)** — not a detector setting; ReCLIP's paper "
                  "figures use detections.", ""]
    else:
        lines += [f"proposals: detections from `{summary['proposals']}` (matched by image id; an image "
                  "without detections has no proposals and counts as wrong)", ""]
    system = "CLIP alone (the whole expression as one find; ReCLIP's baseline)" if summary["baseline"] \
        else "compiled program + interpreter"
    lines += [f"system: {system}; models: {', '.join(summary['models'] or [])}; "
              f"methods: {', '.join(summary['methods'] or [])}", "",
              "Acc@0.5 counts IoU > 0.5 (ReCLIP's rule) against the gold box, over every scored "
              "expression; an expression with no proposals is wrong, never dropped.", ""]
    header, row = ["n", "Acc@0.5", "mean IoU", "skipped"], [
        str(summary["n"]), percent(summary["accuracy"], bold=True), f"{summary['mean_iou']:.3f}",
        str(summary["skipped"]["count"])]
    if "miou" in summary:
        header += ["mIoU", "oIoU"]
        row += [percent(summary["miou"]), percent(summary["oiou"])]
        lines += ["mIoU is the mean per-expression mask IoU, oIoU the cumulative intersection over the "
                  "cumulative union; an expression without a predicted mask counts with IoU 0 and its "
                  "gold area in the union.", ""]
    lines += [markdown_table(header, ["---:"] * len(header), [row]), "", "## By structure kind", ""]
    lines += [markdown_table(["kind", "n", "Acc@0.5"], ["---", "---:", "---:"],
                             [[k, str(v["n"]), percent(v["accuracy"])] for k, v in summary["by_kind"].items()])]
    lines += ["", "## Causes", "", "no_overlap: no proposal has IoU > 0.5 with the gold (the proposals "
              "failed); find: CLIP preferred another object at the referent's find; NODE:PRIMITIVE: "
              "the node that removed the gold; compile_error: the expression did not compile (wrong).", ""]
    lines += [markdown_table(["cause", "count"], ["---", "---:"],
                             [[c, str(k)] for c, k in summary["causes"].items()])]
    reasons = summary["skipped"]["reasons"]
    if reasons:
        lines += ["", "## Skipped", "", markdown_table(["reason", "count"], ["---", "---:"],
                                                       [[r, str(k)] for r, k in reasons.items()])]
    return "\n".join(lines) + "\n"


def write_summary(out: str | Path) -> dict[str, Any]:
    """Write ``OUT/summary.json`` and ``OUT/summary.md``; returns the summary."""
    out = Path(out)
    summary = summarize(out)
    write_text(out / SUMMARY_JSON, json.dumps(summary, indent=2) + "\n")
    write_text(out / SUMMARY_MD, markdown(summary))
    return summary
