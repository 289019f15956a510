"""``reclip eval FORMAT ...``: one subcommand per registered dataset format, built from the facts
its entry declares (``reclip.datasets.FORMATS``): its files and options, whether it takes
``--images``, ``--split`` and ``--proposals``. Registering a format is the whole act of adding one."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from primitives import ReclipError
from reclip.cli.locate import add_model_options, method_specs
from reclip.cli.ray_options import add_ray_options, run_config
from reclip.datasets import DatasetFormat
from reclip.evaluation.config import DEFAULT_MODELS, EvalConfig
from reclip.scoring import DEFAULT_METHODS
from reclip.evaluation.summary import SUMMARY_MD
from reclip.proposals import spec_usage

def proposals_help() -> str:
    """--proposals' help, the sources listed from their registry (plugins' included)."""
    return ("required: 'gt' (ground-truth boxes and masks: not a detector setting), a detections "
            "file matched by image id (ReCLIP/MAttNet dict, [{image_id, box}], COCO results with "
            f"optional segmentation), or a source run on each image ({spec_usage()})")


def add_format(datasets: argparse._SubParsersAction, name: str, fmt: DatasetFormat) -> None:
    """The subcommand of one format: its declared files, then the options every evaluation has."""
    p = datasets.add_parser(name, help=fmt.help, description=fmt.description or fmt.help)
    for option in fmt.files:
        if option.positional:
            p.add_argument(option.name, metavar=option.metavar, help=option.help)
        else:
            p.add_argument(option.flag, dest=option.name, required=option.required, metavar=option.metavar,
                           help=option.help)
    if fmt.split is not None:
        p.add_argument("--split", required=fmt.split.required, default=None, help=fmt.split.help)
    if fmt.images:
        p.add_argument("--images", required=True, metavar="DIR", help="image folder (e.g. COCO/train2014)")
    if fmt.proposals is None:
        p.add_argument("--proposals", metavar="gt|FILE|SPEC", default=None, help=proposals_help())
        p.add_argument("--proposal-cache", metavar="DIR", default=None,
                       help="with a source SPEC: keep each image's proposals here, so a rerun or another "
                            "evaluation of the same images runs the detector once")
    _add_common(p, fmt)
    p.set_defaults(func=lambda args: run_format(args, name, fmt))


def _add_common(p: argparse.ArgumentParser, fmt: DatasetFormat) -> None:
    add_model_options(p, default_model=DEFAULT_MODELS[0])
    p.add_argument("--baseline", action="store_true",
                   help="score the whole expression as one find (CLIP alone, ReCLIP's baseline)")
    out_help = ("output folder (run.json, predictions.jsonl, skipped.jsonl, summary.json/.md); a rerun "
                "with the same folder and settings resumes")
    if fmt.default_out:
        p.add_argument("--out", default=fmt.default_out, metavar="OUT", help=f"{out_help} (default {fmt.default_out})")
    else:
        p.add_argument("--out", required=True, metavar="OUT", help=out_help)
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N expressions")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="run shard K of N (1-based), a deterministic slice by image")
    p.add_argument("--gallery", default=None, metavar="DIR",
                   help="write a failure gallery here (index.html + a trace page per wrong answer)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="load and propose the next images in N threads while the models answer "
                        "(a bounded pipeline; the rows are the same as without; default 0: in turn)")
    p.add_argument("--batch-size", type=int, default=None, metavar="CROPS",
                   help="with --workers: encode the crops of several images in one forward, up to CROPS "
                        "(default: one image's at a time)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_ray_options(p)


def config_from_args(args: argparse.Namespace, name: str, fmt: DatasetFormat) -> EvalConfig:
    methods = method_specs(args.method)
    return EvalConfig(dataset=name, files={o.name: getattr(args, o.name) for o in fmt.files},
                      images=getattr(args, "images", "") or "", proposals=getattr(args, "proposals", None),
                      split=getattr(args, "split", None), models=tuple(args.model or DEFAULT_MODELS),
                      methods=tuple(methods or DEFAULT_METHODS), baseline=args.baseline,
                      limit=args.limit, device=args.device, proposal_cache=getattr(args, "proposal_cache", None),
                      precision=args.precision, gallery=args.gallery, workers=args.workers,
                      batch_size=args.batch_size)


def run_format(args: argparse.Namespace, name: str, fmt: DatasetFormat) -> int:
    if not str(args.out).strip():
        raise ReclipError("--out is empty: give the output folder")
    config = config_from_args(args, name, fmt)
    if fmt.proposals is not None:
        config = dataclasses.replace(config, proposals=fmt.proposals)
    config.check()
    summary: dict[str, Any] = run_config(args, config, progress=not args.no_progress)
    print((Path(args.out) / SUMMARY_MD).read_text(encoding="utf-8"))
    print(json.dumps({k: summary[k] for k in ("n", "accuracy", "mean_iou")}), file=sys.stderr)
    return 0
