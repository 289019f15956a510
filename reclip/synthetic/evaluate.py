"""The synthetic benchmark's evaluation:
``reclip eval synthetic DATA_DIR [--limit N] [--out DIR] [--gallery DIR]``.

For every expression of a dataset written by ``reclip synth``, two systems answer
with the same scorer (same model, same isolated proposals, one embedding cache):

- **CLIP alone**: the whole expression as one ``find`` scored on each isolated
  proposal, no program (ReCLIP's baseline without its resolver);
- **full system**: ``compile_expression`` + the interpreter.

A third column runs the compiled program with the gold attributes instead of CLIP
(``reclip.synthetic.oracle.GoldAttributeScorer``): it separates the compiler's and the
resolver's mistakes from CLIP's.

A prediction is correct when it picks the gold proposal (the proposals are the gold
boxes of all objects, so this is the same as IoU > 0.5 with the gold box). Results go
to ``OUT/results.jsonl`` one line per record as it goes; a rerun skips the ids already
there (resume; ``reclip.evaluation.loop``). A record that cannot be read (missing image, malformed fields) is
recorded with its error and skipped; a compile error counts as a wrong answer of the
full system. The Markdown table of accuracy per kind is printed and written to
``OUT/table.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from grammar import compile_expression, parse_program
from grammar.ast import Find, Program
from interpreter import ProposalGraph, Result, Scorer, execute
from primitives import ReclipError
from reclip.evaluation import GroupedShares, limited, markdown_table, percent, run_records
from reclip.files import load_image, make_folder, write_text
from reclip.report import Gallery
from reclip.scoring import ClipScorer
from reclip.synthetic.dataset import read_records, record_proposals
from reclip.synthetic.expressions import EXPRESSION_KINDS
from reclip.synthetic.oracle import GoldAttributeScorer, label_attributes, matches, phrase_attributes

DEFAULT_OUT = Path("out") / "eval-synthetic"
SYSTEMS = ("clip", "full", "oracle")


class Tally:
    """Correct answers per expression kind for each system, plus two chance levels: picking
    any proposal (mean 1/#proposals) and picking among the look-alikes, the objects that fit
    the referent's own description ("circle" in "the circle left of the square"), which
    is where a model that sees attributes but not space ends up."""

    def __init__(self) -> None:
        self.shares = GroupedShares()
        self.errors = 0

    @property
    def total(self) -> dict[str, int]:
        """Expressions evaluated per expression kind."""
        return self.shares.total

    def add(self, row: dict[str, Any]) -> None:
        if "error" in row:
            self.errors += 1
            return
        values = {s: int(bool(row[f"{s}_correct"])) for s in SYSTEMS}
        values["chance"] = 1.0 / row["proposals"]
        values["lookalike"] = 1.0 / max(1, row.get("lookalikes") or 1)
        self.shares.add(row["kind"], values)

    def kinds(self) -> list[str]:
        return self.shares.groups(EXPRESSION_KINDS)

    def accuracy(self, system: str, kind: str | None = None) -> float:
        return self.shares.share(system, kind)

    def chance_rate(self, kind: str | None = None, table: str = "chance") -> float:
        return self.shares.share(table, kind)

    def markdown(self) -> str:
        header = ["kind", "n", "chance", "chance among look-alikes", "CLIP alone", "full system",
                  "program, gold attributes"]
        rows = [[kind, str(self.total[kind]), percent(self.chance_rate(kind)),
                 percent(self.chance_rate(kind, "lookalike")), percent(self.accuracy("clip", kind)),
                 percent(self.accuracy("full", kind)), percent(self.accuracy("oracle", kind))]
                for kind in self.kinds()]
        rows.append(["**all**", str(sum(self.total.values())), percent(self.chance_rate()),
                     percent(self.chance_rate(None, "lookalike")), percent(self.accuracy("clip"), bold=True),
                     percent(self.accuracy("full"), bold=True), percent(self.accuracy("oracle"))])
        return markdown_table(header, ["---"] + ["---:"] * 6, rows)


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
    if not isinstance(expression, str) or not expression.strip():
        raise ReclipError(f"empty expression (got {expression!r}): nothing to locate")
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
    records = limited(read_records(data), limit)
    if out is not None:
        make_folder(out)   # a file in the way is refused before the model loads
    # the cards' commands name the model (a custom scorer has no spec to name)
    board = Gallery(gallery, run_options=["--model", str(model)] if scorer is None else []) \
        if gallery is not None else None
    compile_fn = compile_fn or compile_expression
    scorer = scorer or ClipScorer.from_pretrained(model, methods=("crop", "blur"))
    tally = Tally()
    images = _ImageCache()

    def on_row(row: dict[str, Any], record: dict[str, Any] | None, extra: Any) -> None:
        tally.add(row)
        if board is not None and extra is not None and extra[0] is not None and not row["full_correct"]:
            full, image = extra
            board.add_failure(row["kind"], full, image, row["expression"], gold_box=record.get("gold_box"))

    def evaluate(record: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        row, full, image = evaluate_record(record, scorer, compile_fn, images)
        return row, (full, image)

    run_records(records, evaluate, out=out, on_row=on_row, progress=progress, desc="eval synthetic", log=log)
    if tally.errors:
        log(f"{tally.errors} record(s) could not be evaluated; see the 'error' rows of the results")
    if board is not None:
        log(f"failure gallery: {board.write(totals=tally.total)}")
    if out is not None:
        write_text(Path(out) / "table.md", tally.markdown() + "\n")
    return tally
