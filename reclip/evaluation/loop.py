"""The evaluation loop, the same for every dataset (detectron2's ``inference_on_dataset`` is the
model): it knows nothing of any dataset.

Records go in grouped by image; ``Stages`` answers one image's records (one image load, one
scorer call): ``prepare`` (load, propose) then ``answer`` (compile, score, interpret); with
``workers`` the prepare stage runs ahead in threads, bounded, and rows stay in order. Rows are appended to ``OUT/predictions.jsonl`` and skips to
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
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable, Iterator, Protocol, Sequence, TextIO

from tqdm import tqdm

from primitives import ReclipError
from reclip.datasets import RefRecord, Skip, group_by_image
from reclip.evaluation.config import PREDICTIONS, SKIPPED
from reclip.files import parse_json

DUPLICATE = "duplicate_sent_id"
BAD_RECORD_ERRORS = (ReclipError, KeyError, TypeError, ValueError, OSError)

Row = dict[str, Any]
Answer = tuple[list[Row], list[Skip], list[Any]]


class Stages(Protocol):
    """How one image's records are answered, in two stages: ``prepare(group)`` (loading, decoding,
    proposals: CPU work, run ahead in worker threads) and ``answer(prepared)`` -> the rows, the
    records that could not be scored, and the outputs behind the rows (e.g. (Result, image,
    record) for a gallery), run in order on the loop's thread (the one that owns the models)."""

    def prepare(self, group: Sequence[RefRecord]) -> Any: ...

    def answer(self, prepared: Any) -> Answer: ...


class BatchingStages(Stages, Protocol):
    """Stages that also encode ahead: ``encode_ahead(prepared)`` takes the prepared images next in
    line (the first always, the others already prepared), encodes what it can of the first of
    them in one batch, and returns how many it covered; their answers then follow in order."""

    def encode_ahead(self, prepared: Sequence[Any]) -> int: ...


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


def run_loop(records: Sequence[RefRecord], skips: Sequence[Skip], stages: Stages, out: Path, *,
             observers: Sequence[Any] = (), progress: bool = True, desc: str = "eval",
             log: Callable[[str], None] = print, workers: int = 0) -> int:
    """Score ``records`` into ``out`` (resuming what is there); returns how many were scored now.

    ``skips`` are the entries the loader or the selection left out, recorded once each. With
    ``workers`` > 0 the prepare stage of the next images runs in that many threads while this one
    answers (at most 2 x workers images ahead: a bounded queue); rows are written in the same
    order, with the same content, as without."""
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
        for group, (rows, bad, outputs) in pipeline(list(group_by_image(todo).values()), stages, workers):
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


def pipeline(groups: Sequence[Sequence[RefRecord]], stages: Stages,
             workers: int = 0) -> Iterator[tuple[Sequence[RefRecord], Answer]]:
    """Each group with its answer, in order; prepared ahead by ``workers`` threads when > 0."""
    if workers <= 0:
        for group in groups:
            yield group, _guarded(lambda g=group: stages.answer(stages.prepare(g)), group)
        return
    ahead: deque[tuple[Sequence[RefRecord], Future]] = deque()
    pending = iter(groups)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reclip-prepare") as pool:
        try:
            for _ in range(2 * workers):
                _submit(pool, pending, ahead, stages)
            covered = 0
            while ahead:
                covered = covered or _encode_ahead(stages, ahead)
                covered -= 1
                group, future = ahead.popleft()
                _submit(pool, pending, ahead, stages)
                yield group, _guarded(lambda f=future: stages.answer(f.result()), group)
        finally:
            for _, future in ahead:      # interrupted: do not prepare what will not be answered
                future.cancel()


def _submit(pool: ThreadPoolExecutor, pending: Iterator, ahead: deque, stages: Stages) -> None:
    group = next(pending, None)
    if group is not None:
        ahead.append((group, pool.submit(stages.prepare, group)))


def _encode_ahead(stages: Stages, ahead: deque) -> int:
    """How many images in line the stages' batch encoding covered (1 when they do not batch):
    it is given the first image (waited for) and those after it already prepared."""
    encode = getattr(stages, "encode_ahead", None)
    if encode is None:
        return len(ahead)
    ready = []
    for n, (_, future) in enumerate(ahead):
        if n and not future.done():
            break
        try:
            ready.append(future.result())
        except Exception:        # noqa: BLE001 - a failed prepare is met again by its answer, guarded
            break
    if not ready:
        return 1
    try:
        return encode(ready)
    except BAD_RECORD_ERRORS:    # a bad record among them: each image is then answered on its own
        return 1


def _guarded(answer: Callable[[], Answer], group: Sequence[RefRecord]) -> Answer:
    """One image's answer; a bad record's error skips the group, named by its reason."""
    try:
        return answer()
    except BAD_RECORD_ERRORS as exc:
        return [], [Skip(r.sent_id, r.image_id, "bad_record", f"{type(exc).__name__}: {exc}") for r in group], []


def _replay(observers: Iterable[Any], out: Path, wanted: set[Any]) -> None:
    """Rows already in ``out`` go to the observers first (with no outputs behind them)."""
    rows = [r for r in read_rows(out / PREDICTIONS) if r.get("sent_id") in wanted]
    for observer in observers:
        observer.process(rows, [None] * len(rows))
