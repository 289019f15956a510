"""``--ray [ADDRESS] --shards N`` on the dataset commands of ``reclip eval``, and the one
function that runs a command's configuration: here, one shard here, or shards on Ray."""

from __future__ import annotations

import argparse
from typing import Any

from primitives import ReclipError
from reclip.evaluation.config import EvalConfig, parse_shard
from reclip.evaluation.run import run_evaluation


def add_ray_options(p: argparse.ArgumentParser) -> None:
    """``--ray [ADDRESS] --shards N`` on a dataset command (see ``run_config``)."""
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the shards as Ray tasks on the cluster at ADDRESS (auto, HOST:6379, "
                        "ray://HOST:10001), or on a new local one without ADDRESS; "
                        "needs pip install 'reclip[ray]' and OUT on a shared filesystem")
    p.add_argument("--shards", type=int, metavar="N", help="number of Ray tasks (with --ray)")


def run_config(args: argparse.Namespace, config: EvalConfig, progress: bool = True) -> dict[str, Any]:
    """Run a dataset command's ``config`` into ``args.out`` and return the summary: in this
    process (one shard with ``--shard K/N``), or as ``--shards`` Ray tasks with ``--ray``, merged."""
    if args.ray is None:
        if args.shards is not None:
            raise ReclipError("--shards N needs --ray (one shard in this process: --shard K/N)")
        return run_evaluation(config, args.out, parse_shard(args.shard), progress=progress)
    if args.shard:
        raise ReclipError("--ray runs every shard: give --shards N, not --shard K/N")
    if args.shards is None:
        raise ReclipError("--ray needs --shards N (the number of Ray tasks)")
    from reclip.evaluation.ray_runner import run_on_ray

    return run_on_ray(config, args.out, args.shards, address=args.ray)
