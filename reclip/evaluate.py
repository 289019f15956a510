"""Evaluation: ``reclip eval synthetic DATA_DIR [--limit N] [--out DIR] [--gallery DIR]``.

For every expression of a dataset written by ``reclip synth``, two systems answer
with the same scorer (same model, same isolated proposals, one embedding cache):

- **CLIP alone**: the whole expression as one ``find`` scored on each isolated
  proposal, no program (ReCLIP's baseline without its resolver);
- **full system**: ``compile_expression`` + the interpreter.

A third column runs the compiled program with the gold attributes instead of CLIP
(``reclip.synth.GoldAttributeScorer``): it separates the compiler's and the
resolver's mistakes from CLIP's.

A prediction is correct when it picks the gold proposal (the proposals are the gold
boxes of all objects, so this is the same as IoU > 0.5 with the gold box). Results go
to ``OUT/results.jsonl`` one line per record as it goes; a rerun skips the ids already
there (resume). A record that cannot be read (missing image, malformed fields) is
recorded with its error and skipped; a compile error counts as a wrong answer of the
full system. The Markdown table of accuracy per kind is printed and written to
``OUT/table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from grammar import parse_program
from grammar.ast import Find, Program
from interpreter import ProposalGraph, Result, Scorer, execute
from primitives import ReclipError
from reclip.images import load_image
from reclip.synth import (
    KINDS, GoldAttributeScorer, label_attributes, matches, phrase_attributes, read_records,
    record_proposals,
)

DEFAULT_OUT = Path("out") / "eval-synthetic"
SYSTEMS = ("clip", "full", "oracle")


@dataclass
class Tally:
    """Correct answers per kind for each system, plus two chance levels: picking any
    proposal (mean 1/#proposals) and picking among the look-alikes, the objects that fit
    the referent's own description ("circle" in "the circle left of the square"), which
    is where a model that sees attributes but not space ends up."""

    total: dict[str, int] = field(default_factory=dict)
    correct: dict[str, dict[str, int]] = field(default_factory=lambda: {s: {} for s in SYSTEMS})
    chance: dict[str, float] = field(default_factory=dict)
    lookalike: dict[str, float] = field(default_factory=dict)
    errors: int = 0

    def add(self, row: dict[str, Any]) -> None:
        if "error" in row:
            self.errors += 1
            return
        kind = row["kind"]
        self.total[kind] = self.total.get(kind, 0) + 1
        self.chance[kind] = self.chance.get(kind, 0.0) + 1.0 / row["proposals"]
        self.lookalike[kind] = self.lookalike.get(kind, 0.0) + 1.0 / max(1, row.get("lookalikes") or 1)
        for s in SYSTEMS:
            self.correct[s][kind] = self.correct[s].get(kind, 0) + int(bool(row[f"{s}_correct"]))

    def kinds(self) -> list[str]:
        known = [k for k in KINDS if k in self.total]
        return known + sorted(k for k in self.total if k not in KINDS)

    def accuracy(self, system: str, kind: str | None = None) -> float:
        if kind is None:
            n = sum(self.total.values())
            return sum(self.correct[system].values()) / n if n else 0.0
        return self.correct[system].get(kind, 0) / self.total[kind]

    def chance_rate(self, kind: str | None = None, table: str = "chance") -> float:
        values = getattr(self, table)
        if kind is None:
            n = sum(self.total.values())
            return sum(values.values()) / n if n else 0.0
        return values[kind] / self.total[kind]

    def markdown(self) -> str:
        lines = ["| kind | n | chance | chance among look-alikes | CLIP alone | full system "
                 "| program, gold attributes |",
                 "|---|---:|---:|---:|---:|---:|---:|"]
        for kind in self.kinds():
            lines.append(f"| {kind} | {self.total[kind]} | {100 * self.chance_rate(kind):.1f}% | "
                         f"{100 * self.chance_rate(kind, 'lookalike'):.1f}% | "
                         f"{100 * self.accuracy('clip', kind):.1f}% | {100 * self.accuracy('full', kind):.1f}% | "
                         f"{100 * self.accuracy('oracle', kind):.1f}% |")
        n = sum(self.total.values())
        lines.append(f"| **all** | {n} | {100 * self.chance_rate():.1f}% | "
                     f"{100 * self.chance_rate(None, 'lookalike'):.1f}% | "
                     f"**{100 * self.accuracy('clip'):.1f}%** | **{100 * self.accuracy('full'):.1f}%** | "
                     f"{100 * self.accuracy('oracle'):.1f}% |")
        return "\n".join(lines)


class _ImageCache:
    """The current scene's image, kept as one object so the scorer's cache hits."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.image = None

    def get(self, path: str):
        if path != self.path:
            self.image, self.path = load_image(path), path
        return self.image


def evaluate_record(record: dict[str, Any], scorer: Scorer, compile_fn: Callable[[str], Program],
                    images: _ImageCache) -> tuple[dict[str, Any], Result | None, Any]:
    """One record -> a results row (and the full system's Result and the image, for a gallery).

    Raises ReclipError (or KeyError/TypeError/ValueError) when the record itself is bad.
    """
    image = images.get(record["image_path"])
    proposals = record_proposals(record, masks=False)
    graph = ProposalGraph(proposals)
    gold = int(record["gold"])
    if not 0 <= gold < len(proposals):
        raise ReclipError(f"gold index {gold} is out of range for {len(proposals)} proposals")
    expression = record["expression"]
    alone = execute(Program(Find(expression)), graph, scorer, image)
    row: dict[str, Any] = {
        "id": record["id"], "kind": record["kind"], "expression": expression, "gold": gold,
        "proposals": len(proposals), "lookalikes": _lookalikes(record, proposals),
        "clip": alone.index, "clip_correct": alone.index == gold,
        "gold_program": record.get("program"),
    }
    full: Result | None = None
    try:
        program = compile_fn(expression)
    except ReclipError as exc:  # the compiler failing is the full system's failure
        row.update(full=None, full_correct=False, oracle=None, oracle_correct=False,
                   program=None, compile_error=str(exc))
        return row, None, image
    full = execute(program, graph, scorer, image)
    oracle = execute(program, graph, GoldAttributeScorer(), image)
    row.update(full=full.index, full_correct=full.index == gold, program=str(program),
               fallbacks=len(full.trace.fallbacks), oracle=oracle.index,
               oracle_correct=oracle.index == gold)
    return row, full, image


def _lookalikes(record: dict[str, Any], proposals: Sequence[Any]) -> int | None:
    """How many proposals fit the referent's own description in the gold program."""
    try:
        target = parse_program(record["program"]).target
    except (KeyError, ReclipError):
        return None
    want = phrase_attributes(target.text)
    return sum(matches(label_attributes(p.label or ""), want) for p in proposals) or None


def _done_ids(results: Path) -> tuple[set[str], list[dict[str, Any]]]:
    ids: set[str] = set()
    rows: list[dict[str, Any]] = []
    if results.is_file():
        with results.open(encoding="utf-8") as f:
            for line in f:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by an interrupted run: redo that record
                ids.add(row["id"])
                rows.append(row)
    return ids, rows


def evaluate_synthetic(data: str | os.PathLike, *, scorer: Scorer | None = None,
                       model: str = "synthetic", limit: int | None = None,
                       out: str | os.PathLike | None = DEFAULT_OUT,
                       gallery: str | os.PathLike | None = None, progress: bool = True,
                       compile_fn: Callable[[str], Program] | None = None,
                       log: Callable[[str], None] = print) -> Tally:
    """Evaluate CLIP alone and the full system on a synthetic dataset; returns the tally.

    ``scorer`` defaults to ``ClipScorer.from_pretrained(model, methods=("crop", "blur"))``.
    With ``out``, rows are appended to ``out/results.jsonl`` and records already there
    are skipped (their rows still count in the tally).
    """
    records = read_records(data)
    if limit is not None:
        if limit < 1:
            raise ReclipError(f"--limit must be at least 1, got {limit}")
        records = records[:limit]
    if compile_fn is None:
        from grammar import compile_expression as compile_fn  # type: ignore[no-redef]
    if scorer is None:
        from reclip.scoring import ClipScorer

        scorer = ClipScorer.from_pretrained(model, methods=("crop", "blur"))
    tally = Tally()
    results_file = None
    done: set[str] = set()
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        done, rows = _done_ids(out / "results.jsonl")
        wanted = {r.get("id") for r in records}
        for row in rows:
            if row["id"] in wanted:
                tally.add(row)
        if done & wanted:
            log(f"resuming: {len(done & wanted)} of {len(records)} records already in {out / 'results.jsonl'}")
        results_file = (out / "results.jsonl").open("a", encoding="utf-8")
    board = _gallery(gallery, log)
    todo = [r for r in records if r.get("id") not in done]
    items: Iterable[dict[str, Any]] = todo
    if progress:
        from tqdm import tqdm

        items = tqdm(todo, desc="eval synthetic", unit="expr", file=sys.stderr)
    images = _ImageCache()
    try:
        for record in items:
            try:
                row, full, image = evaluate_record(record, scorer, compile_fn, images)
            except (ReclipError, KeyError, TypeError, ValueError, OSError) as exc:
                row = {"id": record.get("id"), "kind": record.get("kind"),
                       "error": f"{type(exc).__name__}: {exc}"}
                full = image = None
            tally.add(row)
            if results_file:
                results_file.write(json.dumps(row) + "\n")
                results_file.flush()
            if board is not None and full is not None and not row["full_correct"]:
                board.add_failure(row["kind"], full, image, row["expression"],
                                  gold_box=record.get("gold_box"))
    finally:
        if results_file:
            results_file.close()
    if tally.errors:
        log(f"{tally.errors} record(s) could not be evaluated; see the 'error' rows of the results")
    if board is not None:
        log(f"failure gallery: {board.write(totals=tally.total)}")
    if out is not None:
        (out / "table.md").write_text(tally.markdown() + "\n", encoding="utf-8")
    return tally


def _gallery(path: str | os.PathLike | None, log: Callable[[str], None]):
    if path is None:
        return None
    try:
        from reclip.report import Gallery
    except ImportError:
        log("no failure gallery: reclip.report is not available")
        return None
    return Gallery(path)


# -- command line ---------------------------------------------------------------------
DATASETS: dict[str, Callable[[argparse.Namespace], Tally]] = {}


def _run_synthetic(args: argparse.Namespace) -> Tally:
    return evaluate_synthetic(args.data, model=args.model, limit=args.limit, out=args.out,
                              gallery=args.gallery, progress=not args.no_progress)


DATASETS["synthetic"] = _run_synthetic


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="evaluate on a dataset (synthetic: CLIP alone vs the full system)",
        description="Accuracy per expression kind of CLIP alone (the whole expression scored "
                    "on each isolated proposal) and of the full system (compiled program + "
                    "interpreter), with the same model, in one run. Resumable.")
    p.add_argument("dataset", choices=sorted(DATASETS), help="which evaluation")
    p.add_argument("data", help="dataset directory (from `reclip synth`) or its expressions.jsonl")
    p.add_argument("--model", default="synthetic",
                   help="model spec (default: the shipped 'synthetic' checkpoint)")
    p.add_argument("--limit", type=int, help="evaluate only the first N expressions")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help=f"folder for results.jsonl and table.md (default {DEFAULT_OUT}); "
                        "records already in results.jsonl are skipped")
    p.add_argument("--gallery", help="write a failure gallery (index.html + traces) here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tally = DATASETS[args.dataset](args)
    if not tally.total:
        print("no expression was evaluated", file=sys.stderr)
        return 1
    print(tally.markdown())
    return 0
