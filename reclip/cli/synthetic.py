"""``reclip synth``, ``reclip train-synthetic`` and ``reclip demo``: the synthetic benchmark."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from primitives import ReclipError
from reclip.clip.specs import SYNTHETIC_PATH
from reclip.files import make_folder, refuse_inputs_as_outputs
from reclip.synthetic.dataset import read_records, write_dataset
from reclip.synthetic.demo import DEFAULT_OUT as DEMO_OUT
from reclip.synthetic.demo import run_demo
from reclip.synthetic.expressions import EXPRESSION_KINDS
from reclip.evaluation.provenance import reclip_version
from reclip.synthetic.training import (FINGERPRINT_STEPS, TrainConfig, build_training_set, image_size,
                                       save_half_checkpoint, train, training_set_sha256)

COMMANDS = ("synth", "train-synthetic", "demo")
TRAIN_OUT = "out/train-synthetic"
LOG_START = b"training set:"          # the first line train() logs     # never the shipped reclip/assets/synthetic.pt


def register(sub: argparse._SubParsersAction) -> None:
    _add_synth(sub)
    _add_train(sub)
    _add_demo(sub)


def _add_synth(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth", help="generate the synthetic spatial benchmark (shapes + expressions)",
        description="Write scenes of coloured shapes (PNG) and unambiguous referring "
                    "expressions with gold boxes, masks and programs (expressions.jsonl).")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--scenes", type=int, default=100, help="number of scenes (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace a dataset already in --out (its images too); without it a "
                        "non-empty --out is refused")
    p.set_defaults(func=cmd_synth)


def cmd_synth(args: argparse.Namespace) -> int:
    if args.scenes < 1:
        raise ReclipError(f"--scenes must be at least 1, got {args.scenes}")
    _check_seed(args.seed)
    path = write_dataset(args.out, args.scenes, args.seed, progress=True, overwrite=args.overwrite)
    counts: dict[str, int] = {}
    for rec in read_records(path):
        counts[rec["kind"]] = counts.get(rec["kind"], 0) + 1
    total = sum(counts.values())
    print(f"wrote {total} expressions on {args.scenes} scenes to {path}")
    print("  " + ", ".join(f"{k}: {counts.get(k, 0)}" for k in EXPRESSION_KINDS))
    return 0


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-synthetic", help="train the small CLIP of the synthetic benchmark (CPU)",
        description="Train a tiny open_clip CLIP contrastively on isolated objects of "
                    "generated scenes and their attribute captions; writes a reclip checkpoint.")
    p.add_argument("--out", default=None,
                   help=f"checkpoint path to write (default {TRAIN_OUT}/synthetic-seedSEED.pt); an existing "
                        "file, the shipped model included, is replaced only with --overwrite")
    p.add_argument("--overwrite", action="store_true", help="replace the checkpoint at --out if there is one")
    p.add_argument("--seed", type=int, default=0, help="random seed of data and model (default 0)")
    p.add_argument("--steps", type=int, default=TrainConfig.steps,
                   help=f"optimiser steps (default {TrainConfig.steps})")
    p.add_argument("--scenes", type=int, default=TrainConfig.scenes,
                   help=f"training scenes to generate (default {TrainConfig.scenes})")
    p.add_argument("--batch", type=int, default=TrainConfig.batch,
                   help=f"pairs per batch (default {TrainConfig.batch})")
    p.add_argument("--threads", type=int, default=TrainConfig.threads,
                   help="torch CPU threads (default 1: on a shared 2-core machine a second thread spin-waits)")
    p.add_argument("--score-scale", type=float, default=TrainConfig.score_scale,
                   help="logit scale stored in the checkpoint (the scorer's temperature; "
                        f"default {TrainConfig.score_scale})")
    p.add_argument("--log", help="also append progress lines to this file")
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    if args.steps < 1 or args.scenes < 1 or args.batch < 2:
        raise ReclipError("--steps and --scenes must be at least 1 and --batch at least 2")
    _check_seed(args.seed)
    if args.threads < 1:
        raise ReclipError(f"--threads must be at least 1, got {args.threads}")
    if args.score_scale is not None and not 0.01 <= args.score_scale <= 100:   # CLIP's own is 100
        raise ReclipError(f"--score-scale must be between 0.01 and 100, got {args.score_scale}")
    if args.out is not None and not args.out.strip():
        raise ReclipError("--out is empty: give the checkpoint's path")
    out = Path(args.out) if args.out else Path(TRAIN_OUT) / f"synthetic-seed{args.seed}.pt"
    if out.is_dir():
        raise ReclipError(f"--out {out} is a folder: give the checkpoint's file path")
    if out.exists() and not args.overwrite:
        shipped = " (the shipped model)" if _same(out, SYNTHETIC_PATH) else ""
        raise ReclipError(f"--out {out} exists{shipped}: pass --overwrite to replace it, or choose another path")
    refuse_inputs_as_outputs({"--out": out}, {"the --log file": args.log})
    _check_log(args.log)
    log_file = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(line: str) -> None:
        print(line, flush=True)
        if log_file:
            log_file.write(line + "\n")
            log_file.flush()

    cfg = TrainConfig(seed=args.seed, steps=args.steps, scenes=args.scenes, batch=args.batch,
                      threads=args.threads, score_scale=args.score_scale)
    t0 = time.time()
    data = build_training_set(cfg.seed, cfg.scenes, image_size(), progress=True)
    model, losses = train(cfg, log=log, data=data)
    minutes = (time.time() - t0) / 60
    extra = {"config": cfg.__dict__, "minutes": round(minutes, 2), "reclip_version": reclip_version(),
             "training_set_sha256": training_set_sha256(data), "first_losses": losses[:FINGERPRINT_STEPS],
             "first_loss": float(np.mean(losses[:50])), "final_loss": float(np.mean(losses[-100:]))}
    make_folder(out.parent, "checkpoint folder")
    path = save_half_checkpoint(model, out, extra=extra)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) after {minutes:.1f} min; "
        f"loss {extra['first_loss']:.3f} -> {extra['final_loss']:.3f}")
    log("training: " + json.dumps(extra))
    if log_file:
        log_file.close()
    return 0


def _check_log(log: str | None) -> None:
    """--log appends: only to a new file or to a log this command wrote (never a user's other file)."""
    if log is None:
        return
    path = Path(log)
    if path.is_dir():
        raise ReclipError(f"--log {log} is a folder: give a file path")
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as f:
            first = f.read(len(LOG_START))
        if first != LOG_START:
            raise ReclipError(f"--log {log} exists and is not a train-synthetic log: choose a new file")


def _check_seed(seed: int) -> None:
    if seed < 0:   # numpy's SeedSequence takes whole numbers from 0
        raise ReclipError(f"--seed must be a whole number of at least 0, got {seed}")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _add_demo(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo", help="locate a few expressions on the bundled scene with the bundled model (offline)",
        description="Run the offline demo: the bundled synthetic scene and CLIP checkpoint; "
                    "prints each expression, its program and the chosen box, and writes PNGs.")
    p.add_argument("--out", default=str(DEMO_OUT), help=f"folder for the PNGs (default {DEMO_OUT})")
    p.add_argument("--model", default="synthetic", help="model spec (default: the bundled 'synthetic')")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.out.strip():
        raise ReclipError("--out is empty: give the folder for the PNGs")
    run_demo(args.out, args.model)
    return 0
