"""How one image's records are answered: the image loaded once, its proposals chosen once, every
expression compiled, and all programs (the main system's and its companions') run with one
scorer call per scorer (``Locator.run_many``). Returns the loop's ``(rows, skips, outputs)``.

The main system is the compiled program (or, with ``baseline``, the whole expression as one
find: CLIP alone). A dataset format's companions answer the same expressions beside it; their
answers go into the same row (``NAME``, ``NAME_correct``), so the figures of several systems
come from one pass over the same proposals and the same embedding caches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from grammar.ast import Find, Program
from interpreter import Proposal, Result, check_masks, find_texts
from primitives import ReclipError
from reclip.datasets import Companion, RefRecord, Skip
from reclip.evaluation.rows import answer_iou, base_row, is_correct, result_row, structure_kind
from reclip.evaluation.sources import RunProposals
from reclip.files import load_image
from reclip.locator import Locator
from reclip.masks import MaskError, decode_mask

Row = dict[str, Any]


@dataclass
class System:
    """What answers the expressions: the locator (its scorer), the compiler, the baseline switch,
    whether masks are compared, the companions, and a format's extra row facts."""

    locator: Locator
    source: RunProposals
    masks: bool = False
    baseline: bool = False
    compile: Callable[[str], Program] | None = None
    companions: Sequence[Companion] = ()
    row_facts: Callable[[RefRecord, list[Proposal]], Row] | None = None
    _companion_locators: dict[str, Locator] = field(default_factory=dict)

    def compile_expression(self, expression: str) -> tuple[Program | None, str, str | None]:
        """The compiled program and its structure kind; a compile error is reported, not raised."""
        try:
            program = (self.compile or self.locator.compile)(expression)
        except ReclipError as exc:
            return None, "none", str(exc)
        return program, structure_kind(program.root), None

    def locator_of(self, companion: Companion) -> Locator:
        if companion.scorer is None:
            return self.locator
        if companion.name not in self._companion_locators:
            self._companion_locators[companion.name] = Locator(companion.scorer())
        return self._companion_locators[companion.name]


@dataclass
class Prepared:
    """One image's records after the CPU stage: the image decoded, its proposals made, the records
    whose gold fits (``good``) and those that cannot be scored (``bad``)."""

    good: list[RefRecord]
    bad: list[Skip]
    image: Any = None
    proposals: list[Proposal] | None = None     # None: a text-conditioned source proposes once compiled
    crops: Any = None                           # the scorer's crops made ahead (``ClipScorer.prepare``)


Crops = Callable[[Any, list[Proposal]], Any]


def prepare_image(records: Sequence[RefRecord], source: RunProposals, masks: bool,
                  crops: Crops | None = None) -> Prepared:
    """The loading stage (pure CPU and I/O, safe in a worker thread): load, propose, check; with
    ``crops`` (a scorer's ``prepare``), isolate and resize the crops the scorer will encode."""
    first = records[0]
    if not Path(first.image).is_file():
        return Prepared([], [Skip(r.sent_id, r.image_id, "missing_image", f"image file not found: {first.image}")
                             for r in records])
    try:
        image = load_image(first.image)
    except ReclipError as exc:
        return Prepared([], [Skip(r.sent_id, r.image_id, "unreadable_image", str(exc)) for r in records])
    good, bad = _masks_fit(records, image.size) if masks else (list(records), [])
    if source.needs_texts:   # grounding-dino: boxes for the programs' find texts, in answer_image
        return Prepared(good, bad, image, None)
    try:
        proposals = _checked(source.proposals(first.image_id, image), image)
    except ReclipError as exc:
        return Prepared([], [Skip(r.sent_id, r.image_id, "bad_proposals", str(exc)) for r in records])
    return Prepared(good, bad, image, proposals, _crops(crops, image, proposals) if good else None)


def _crops(crops: Crops | None, image: Any, proposals: list[Proposal]) -> Any:
    """The crops made ahead, or None: they only save time, so a failure here leaves the image to be
    scored the ordinary way, which raises the same error where the sequential run does."""
    if crops is None or not proposals:
        return None
    try:
        return crops(image, proposals)
    except Exception:    # noqa: BLE001 - any error is met again, in order, by the scorer itself
        return None


