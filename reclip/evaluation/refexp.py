"""Referring-expression evaluation at dataset scale (RefCOCO, RefCOCO+, RefCOCOg):
``run_evaluation(config, out, shard)``.

Records are grouped by image: each image is loaded once, its proposals chosen once
(``sources.proposal_source``), and all its expressions scored with one scorer call
(``Locator.run_many``). Rows go to ``OUT/predictions.jsonl`` and bad records to
``OUT/skipped.jsonl`` as it goes; a rerun with the same ``out`` skips the sent_ids
already there (resume). ``shard`` = (K, N) takes the images at positions i % N == K-1
of the sorted image ids, so a shard never splits an image.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from tqdm import tqdm

from grammar.ast import Find, Program
from interpreter import check_masks, find_texts
from primitives import ReclipError
from reclip.datasets import Dataset, RefRecord, Skip, group_by_image, image_key, load_dataset, sort_key
from reclip.evaluation.config import (
    PREDICTIONS, SKIPPED, EvalConfig, Shard, check_shard, out_folder, write_run,
)
from reclip.evaluation.loop import append_rows, read_rows, write_row
from reclip.evaluation.rows import base_row, result_row, structure_kind
from reclip.evaluation.sources import ProposalSource, proposal_source
from reclip.evaluation.summary import write_summary
from reclip.files import load_image
from reclip.locator import Locator
from reclip.masks import MaskError, decode_mask

DUPLICATE = "duplicate_sent_id"


def run_evaluation(config: EvalConfig, out: str | Path, shard: Shard | None = None,
                   progress: bool = True, locator: Locator | None = None,
                   log: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Evaluate ``config`` into ``out`` (resuming what is there); returns the summary.

    ``locator`` defaults to one on ``ClipScorer.from_pretrained(config.models, config.methods)``,
    built only when something is left to score.
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    config.check()
    shard = check_shard(shard)
    out = out_folder(out)
    dataset = load_dataset(config.dataset, config.files, config.images, config.split)
    source = proposal_source(config, dataset, warn=log)
    masks = dataset.has_masks and source.has_masks
    write_run(out, config, shard, masks)
    records, skips = select(dataset, config.limit, shard)
    skips_done = {(row.get("sent_id"), row.get("reason")) for row in read_rows(out / SKIPPED)}
    # a duplicate's skip row shares its sent_id with the record that is scored
    done = {row.get("sent_id") for row in read_rows(out / PREDICTIONS)} | \
        {sent_id for sent_id, reason in skips_done if reason != DUPLICATE}
    if done:
        log(f"resuming: {len(done)} expressions already in {out}")
    with append_rows(out / PREDICTIONS) as predictions, append_rows(out / SKIPPED) as skipped:
        for skip in skips:
            if (skip.sent_id, skip.reason) not in skips_done:
                write_row(skipped, skip.to_dict())
        todo = [r for r in records if r.sent_id not in done]
        if todo:
            locator = locator or _locator(config)
        bar = tqdm(total=len(todo), desc=f"eval {dataset.name}", unit="expr", file=sys.stderr,
                   disable=not progress)
        for group in group_by_image(todo).values():
            rows, bad = score_image(group, locator, source, config, masks)
            for row in rows:
                write_row(predictions, row)
            for skip in bad:
                write_row(skipped, skip.to_dict())
            predictions.flush()
            skipped.flush()
            bar.update(len(group))
        bar.close()
    return write_summary(out)


def _locator(config: EvalConfig) -> Locator:
    options: dict[str, Any] = {"methods": list(config.methods)}
    if config.device:
        options["device"] = config.device
    if config.precision:
        options["precision"] = config.precision
    return Locator.from_pretrained(list(config.models), **options)


def select(dataset: Dataset, limit: int | None, shard: Shard | None) -> tuple[list[RefRecord], list[Skip]]:
    """The records (first ``limit``, duplicated sent_ids skipped) and skips of one shard."""
    seen: set[Any] = set()
    records: list[RefRecord] = []
    skips = list(dataset.skipped)
    for r in dataset.records:
        if r.sent_id in seen:
            skips.append(Skip(r.sent_id, r.image_id, DUPLICATE, "a sent_id seen before"))
            continue
        seen.add(r.sent_id)
        records.append(r)
    if limit is not None:
        records = records[:limit]
        kept = {image_key(r.image_id) for r in records}
        skips = [s for s in skips if s.image_id is not None and image_key(s.image_id) in kept]
    if shard is None:
        return records, skips
    k, n = shard
    ids = sorted({r.image_id for r in records} | {s.image_id for s in skips if s.image_id is not None},
                 key=sort_key)
    mine = {image_key(i) for pos, i in enumerate(ids) if pos % n == k - 1}
    return ([r for r in records if image_key(r.image_id) in mine],
            [s for s in skips if (image_key(s.image_id) in mine if s.image_id is not None else k == 1)])


def score_image(records: Sequence[RefRecord], locator: Locator, source: ProposalSource,
                config: EvalConfig, masks: bool) -> tuple[list[dict[str, Any]], list[Skip]]:
    """Rows for one image's records (one scorer call), and the records that could not be scored."""
    first = records[0]
    if not Path(first.image).is_file():
        return [], [Skip(r.sent_id, r.image_id, "missing_image", f"image file not found: {first.image}")
                    for r in records]
    try:
        image = load_image(first.image)
    except ReclipError as exc:
        return [], [Skip(r.sent_id, r.image_id, "unreadable_image", str(exc)) for r in records]
    try:  # a text-conditioned source proposes below, once the image's programs are known
        proposals = None if source.needs_texts else source.proposals(first.image_id, image)
        check_masks(proposals or [], image.size)
    except ReclipError as exc:
        return [], [Skip(r.sent_id, r.image_id, "bad_proposals", str(exc)) for r in records]
    good, bad = _masks_fit(records, image.size) if masks else (list(records), [])
    compiled = [_compile(locator, r.expression) for r in good]
    runnable = [(r, prog, kind) for r, (prog, kind, _) in zip(good, compiled) if prog is not None]
    rows = [{**base_row(r, None, "none"), "index": None, "box": None, "iou": 0.0, "correct": False,
             "cause": "compile_error", "error": err} for r, (prog, _, err) in zip(good, compiled) if prog is None]
    if not runnable:
        return rows, bad
    programs = [Program(Find(r.expression)) if config.baseline else prog for r, prog, _ in runnable]
    if proposals is None:
        try:
            proposals = source.proposals(first.image_id, image, find_texts(*(p.root for p in programs)))
        except ReclipError as exc:
            return [], [Skip(r.sent_id, r.image_id, "bad_proposals", str(exc)) for r in records]
    if not proposals:
        return rows + [result_row(r, kind, None, np.zeros((0, 4)), masks, str(p))
                       for (r, _, kind), p in zip(runnable, programs)], bad
    results = locator.run_many(programs, image, proposals)
    boxes = np.array([p.box for p in results[0].graph.proposals], dtype=np.float64)
    rows += [result_row(r, kind, res, boxes, masks) for (r, _, kind), res in zip(runnable, results)]
    return rows, bad


def _compile(locator: Locator, expression: str) -> tuple[Program | None, str, str | None]:
    """The compiled program and its structure kind; a compile error is reported, not raised."""
    try:
        program = locator.compile(expression)
    except ReclipError as exc:
        return None, "none", str(exc)
    return program, structure_kind(program.root), None


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
