"""A run's figures, from its files alone (``run.json``, ``predictions.jsonl``, ``skipped.jsonl``),
so shard outputs merge by concatenating them and summarising again: the standard evaluators
(``evaluators.py``) and the dataset format's own run over the rows, sorted by sent_id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from primitives import RegistryError
from reclip.datasets import FORMATS, DatasetFormat, sort_key
from reclip.evaluation.config import GT, PREDICTIONS, SKIPPED, read_run
from reclip.evaluation.evaluators import Evaluator, Skipped, run_evaluators, standard_evaluators
from reclip.evaluation.loop import read_rows
from reclip.evaluation.tables import markdown_table, percent
from reclip.files import write_text

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
RUN_FIELDS = ("dataset", "files", "split", "proposals", "models", "methods", "baseline", "limit", "shard")


def unique_rows(path: Path, *fields: str) -> list[dict[str, Any]]:
    """A jsonl file's rows, one per sent_id (and ``fields``; the first), sorted by sent_id: the
    figures then do not depend on the order rows were written in (resume, shards)."""
    rows: dict[Any, dict[str, Any]] = {}
    for row in read_rows(path):
        key = json.dumps([row.get("sent_id"), *(row.get(f) for f in fields)])
        rows.setdefault(key, row)
    return sorted(rows.values(), key=lambda r: (sort_key(r.get("sent_id")), *(str(r.get(f)) for f in fields)))


def dataset_format(name: Any) -> DatasetFormat | None:
    """The registered format of a run (None when it is not registered in this process)."""
    try:
        return FORMATS.get(name) if isinstance(name, str) else None
    except RegistryError:
        return None


def evaluators_of(run: dict[str, Any]) -> list[Evaluator]:
    """The standard evaluators, then the run's dataset format's own."""
    fmt = dataset_format(run.get("dataset"))
    return standard_evaluators(bool(run.get("masks"))) + [make() for make in (fmt.evaluators if fmt else ())]


def summarize(out: str | Path) -> dict[str, Any]:
    """The figures of the run in ``out``."""
    out = Path(out)
    run = read_run(out)
    summary: dict[str, Any] = {k: run.get(k) for k in RUN_FIELDS}
    summary.update(run_evaluators([Skipped()], unique_rows(out / SKIPPED, "reason")))
    summary.update(run_evaluators(evaluators_of(run), unique_rows(out / PREDICTIONS)))
    return summary


def title(summary: dict[str, Any]) -> str:
    """The dataset, the names of the files its format declares as its title, the split."""
    fmt = dataset_format(summary.get("dataset"))
    files = summary.get("files") or {}
    names = [Path(str(files[k])).name for k in (fmt.title if fmt else ()) if files.get(k)]
    return " ".join(str(v) for v in (summary["dataset"], *names, summary.get("split")) if v)


def proposals_lines(summary: dict[str, Any]) -> list[str]:
    fmt = dataset_format(summary.get("dataset"))
    if fmt is not None and fmt.proposals is not None:
        return [f"proposals: {fmt.proposals_note or fmt.proposals}", ""]
    if summary["proposals"] == GT:
        return ["**proposals: ground-truth boxes (gt)** — not a detector setting; ReCLIP's paper "
                "figures use detections.", ""]
    return [f"proposals: detections from `{summary['proposals']}` (matched by image id; an image "
            "without detections has no proposals and counts as wrong)", ""]


def markdown(summary: dict[str, Any]) -> str:
    """summary.md: the conventions in words, then the figures as tables."""
    lines = [f"# reclip eval {title(summary)}", ""] + proposals_lines(summary)
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
    lines += [markdown_table(header, ["---:"] * len(header), [row]), ""]
    fmt = dataset_format(summary.get("dataset"))
    for make in fmt.evaluators if fmt else ():   # a format's evaluator may add its own section
        section = getattr(make(), "markdown", None)
        if section is not None:
            lines += [section(summary), ""]
    lines += ["## By kind", ""]
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
