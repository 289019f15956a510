"""``reclip eval compare``: two runs side by side, and the expressions that flipped.

First come the recorded settings the two runs differ in (``run.json``, the resolved ones
included: model files' hashes, scorer options, proposal settings, reclip version, grammar).
Figures come from each run's files (``summary.summarize``), so a comparison never reads a
stale summary. Expressions are joined by ``sent_id``; a flip is an expression right in one
run and wrong in the other. Runs whose proposals differ (ground-truth boxes against a
detections file, say) are compared, but the report says so first and loudly: such a
difference is about the proposals, not the reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from primitives import ReclipError
from reclip.evaluation.config import PREDICTIONS, read_run, settings_differ
from reclip.evaluation.summary import summarize, unique_rows
from reclip.evaluation.tables import markdown_table, percent

CONVENTIONS = ("dataset", "split", "proposals", "models", "methods", "baseline", "iou_threshold", "iou_rule")
SHARES = ("accuracy", "mean_iou", "miou", "oiou")
FLIP_FIELDS = ("sent_id", "image_id", "expression")

Row = dict[str, Any]


@dataclass
class Comparison:
    """Run A against run B: their summaries, the rows of each table, the flips."""

    runs: tuple[str, str]
    summaries: tuple[dict, dict]
    conventions: list[tuple[str, Any, Any]]
    overall: list[tuple[str, Any, Any]]
    by_kind: list[tuple[str, dict, dict]]
    by_cause: list[tuple[str, int, int]]
    common: int
    only: tuple[int, int]
    right_to_wrong: list[Row] = field(default_factory=list)
    wrong_to_right: list[Row] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)     # "name (A vs B)" for each recorded setting that differs

    @property
    def proposals_differ(self) -> bool:
        return self.summaries[0].get("proposals") != self.summaries[1].get("proposals")


def run_summary(out: Path) -> dict:
    if not (out / PREDICTIONS).is_file():
        raise ReclipError(f"{out} is not an evaluation output (no {PREDICTIONS})")
    return summarize(out)


def figure(summary: dict, name: str) -> Any:
    """A summary's figure; ``skipped`` as its count."""
    value = summary.get(name)
    return value.get("count") if name == "skipped" and isinstance(value, Mapping) else value


def flat_counts(counts: Any, prefix: str = "") -> Iterator[tuple[str, int]]:
    """(name, count) of a counts mapping, nested ones named "outer / inner"; a mapping
    with an ``"n"`` is one count."""
    if isinstance(counts, Mapping):
        if isinstance(counts.get("n"), (int, float)):
            yield prefix, counts["n"]
            return
        for name, value in counts.items():
            yield from flat_counts(value, f"{prefix} / {name}" if prefix else str(name))
    elif isinstance(counts, (int, float)) and not isinstance(counts, bool):
        yield prefix, counts


def joined(keys_a: Sequence[str], keys_b: Sequence[str]) -> list[str]:
    """Keys of A in order, then those only in B."""
    return list(keys_a) + [k for k in keys_b if k not in keys_a]


def flips(a: Mapping[Any, Row], b: Mapping[Any, Row]) -> tuple[list[Row], list[Row]]:
    """(right in A and wrong in B, wrong in A and right in B), in A's order."""
    right_to_wrong, wrong_to_right = [], []
    for sent_id, row_a in a.items():
        row_b = b.get(sent_id)
        if row_b is None or bool(row_a.get("correct")) == bool(row_b.get("correct")):
            continue
        flip = {k: row_a.get(k) for k in FLIP_FIELDS}
        flip.update(a={k: row_a.get(k) for k in ("index", "iou", "cause")},
                    b={k: row_b.get(k) for k in ("index", "iou", "cause")})
        (right_to_wrong if row_a.get("correct") else wrong_to_right).append(flip)
    return right_to_wrong, wrong_to_right


def by_sent_id(out: Path) -> dict[Any, Row]:
    return {r.get("sent_id"): r for r in unique_rows(out / PREDICTIONS)}


