"""The evaluation loop, the same for every dataset (detectron2's ``inference_on_dataset`` is the
model): it knows nothing of any dataset.

Records go in grouped by image; ``score(group) -> (rows, skips)`` answers one image's records
(one image load, one scorer call). Rows are appended to ``OUT/predictions.jsonl`` and skips to
``OUT/skipped.jsonl`` as they are made; a rerun into the same ``OUT`` leaves out the sent_ids
already there (resume); a group whose scoring raises a bad-record error (ReclipError, KeyError,
TypeError, ValueError, OSError) is recorded as skipped with its reason and the loop goes on;
tqdm shows progress. ``OUT`` is locked while a loop writes into it (``lock.py``), so two runs
never write rows twice. Observers (``Evaluator``s given the rows and the outputs behind them, e.g.
a failure gallery) see every row as it is made; the summary's evaluators read the files at the end.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence, TextIO

from tqdm import tqdm

from primitives import ReclipError
from reclip.datasets import RefRecord, Skip, group_by_image
from reclip.evaluation.config import PREDICTIONS, SKIPPED
from reclip.files import parse_json

DUPLICATE = "duplicate_sent_id"
BAD_RECORD_ERRORS = (ReclipError, KeyError, TypeError, ValueError, OSError)

Row = dict[str, Any]
# one image's records -> their rows, the records that could not be scored, and the outputs
# behind the rows (e.g. (Result, image) pairs for a gallery; None when there are none)
Score = Callable[[Sequence[RefRecord]], tuple[list[Row], list[Skip], list[Any]]]


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


def done_ids(out: Path) -> tuple[set[Any], set[tuple[Any, Any]]]:
    """The sent_ids already answered in ``out`` (scored or skipped), and the (sent_id, reason)
    of its skips. A duplicate's skip shares its sent_id with the record that is scored."""
    skips = {(row.get("sent_id"), row.get("reason")) for row in read_rows(out / SKIPPED)}
    done = {row.get("sent_id") for row in read_rows(out / PREDICTIONS)}
    return done | {sent_id for sent_id, reason in skips if reason != DUPLICATE}, skips


def run_loop(records: Sequence[RefRecord], skips: Sequence[Skip], score: Score, out: Path, *,
             observers: Sequence[Any] = (), progress: bool = True, desc: str = "eval",
             log: Callable[[str], None] = print) -> int:
    """Score ``records`` into ``out`` (resuming what is there); returns how many were scored now.

    ``skips`` are the entries the loader or the selection left out, recorded once each."""
    done, skips_done = done_ids(out)
    if done:
        log(f"resuming: {len(done)} expressions already in {out}")
    todo = [r for r in records if r.sent_id not in done]
    if observers:
        _replay(observers, out, {r.sent_id for r in records})
    with append_rows(out / PREDICTIONS) as predictions, append_rows(out / SKIPPED) as skipped:
        for skip in skips:
            if (skip.sent_id, skip.reason) not in skips_done:
                write_row(skipped, skip.to_dict())
        bar = tqdm(total=len(todo), desc=desc, unit="expr", file=sys.stderr, disable=not progress)
        for group in group_by_image(todo).values():
            rows, bad, outputs = _score_group(score, group)
            for row in rows:
                write_row(predictions, row)
            for skip in bad:
                write_row(skipped, skip.to_dict())
            predictions.flush()
            skipped.flush()
            for observer in observers:
                observer.process(rows, outputs)
            bar.update(len(group))
        bar.close()
    return len(todo)


def _score_group(score: Score, group: Sequence[RefRecord]) -> tuple[list[Row], list[Skip], list[Any]]:
    """One image's rows; a bad record's error skips the group, named by its reason."""
    try:
        return score(group)
    except BAD_RECORD_ERRORS as exc:
        return [], [Skip(r.sent_id, r.image_id, "bad_record", f"{type(exc).__name__}: {exc}") for r in group], []


def _replay(observers: Iterable[Any], out: Path, wanted: set[Any]) -> None:
    """Rows already in ``out`` go to the observers first (with no outputs behind them)."""
    rows = [r for r in read_rows(out / PREDICTIONS) if r.get("sent_id") in wanted]
    for observer in observers:
        observer.process(rows, [None] * len(rows))
