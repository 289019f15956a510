"""``reclip eval DATASET ...``: one subcommand per dataset, each adding its own options (``DATASETS``)."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from reclip.cli.refexp import add_mdetr, add_refer, add_reclip
from reclip.synthetic.evaluate import DEFAULT_OUT, evaluate_synthetic

COMMANDS = ("eval",)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval", help="evaluate on a dataset (synthetic; refer, mdetr, reclip: RefCOCO/+/g)",
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
DATASETS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "synthetic": _add_synthetic, "refer": add_refer, "mdetr": add_mdetr, "reclip": add_reclip,
}


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
    from reclip.files import refuse_inputs_as_outputs

    refuse_inputs_as_outputs({"--out": args.out}, {"one of the shard folders it merges": args.shards})
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


# Subcommands of `reclip eval` that work on evaluation outputs rather than a dataset.
TOOLS: dict[str, Callable[[argparse._SubParsersAction], None]] = {"merge": _add_merge, "compare": _add_compare}
