"""One evaluation of any registered dataset format: ``run_evaluation(config, out, shard)``.

The format's loader reads the records; ``sources.run_proposals`` chooses the proposals; the
loop (``loop.run_loop``) answers them image by image (``systems.prepare_image`` then
``answer_image``; with ``workers``, images are prepared ahead in threads) into ``OUT``,
resuming what is there; the summary's evaluators compute the figures from the files.
``shard`` = (K, N) takes the images at positions i % N == K-1 of the sorted image ids, so a
shard never splits an image. A run that would score nothing stops with a ``NothingToScore``
error saying why, instead of a summary of zeros.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Sequence

from grammar.ast import Program
from primitives import ReclipError
from reclip.datasets import FORMATS, Dataset, DatasetFormat, RefRecord, Skip, image_key, load_dataset, sort_key
from reclip.evaluation.config import EvalConfig, Shard, check_shard, out_folder, write_run
from reclip.evaluation.gallery import FailureGallery
from reclip.evaluation.lock import locked
from reclip.evaluation.loop import DUPLICATE, run_loop
from reclip.evaluation.provenance import resolved_settings
from reclip.evaluation.sources import RunProposals, run_proposals
from reclip.evaluation.summary import write_summary
from reclip.evaluation.systems import Prepared, System, answer_image, encode_ahead, prepare_image
from reclip.locator import Locator


class NothingToScore(ReclipError):
    """An evaluation with nothing to score: an empty split, no images, detections matching no image."""


def run_evaluation(config: EvalConfig, out: str | Path, shard: Shard | None = None,
                   progress: bool = True, locator: Locator | None = None,
                   log: Callable[[str], None] | None = None, *,
                   compile_fn: Callable[[str], Program] | None = None,
                   observers: Sequence[Any] = ()) -> dict[str, Any]:
    """Evaluate ``config`` into ``out`` (resuming what is there); returns the summary.

    ``locator`` defaults to one on ``ClipScorer.from_pretrained(config.models, config.methods)``,
    built only when something is left to score; ``compile_fn`` replaces its compiler;
    ``observers`` (evaluators) see every row as it is made, with its (Result, image).
    """
    log = log or (lambda line: print(line, file=sys.stderr))
    fmt = FORMATS.get(config.dataset)
    config = with_format_defaults(config, fmt)
    config.check()
    shard = check_shard(shard)
    out = out_folder(out)
    with locked(out):
        check_images(config, fmt)
        dataset = load_dataset(config.dataset, config.files, config.images, config.split)
        source = run_proposals(config, dataset, warn=(lambda line: None) if fmt.proposals else log)
        masks = dataset.has_masks and source.has_masks
        records, skips = select(dataset, config.limit, shard)
        if shard is None:    # before run.json: a corrected rerun into the same folder is not "another run"
            check_something_to_score(records, source, config)
        write_run(out, config, shard, masks, resolved_settings(config, source.built))
        system = _LazySystem(config, fmt, source, masks, locator, compile_fn)
        observers = list(observers) + ([FailureGallery(config.gallery, model_options(config))] if config.gallery else [])
        run_loop(records, skips, system, out, observers=observers, progress=progress,
                 desc=f"eval {dataset.name}", log=log, workers=config.workers)
        summary = write_summary(out)
        for observer in observers:
            for name, value in observer.evaluate().items():
                log(f"{name}: {value}")
    if shard is None and not summary["n"]:
        raise NothingToScore(nothing_scored(config, records, summary["skipped"], out))
    return summary


def nothing_scored(config: EvalConfig, records: Sequence[RefRecord], skipped: dict[str, Any], out: Path) -> str:
    """Why a run scored nothing: no expressions (in its split), or every one skipped (the reasons)."""
    reasons = ", ".join(f"{n} {reason}" for reason, n in skipped["reasons"].items())
    where = f"{out / 'skipped.jsonl'}: {reasons}" if reasons else "the loader skipped none"
    if not records and not skipped["count"]:
        split = f" of split {config.split!r}" if config.split else ""
        return f"no expressions to evaluate{split} in {', '.join(map(str, config.files.values()))} ({where})"
    return f"nothing was scored: every expression was skipped (see {where})"


def with_format_defaults(config: EvalConfig, fmt: DatasetFormat) -> EvalConfig:
    """``config`` with the proposals a format fixes (the synthetic benchmark: the scene's objects)."""
    if fmt.proposals is not None and config.proposals in (None, fmt.proposals):
        return dataclasses.replace(config, proposals=fmt.proposals)
    if fmt.proposals is not None:
        raise ReclipError(f"the {config.dataset} format fixes its proposals ({fmt.proposals}); "
                          f"got {config.proposals!r}")
    return config


def check_images(config: EvalConfig, fmt: DatasetFormat) -> None:
    if fmt.images and not Path(config.images).is_dir():
        raise NothingToScore(f"the images folder {config.images} does not exist (or is not a folder): "
                             "give --images the folder the dataset's file names are in")


def check_something_to_score(records: Sequence[RefRecord], source: RunProposals,
                             config: EvalConfig) -> None:
    """Refuse, before any model loads, a run whose proposals can match nothing."""
    if records and source.image_ids is not None and not {image_key(r.image_id) for r in records} & source.image_ids:
        example = sorted({image_key(r.image_id) for r in records})[:3]
        raise NothingToScore(f"the detections in {config.proposals} match none of the dataset's "
                             f"{len({r.image_id for r in records})} images (ids like {', '.join(example)})")


class _LazySystem:
    """The system, built when the loop first scores (a resumed run with nothing left loads no model)."""

    def __init__(self, config: EvalConfig, fmt: DatasetFormat, source: RunProposals, masks: bool,
                 locator: Locator | None, compile_fn: Callable[[str], Program] | None) -> None:
        self.config, self.fmt, self.source, self.masks = config, fmt, source, masks
        self.locator, self.compile_fn = locator, compile_fn
        self.system: System | None = None
        self._lock = threading.Lock()

    def prepare(self, records: Sequence[RefRecord]) -> Prepared:
        crops = getattr(self._system().locator.scorer, "prepare", None) if self.config.workers > 0 else None
        return prepare_image(records, self.source, self.masks, crops)

    def answer(self, prepared: Prepared) -> tuple[list, list, list]:
        return answer_image(prepared, self._system())

    def encode_ahead(self, prepared: Sequence[Prepared]) -> int:
        return encode_ahead(prepared, self._system())

    def _system(self) -> System:
        with self._lock:                 # pipelined, the first worker to prepare builds it
            if self.system is None:
                self.system = System(self.locator or _locator(self.config), self.source, self.masks,
                                     self.config.baseline, self.compile_fn, self.fmt.companions,
                                     self.fmt.row_facts)
        return self.system


def model_options(config: EvalConfig) -> list[str]:
    """The models as command-line options, for the gallery cards' rerun commands."""
    return [word for model in config.models for word in ("--model", model)]


def _locator(config: EvalConfig) -> Locator:
    options: dict[str, Any] = {"methods": list(config.methods)}
    if config.device:
        options["device"] = config.device
    if config.precision:
        options["precision"] = config.precision
    if config.batch_size:
        options["batch_size"] = config.batch_size
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
