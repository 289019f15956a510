"""``reclip eval FORMAT ...``: one subcommand per registered dataset format (built from its
registry entry by ``formats.add_format``), and the tools that work on evaluation outputs."""

from __future__ import annotations

import argparse
from typing import Callable

from reclip.cli.formats import add_format
from reclip.datasets import FORMATS
import reclip.synthetic.evaluate  # noqa: F401  (registers the synthetic benchmark's format)

COMMANDS = ("eval",)


def register(subparsers: argparse._SubParsersAction) -> None:
    names = ", ".join(FORMATS.names())
    p = subparsers.add_parser(
        "eval", help=f"evaluate on a dataset ({names}; merge, compare)",
        description="Evaluate on a dataset; each registered dataset format is a subcommand with the "
                    "files and options it declares. Runs are resumable.")
    datasets = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    for name, fmt in FORMATS.all().items():
        add_format(datasets, name, fmt)
    for add_tool in TOOLS.values():
        add_tool(datasets)


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
    from reclip.evaluation.merge import check_merge_target, merge_runs
    from reclip.files import refuse_inputs_as_outputs

    refuse_inputs_as_outputs({"--out": args.out}, {"one of the shard folders it merges": args.shards})
    check_merge_target(args.shards, args.out)
    summary = merge_runs(args.shards, args.out)
    print(f"merged {len(args.shards)} outputs into {args.out}: n={summary.get('n')}, "
          f"accuracy={summary.get('accuracy')}")
    return 0


def _add_compare(tools: argparse._SubParsersAction) -> None:
    p = tools.add_parser(
        "compare", help="two runs side by side, and the expressions that flipped",
        description="Print two evaluation outputs side by side (the settings they differ in, "
                    "conventions, overall, by kind, by cause of failure) and list the expressions "
                    "right in one and wrong in the other, joined by sent_id.")
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
