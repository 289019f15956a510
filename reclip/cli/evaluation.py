"""``reclip eval DATASET ...``: one subcommand, one entry per dataset in ``DATASETS``."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from reclip.synthetic.evaluate import DEFAULT_OUT, Tally, evaluate_synthetic

COMMANDS = ("eval",)


def _run_synthetic(args: argparse.Namespace) -> Tally:
    return evaluate_synthetic(args.data, model=args.model, limit=args.limit, out=args.out,
                              gallery=args.gallery, progress=not args.no_progress)


# Each evaluation: a function of the parsed arguments that returns its tally.
DATASETS: dict[str, Callable[[argparse.Namespace], Tally]] = {"synthetic": _run_synthetic}


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
