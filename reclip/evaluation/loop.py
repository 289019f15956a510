"""The evaluation loop, the same for every dataset: resume, progress, bad records.

A dataset brings its records (dicts with an ``"id"``) and a function that turns one
record into a results row; the loop writes rows to ``OUT/results.jsonl`` as it goes,
skips ids already there on a rerun (resume), and records a bad record (one whose
evaluation raises a ReclipError, KeyError, TypeError, ValueError or OSError) as a row
with its ``"error"`` and goes on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from tqdm import tqdm

from primitives import ReclipError
from reclip.files import make_folder, parse_json

RESULTS = "results.jsonl"
BAD_RECORD_ERRORS = (ReclipError, KeyError, TypeError, ValueError, OSError)

Row = dict[str, Any]


def read_rows(results: Path) -> list[Row]:
    """The rows of a results file; a line cut short by an interrupted run is left out (redone)."""
    rows: list[Row] = []
    if results.is_file():
        with results.open(encoding="utf-8") as f:
            for line in f:
                try:
                    rows.append(parse_json(line, str(results)))
                except ReclipError:
                    continue
    return rows


def limited(records: Sequence[Row], limit: int | None) -> Sequence[Row]:
    """The first ``limit`` records (all with None)."""
    if limit is None:
        return records
    if limit < 1:
        raise ReclipError(f"--limit must be at least 1, got {limit}")
    return records[:limit]


def run_records(records: Sequence[Row], evaluate: Callable[[Row], tuple[Row, Any]], *,
                out: str | Path | None, on_row: Callable[[Row, Row | None, Any], None],
                progress: bool = True, desc: str = "eval", log: Callable[[str], None] = print) -> None:
    """Evaluate ``records``, calling ``on_row(row, record, extra)`` for every row.

    ``evaluate(record) -> (row, extra)``; ``extra`` is handed to ``on_row`` (None for a bad
    record). With ``out``, rows already in ``out/results.jsonl`` for these records are
    handed to ``on_row`` first (with record None) and those records are not evaluated again.
    """
    done: set[Any] = set()
    results_file = None
    if out is not None:
        out = make_folder(out)
        wanted = {r.get("id") for r in records}
        for row in read_rows(out / RESULTS):
            done.add(row["id"])
            if row["id"] in wanted:
                on_row(row, None, None)
        if done & wanted:
            log(f"resuming: {len(done & wanted)} of {len(records)} records already in {out / RESULTS}")
        results_file = (out / RESULTS).open("a", encoding="utf-8")
    todo = [r for r in records if r.get("id") not in done]
    items: Iterable[Row] = tqdm(todo, desc=desc, unit="expr", file=sys.stderr) if progress else todo
    try:
        for record in items:
            try:
                row, extra = evaluate(record)
            except BAD_RECORD_ERRORS as exc:
                row, extra = {"id": record.get("id"), "kind": record.get("kind"),
                              "error": f"{type(exc).__name__}: {exc}"}, None
            on_row(row, record, extra)
            if results_file:
                results_file.write(json.dumps(row) + "\n")
                results_file.flush()
    finally:
        if results_file:
            results_file.close()
