"""``reclip eval DATASET ...``: one subcommand per dataset, each adding its own options (``DATASETS``)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from reclip.synthetic.evaluate import DEFAULT_OUT, evaluate_synthetic

COMMANDS = ("eval",)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="evaluate on a dataset (synthetic: CLIP alone vs the full system)",
        description="Evaluate on a dataset; each dataset is a subcommand with its own options. "
                    "Runs are resumable.")
    datasets = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    for add_dataset in DATASETS.values():
        add_dataset(datasets)
    for add_tool in TOOLS.values():
        add_tool(datasets)


def _add_synthetic(datasets: argparse._SubParsersAction) -> None:
    p = datasets.add_parser(
        "synthetic", help="the synthetic spatial benchmark (from `reclip synth`)",
        description="Accuracy per expression kind of CLIP alone (the whole expression scored "
                    "on each isolated proposal) and of the full system (compiled program + "
                    "interpreter), with the same model, in one run. Resumable.")
    p.add_argument("data", help="dataset directory (from `reclip synth`) or its expressions.jsonl")
    p.add_argument("--model", default="synthetic",
                   help="model spec (default: the shipped 'synthetic' checkpoint)")
    p.add_argument("--limit", type=int, help="evaluate only the first N expressions")
    p.add_argument("--out", default=str(DEFAULT_OUT),
                   help=f"folder for results.jsonl and table.md (default {DEFAULT_OUT}); "
                        "records already in results.jsonl are skipped")
    p.add_argument("--gallery", help="write a failure gallery (index.html + traces) here")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run_synthetic)


def _run_synthetic(args: argparse.Namespace) -> int:
    tally = evaluate_synthetic(args.data, model=args.model, limit=args.limit, out=args.out,
                               gallery=args.gallery, progress=not args.no_progress)
    if not tally.total:
        print("no expression was evaluated", file=sys.stderr)
        return 1
    print(tally.markdown())
    return 0


# Each dataset adds its own subcommand of `reclip eval` (its arguments and its run function).
DATASETS: dict[str, Callable[[argparse._SubParsersAction], None]] = {"synthetic": _add_synthetic}


def _add_merge(tools: argparse._SubParsersAction) -> None:
    p = tools.add_parser(
        "merge", help="merge shard outputs (--shard K/N runs) into one run's figures",
        description="Concatenate the predictions and skipped records of shard outputs (one row per "
                    "sent_id) and write the summary as one run would. Refuses outputs of different "
                    "runs, overlapping or missing shards, and unfinished shards.")
    p.add_argument("shards", nargs="+", metavar="OUT_K", help="shard output folders")
    p.add_argument("--out", required=True, help="folder for the merged output")
    p.set_defaults(func=_run_merge)


def _run_merge(args: argparse.Namespace) -> int:
    from reclip.evaluation.merge import merge_runs

    summary = merge_runs(args.shards, args.out)
    print(f"merged {len(args.shards)} outputs into {args.out}: n={summary.get('n')}, "
          f"accuracy={summary.get('accuracy')}")
    return 0


def _add_compare(tools: argparse._SubParsersAction) -> None:
    p = tools.add_parser(
        "compare", help="two runs side by side, and the expressions that flipped",
        description="Print two evaluation outputs side by side (conventions, overall, by kind, "
                    "by cause of failure) and list the expressions right in one and wrong in the "
                    "other, joined by sent_id.")
    p.add_argument("run_a", metavar="OUT_A")
    p.add_argument("run_b", metavar="OUT_B")
    p.add_argument("--show", type=int, default=20, metavar="N",
                   help="list at most N flipped expressions each way (default 20)")
    p.set_defaults(func=_run_compare)


def _run_compare(args: argparse.Namespace) -> int:
    from reclip.evaluation.compare import compare_runs, format_comparison

    print(format_comparison(compare_runs(args.run_a, args.run_b), show=args.show))
    return 0


def add_ray_options(p: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS] --shards N`` on a dataset command (see ``run_config``)."""
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the shards as Ray tasks on the cluster at ADDRESS (auto, HOST:6379, "
                        "ray://HOST:10001), or on a new local one without ADDRESS; "
                        "needs pip install 'reclip[ray]' and OUT on a shared filesystem")
    p.add_argument("--shards", type=int, metavar="N", help="number of Ray tasks (with --ray)")


def run_config(args: argparse.Namespace, config, progress: bool = True) -> dict:
    """Run a dataset command's ``config`` into ``args.out``: in this process (one shard
    with ``--shard K/N``), or as ``--shards`` Ray tasks with ``--ray``, merged."""
    from pathlib import Path

    from primitives import ReclipError
    from reclip.evaluation import run_evaluation

    if args.ray is None:
        if args.shards is not None:
            raise ReclipError("--shards N needs --ray (one shard in this process: --shard K/N)")
        return run_evaluation(config, Path(args.out), shard=getattr(args, "shard_slice", None),
                              progress=progress)
    if getattr(args, "shard", None):
        raise ReclipError("--ray runs every shard: give --shards N, not --shard K/N")
    if args.shards is None:
        raise ReclipError("--ray needs --shards N (the number of Ray tasks)")
    from reclip.evaluation.ray_runner import run_on_ray

    return run_on_ray(config, args.out, args.shards, address=args.ray)


# Subcommands of `reclip eval` that work on evaluation outputs rather than a dataset.
TOOLS: dict[str, Callable[[argparse._SubParsersAction], None]] = {"merge": _add_merge, "compare": _add_compare}
