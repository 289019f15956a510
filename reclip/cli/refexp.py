"""``reclip eval refer|mdetr|reclip``: RefCOCO, RefCOCO+ and RefCOCOg from the files researchers have."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

from reclip.cli.ray_options import add_ray_options, run_config
from reclip.evaluation.config import DEFAULT_METHODS, DEFAULT_MODELS, EvalConfig
from reclip.evaluation.summary import SUMMARY_MD
from reclip.proposals import spec_usage


def add_refer(datasets: argparse._SubParsersAction) -> None:
    p = datasets.add_parser(
        "refer", help="RefCOCO/RefCOCO+/RefCOCOg from refer's refs(SPLITBY).p + instances.json",
        description="Evaluate on refer's annotations: ROOT/DATASET/refs(SPLITBY).p (read by a "
                    "restricted unpickler: plain data only) and ROOT/DATASET/instances.json.")
    p.add_argument("--root", required=True, metavar="DATA", help="refer's data folder (holds DATASET/)")
    p.add_argument("--dataset", required=True, help="refcoco, refcoco+ or refcocog")
    p.add_argument("--split-by", required=True, help="unc, google or umd (refs(SPLITBY).p)")
    p.add_argument("--split", required=True, help="train, val, test, testA, testB")
    _add_common(p, lambda a: {"root": a.root, "dataset": a.dataset, "split_by": a.split_by}, "refer")


def add_mdetr(datasets: argparse._SubParsersAction) -> None:
    p = datasets.add_parser(
        "mdetr", help="MDETR's pre-processed refexp json (finetune_refcocog_val.json, ...)",
        description="Evaluate on MDETR's COCO-format annotations (one image entry per expression). "
                    "They have no masks; with --proposals gt an image's proposals are the gold boxes "
                    "of all its expressions.")
    p.add_argument("annotations", metavar="ANNOTATIONS.json")
    p.add_argument("--split", default=None, help="the split name to record (default: from the file name)")
    _add_common(p, lambda a: {"annotations": a.annotations}, "mdetr")


def add_reclip(datasets: argparse._SubParsersAction) -> None:
    p = datasets.add_parser(
        "reclip", help="ReCLIP's jsonl (refcocog_val.jsonl, ...)",
        description="Evaluate on ReCLIP's jsonl (one referred object per line, with all "
                    "ground-truth objects of the image as 'anns').")
    p.add_argument("annotations", metavar="FILE.jsonl")
    p.add_argument("--split", default=None, help="keep only lines of this split (when lines name one)")
    _add_common(p, lambda a: {"annotations": a.annotations}, "reclip")


def _add_common(p: argparse.ArgumentParser, files: Callable[[argparse.Namespace], dict[str, str]],
                format: str) -> None:
    p.add_argument("--images", required=True, metavar="DIR", help="image folder (e.g. COCO/train2014)")
    p.add_argument("--proposals", metavar="gt|FILE|SPEC", default=None,
                   help="required: 'gt' (ground-truth boxes and masks: not a detector setting), a "
                        "detections file matched by image id (ReCLIP/MAttNet dict, [{image_id, box}], "
                        "COCO results with optional segmentation), or a source run on each image "
                        f"({spec_usage()})")
    p.add_argument("--proposal-cache", metavar="DIR", default=None,
                   help="with a source SPEC: keep each image's proposals here, so a rerun or another "
                        "evaluation of the same images runs the detector once")
    p.add_argument("--model", action="append", metavar="SPEC", default=None,
                   help=f"CLIP model spec, repeatable for an ensemble (default: {DEFAULT_MODELS[0]}); "
                        "ReCLIP's: --model RN50x16:openai --model ViT-B-32:openai")
    p.add_argument("--method", action="append", metavar="NAME", default=None,
                   help="isolation methods, comma-separated or repeated (default: crop,blur as ReCLIP; "
                        "global_local with mask proposals)")
    p.add_argument("--baseline", action="store_true",
                   help="score the whole expression as one find (CLIP alone, ReCLIP's baseline)")
    p.add_argument("--out", required=True, metavar="OUT",
                   help="output folder (run.json, predictions.jsonl, skipped.jsonl, summary.json/.md); "
                        "a rerun with the same folder resumes")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N expressions")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="run shard K of N (1-based), a deterministic slice by image")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_ray_options(p)
    p.set_defaults(func=lambda args: run_refexp(args, format, files(args)))


def config_from_args(args: argparse.Namespace, format: str, files: dict[str, str]) -> EvalConfig:
    methods = [m.strip() for arg in (args.method or []) for m in arg.split(",") if m.strip()]
    return EvalConfig(dataset=format, files=files, images=args.images, proposals=args.proposals,
                      split=args.split, models=tuple(args.model or DEFAULT_MODELS),
                      methods=tuple(methods or DEFAULT_METHODS), baseline=args.baseline,
                      limit=args.limit, device=args.device, proposal_cache=args.proposal_cache)


def run_refexp(args: argparse.Namespace, format: str, files: dict[str, str]) -> int:
    config = config_from_args(args, format, files)
    config.check()
    summary: dict[str, Any] = run_config(args, config, progress=not args.no_progress)
    print((Path(args.out) / SUMMARY_MD).read_text(encoding="utf-8"))
    print(json.dumps({k: summary[k] for k in ("n", "accuracy", "mean_iou")}), file=sys.stderr)
    return 0
