"""The synthetic benchmark as a dataset format of the one evaluation loop:
``reclip eval synthetic DATA_DIR [--limit N] [--out DIR] [--gallery DIR]``.

For every expression of a dataset written by ``reclip synth``, three systems answer with the
same proposals (every object of the scene) in one pass:

- **full system** (the run's main system): ``compile_expression`` + the interpreter;
- **CLIP alone** (companion ``clip``): the whole expression as one ``find`` scored on each
  isolated proposal, no program (ReCLIP's baseline without its resolver), same scorer and caches;
- **program, gold attributes** (companion ``oracle``): the compiled program with the gold
  attributes instead of CLIP (``oracle.GoldAttributeScorer``): it separates the compiler's and
  the resolver's mistakes from CLIP's.

A prediction is correct when its IoU with the gold box is > 0.5 (the rule of every dataset; the
scene's objects do not overlap, so it is picking the gold object). Rows, resume, skipped records
and the summary are the loop's (``reclip.evaluation``): ``OUT/predictions.jsonl``,
``OUT/skipped.jsonl``, ``OUT/summary.md`` (with the table below). ``SyntheticTable``, an
evaluator over the rows, gives the per-kind table: chance, chance among look-alikes, CLIP alone,
full system, program with gold attributes; a compile error counts as a wrong answer.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from grammar import parse_program
from grammar.ast import Program
from interpreter import Proposal, Scorer
from primitives import ReclipError
from reclip.datasets import FORMATS, Companion, Dataset, DatasetFormat, Option, RefRecord
from reclip.evaluation import GroupedShares, markdown_table, percent, run_evaluation, run_evaluators
from reclip.evaluation.config import PREDICTIONS, EvalConfig
from reclip.evaluation.summary import unique_rows
from reclip.locator import Locator
from reclip.scoring import DEFAULT_METHODS
from reclip.synthetic import dataset as files
from reclip.synthetic.expressions import EXPRESSION_KINDS
from reclip.synthetic.oracle import GoldAttributeScorer, label_attributes, matches, phrase_attributes

DEFAULT_OUT = Path("out") / "eval-synthetic"
SYSTEMS = {"clip": "clip_correct", "full": "correct", "oracle": "oracle_correct"}
HEADER = ["kind", "n", "chance", "chance among look-alikes", "CLIP alone", "full system",
          "program, gold attributes"]


class SyntheticTable:
    """Correct answers per expression kind for each system, plus two chance levels: picking
    any proposal (mean 1/#proposals) and picking among the look-alikes, the objects that fit
    the referent's own description ("circle" in "the circle left of the square"), which
    is where a model that sees attributes but not space ends up. An evaluator (reset / process
    / evaluate) over the rows; ``markdown`` renders its figures."""

    def __init__(self) -> None:
        self.shares = GroupedShares()
        self.skipped = 0     # records that could not be evaluated (set by evaluate_synthetic)

    def reset(self) -> None:
        self.shares = GroupedShares()

    def process(self, rows: Sequence[dict[str, Any]], outputs: Sequence[Any] | None = None) -> None:
        for row in rows:
            values = {s: int(bool(row.get(key))) for s, key in SYSTEMS.items()}
            values["chance"] = 1.0 / row["proposals"]
            values["lookalike"] = 1.0 / max(1, row.get("lookalikes") or 1)
            self.shares.add(row["kind"], values)

    @property
    def total(self) -> dict[str, int]:
        """Expressions evaluated per expression kind."""
        return self.shares.total

    def kinds(self) -> list[str]:
        return self.shares.groups(EXPRESSION_KINDS)

    def accuracy(self, system: str, kind: str | None = None) -> float:
        return self.shares.share(system, kind)

    def evaluate(self) -> dict[str, Any]:
        def shares(kind: str | None) -> dict[str, Any]:
            n = self.total[kind] if kind is not None else self.shares.n
            return {"n": n, **{name: self.shares.share(name, kind)
                               for name in ("chance", "lookalike", *SYSTEMS)}}

        return {"systems": {"by_kind": {kind: shares(kind) for kind in self.kinds()}, "all": shares(None)}}

    def markdown(self, summary: Mapping[str, Any] | None = None) -> str:
        """The table of ``summary["systems"]`` (this evaluator's own figures without a summary)."""
        systems = (summary or self.evaluate())["systems"]

        def cells(name: str, figures: Mapping[str, Any], bold: bool = False) -> list[str]:
            return [name, str(figures["n"]), percent(figures["chance"]), percent(figures["lookalike"]),
                    percent(figures["clip"], bold), percent(figures["full"], bold), percent(figures["oracle"])]

        rows = [cells(kind, figures) for kind, figures in systems["by_kind"].items()]
        rows.append(cells("**all**", systems["all"], bold=True))
        return markdown_table(HEADER, ["---"] + ["---:"] * 6, rows)


def lookalikes(record: RefRecord, proposals: list[Proposal]) -> dict[str, Any]:
    """How many proposals fit the referent's own description in the gold program (None: unknown)."""
    try:
        target = parse_program(record.program or "").target
    except ReclipError:
        return {"lookalikes": None}
    want = phrase_attributes(target.text)
    return {"lookalikes": sum(matches(label_attributes(p.label or ""), want) for p in proposals) or None}


def load_synthetic(files_: Mapping[str, str], images: str = "", split: str | None = None) -> Dataset:
    """The format's loader (``reclip.synthetic.dataset.load_synthetic_dataset``), defined here so that
    importing this module is what registers the format."""
    return files.load_synthetic_dataset(files_, images, split)


FORMAT = FORMATS.add("synthetic", DatasetFormat(
    load=load_synthetic, help="the synthetic spatial benchmark (from `reclip synth`)",
    description="Accuracy per expression kind of CLIP alone (the whole expression scored on each "
                "isolated proposal), of the full system (compiled program + interpreter) and of the "
                "program with gold attributes, with the same model, in one run. Resumable.",
    files=(Option("data", "dataset directory (from `reclip synth`) or its expressions.jsonl",
                  positional=True),),
    split=None, images=False, proposals="gt",
    proposals_note="every object of the scene (the benchmark's setting)",
    title=("data",), companions=(Companion("clip", whole_expression=True),
                                 Companion("oracle", scorer=GoldAttributeScorer)),
    evaluators=(SyntheticTable,), row_facts=lookalikes, default_out=str(DEFAULT_OUT)))


def synthetic_config(data: str | os.PathLike, model: str = "synthetic", limit: int | None = None,
                     methods: Sequence[str] = DEFAULT_METHODS) -> EvalConfig:
    return EvalConfig(dataset="synthetic", files={"data": str(data)}, images="", proposals="gt",
                      models=(model,), methods=tuple(methods), limit=limit)


def evaluate_synthetic(data: str | os.PathLike, *, scorer: Scorer | None = None,
                       model: str = "synthetic", limit: int | None = None,
                       out: str | os.PathLike | None = DEFAULT_OUT,
                       gallery: str | os.PathLike | None = None, progress: bool = True,
                       compile_fn: Callable[[str], Program] | None = None,
                       log: Callable[[str], None] = print) -> SyntheticTable:
    """Evaluate the three systems on a synthetic dataset through the one loop; returns the table
    (its ``skipped``: how many records could not be evaluated). ``scorer`` defaults to
    ``ClipScorer.from_pretrained(model, methods=DEFAULT_METHODS)``; ``out`` None: a temporary folder."""
    if out is None:
        with tempfile.TemporaryDirectory() as tmp:
            return evaluate_synthetic(data, scorer=scorer, model=model, limit=limit, out=tmp, gallery=gallery,
                                      progress=progress, compile_fn=compile_fn, log=log)
    config = dataclasses.replace(synthetic_config(data, model, limit),
                                 gallery=None if gallery is None else str(gallery))
    summary = run_evaluation(config, out, progress=progress, locator=Locator(scorer) if scorer else None,
                             log=log, compile_fn=compile_fn)
    table = SyntheticTable()
    run_evaluators([table], unique_rows(Path(out) / PREDICTIONS))
    table.skipped = summary["skipped"]["count"]
    if table.skipped:
        log(f"{table.skipped} record(s) could not be evaluated; see {Path(out) / 'skipped.jsonl'}")
    return table
