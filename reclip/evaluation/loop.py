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
from typing import Any, Callable, Iterable, Sequence, TextIO

from tqdm import tqdm

from primitives import ReclipError
from reclip.files import make_folder

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
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
    return rows


def repair_tail(path: Path) -> None:
    """Cut a line left unfinished by an interrupted run, so appended rows start on a line of their own."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        f.seek(-1, 2)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)


def append_rows(path: Path) -> TextIO:
    """``path`` opened for appending JSON lines (after ``repair_tail``)."""
    repair_tail(path)
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise ReclipError(f"cannot write {path}: {exc.strerror or exc}") from None


def write_row(f: TextIO, row: Row) -> None:
    f.write(json.dumps(row) + "\n")


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
        results_file = append_rows(out / RESULTS)
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
                write_row(results_file, row)
                results_file.flush()
    finally:
        if results_file:
            results_file.close()