def compare_runs(run_a: str | Path, run_b: str | Path) -> Comparison:
    """Compare two evaluation outputs (each a folder with predictions.jsonl)."""
    a, b = Path(run_a), Path(run_b)
    sa, sb = run_summary(a), run_summary(b)
    kinds_a, kinds_b = sa.get("by_kind") or {}, sb.get("by_kind") or {}
    causes_a, causes_b = dict(flat_counts(sa.get("causes") or {})), dict(flat_counts(sb.get("causes") or {}))
    rows_a, rows_b = by_sent_id(a), by_sent_id(b)
    common = rows_a.keys() & rows_b.keys()
    right_to_wrong, wrong_to_right = flips(rows_a, rows_b)
    return Comparison(
        runs=(str(a), str(b)), summaries=(sa, sb),
        conventions=[(k, sa.get(k), sb.get(k)) for k in CONVENTIONS],
        overall=[(k, figure(sa, k), figure(sb, k)) for k in ("n", "skipped", *SHARES)
                 if figure(sa, k) is not None or figure(sb, k) is not None],
        by_kind=[(k, kinds_a.get(k) or {}, kinds_b.get(k) or {}) for k in joined(list(kinds_a), list(kinds_b))],
        by_cause=[(k, causes_a.get(k, 0), causes_b.get(k, 0)) for k in joined(list(causes_a), list(causes_b))],
        common=len(common), only=(len(rows_a.keys() - common), len(rows_b.keys() - common)),
        right_to_wrong=right_to_wrong, wrong_to_right=wrong_to_right,
        settings=settings_differ(read_run(a), read_run(b), ignore=("shard", "limit")))


def _cell(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name == "mean_iou":
        return f"{value:.3f}"
    if name in SHARES:
        return percent(value)
    if isinstance(value, Mapping):
        return str(sum(n for _, n in flat_counts(value)))
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) if name in CONVENTIONS else str(len(value))
    return str(value)


def _delta(name: str, a: Any, b: Any) -> str:
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return ""
    if name == "mean_iou":
        return f"{b - a:+.3f}"
    if name in SHARES:
        return f"{100 * (b - a):+.1f}"
    return f"{b - a:+d}" if isinstance(a, int) and isinstance(b, int) else f"{b - a:+.3g}"


def _flip_lines(title: str, rows: Sequence[Row], show: int) -> list[str]:
    lines = [f"{title}: {len(rows)}"]
    for row in rows[:show]:
        iou_a, iou_b = row["a"].get("iou"), row["b"].get("iou")
        ious = f"IoU {iou_a:.2f} -> {iou_b:.2f}" if iou_a is not None and iou_b is not None else ""
        cause = row["b"].get("cause") or row["a"].get("cause") or ""
        lines.append(f"  {row['sent_id']}  image {row['image_id']}  {row['expression']!r}  {ious}"
                     + (f"  ({cause})" if cause else ""))
    if len(rows) > show:
        lines.append(f"  ... and {len(rows) - show} more")
    return lines


def format_comparison(c: Comparison, show: int = 20) -> str:
    """The comparison as text: warnings, conventions, overall, by kind, by cause, flips."""
    name_a, name_b = c.runs
    lines = [f"A: {name_a}", f"B: {name_b}", "", "## Settings that differ (from run.json)"]
    lines += [f"- {s}" for s in c.settings] or ["none: the runs were made with the same recorded settings"]
    lines += [""]
    if c.proposals_differ:
        lines += [f"WARNING: THE RUNS USE DIFFERENT PROPOSALS (A: {c.summaries[0].get('proposals')}, "
                  f"B: {c.summaries[1].get('proposals')}): differences below mix the proposal source "
                  "with the reasoning.", ""]
    if any(c.only):
        lines += [f"WARNING: the runs cover different expressions: {c.common} in both, "
                  f"{c.only[0]} only in A, {c.only[1]} only in B; flips are over the common ones.", ""]
    lines += ["## Conventions", markdown_table(
        ("", "A", "B"), ("---", "---", "---"),
        [(k, _cell(k, va), _cell(k, vb) + ("  <- differs" if va != vb else "")) for k, va, vb in c.conventions])]
    lines += ["", "## Overall", markdown_table(
        ("", "A", "B", "B - A"), ("---", "---:", "---:", "---:"),
        [(k, _cell(k, va), _cell(k, vb), _delta(k, va, vb)) for k, va, vb in c.overall])]
    lines += ["", "## By kind", markdown_table(
        ("kind", "n A", "accuracy A", "n B", "accuracy B", "B - A"), ("---",) + ("---:",) * 5,
        [(k, _cell("n", ka.get("n")), _cell("accuracy", ka.get("accuracy")),
          _cell("n", kb.get("n")), _cell("accuracy", kb.get("accuracy")),
          _delta("accuracy", ka.get("accuracy"), kb.get("accuracy"))) for k, ka, kb in c.by_kind])]
    lines += ["", "## By cause of failure", markdown_table(
        ("cause", "A", "B", "B - A"), ("---", "---:", "---:", "---:"),
        [(k, str(na), str(nb), _delta("n", na, nb)) for k, na, nb in c.by_cause])]
    lines += ["", "## Flips (joined by sent_id)"]
    lines += _flip_lines("right in A, wrong in B", c.right_to_wrong, show)
    lines += _flip_lines("wrong in A, right in B", c.wrong_to_right, show)
    return "\n".join(lines)