def encode_ahead(prepared: Sequence[Prepared], system: System) -> int:
    """Encode the crops of the first prepared images in one batch (a scorer with
    ``encode_prepared``); returns how many images that covered (at least one)."""
    encode = getattr(system.locator.scorer, "encode_prepared", None)
    if encode is None or not prepared:
        return max(len(prepared), 1)
    taken = max(1, encode([p.crops for p in prepared]))
    for p in prepared[:taken]:
        p.crops = None           # in the region cache now: free the pixels (tens of MB an image)
    return taken


def _checked(proposals: Sequence[Proposal], image: Any) -> list[Proposal]:
    check_masks(proposals, image.size)
    return list(proposals)


def answer_image(prepared: Prepared, system: System) -> tuple[list[Row], list[Skip], list[Any]]:
    """The answering stage (compile, score, interpret: in order, on the thread that owns the models)."""
    good, bad, image, proposals = prepared.good, prepared.bad, prepared.image, prepared.proposals
    if not good:
        return [], bad, []
    compiled = [system.compile_expression(r.expression) for r in good]
    programs = [Program(Find(r.expression)) if system.baseline and prog is not None else prog
                for r, (prog, _, _) in zip(good, compiled, strict=True)]
    if proposals is None:
        texts = find_texts(*(p.root for p in programs if p is not None))
        try:
            proposals = _checked(system.source.proposals(good[0].image_id, image, texts), image)
        except ReclipError as exc:
            return [], bad + [Skip(r.sent_id, r.image_id, "bad_proposals", str(exc)) for r in good], []
    results = _run(system.locator, programs, image, proposals)
    boxes = np.array([p.box for p in proposals], dtype=np.float64).reshape(-1, 4)
    rows = []
    for r, (prog, kind, err), program, result in zip(good, compiled, programs, results, strict=True):
        if prog is None:
            row = {**base_row(r, None, r.kind or kind), "index": None, "box": None, "iou": 0.0,
                   "correct": False, "cause": "compile_error", "error": err}
        else:
            row = result_row(r, r.kind or kind, result, boxes, system.masks, str(program))
        rows.append(_with_facts(row, r, proposals, system))
    _companion_answers(rows, good, compiled, image, proposals, system)
    return rows, bad, [(res, image, r) for res, r in zip(results, good, strict=True)]


def _run(locator: Locator, programs: Sequence[Program | None], image: Any,
         proposals: list[Proposal]) -> list[Result | None]:
    """Each program's Result (None where there is no program or no proposal), one scorer call."""
    runnable = [p for p in programs if p is not None]
    if not runnable or not proposals:
        return [None] * len(programs)
    answers = iter(locator.run_many(runnable, image, proposals))
    return [next(answers) if p is not None else None for p in programs]


def _with_facts(row: Row, record: RefRecord, proposals: list[Proposal], system: System) -> Row:
    row["proposals"] = len(proposals)
    if record.program is not None:
        row["gold_program"] = record.program
    if system.row_facts is not None:
        row.update(system.row_facts(record, proposals))
    return row


def _companion_answers(rows: list[Row], records: Sequence[RefRecord], compiled: Sequence[tuple],
                       image: Any, proposals: list[Proposal], system: System) -> None:
    """Each companion's answer (index and correctness, IoU > 0.5 with the gold) in every row."""
    for companion in system.companions:
        programs = [Program(Find(r.expression)) if companion.whole_expression else prog
                    for r, (prog, _, _) in zip(records, compiled, strict=True)]
        results = _run(system.locator_of(companion), programs, image, proposals)
        for row, record, result in zip(rows, records, results, strict=True):
            row[companion.name] = None if result is None else result.index
            row[f"{companion.name}_correct"] = result is not None and is_correct(answer_iou(result.box, record))


def _masks_fit(records: Sequence[RefRecord], size: tuple[int, int]) -> tuple[list[RefRecord], list[Skip]]:
    """Records whose gold mask covers the image; the others are malformed."""
    good, bad = [], []
    for r in records:
        try:
            shape = decode_mask(r.gold_mask).shape if r.gold_mask is not None else (size[1], size[0])
        except MaskError as exc:
            bad.append(Skip(r.sent_id, r.image_id, "malformed_record", str(exc)))
            continue
        if shape != (size[1], size[0]):
            bad.append(Skip(r.sent_id, r.image_id, "malformed_record",
                            f"gold mask is {shape[0]}x{shape[1]} but the image is {size[1]}x{size[0]}"))
        else:
            good.append(r)
    return good, bad
