"""``--ray [ADDRESS] --shards N``: an evaluation's shards as Ray tasks, then merged.

Each task imports the dataset format's module (which registers it) and runs
``run_evaluation(config, OUT/shards/K-of-N, (K, N))``, writing there, so
OUT must be on a filesystem every node shares (the same path on each). Ray is optional
(``pip install reclip[ray]``); it is imported here only, when a run asks for it.

Without an address a new local cluster is started (``address="local"``: plain
``ray.init()`` would join whatever cluster ``RAY_ADDRESS`` or ``/tmp/ray`` names); with one
(``auto``, ``HOST:6379``, ``ray://HOST:10001``) that cluster is used. A Ray already
initialised in this process is used as it is and left running. Workers import reclip
from this checkout: its root is put on their ``PYTHONPATH``.
"""

from __future__ import annotations

import builtins
import dataclasses
import os
import socket
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from primitives import ReclipError
from reclip.datasets import FORMATS
from reclip.evaluation.config import EvalConfig
from reclip.evaluation.merge import merge_runs

LOCAL = "local"
REPO_ROOT = Path(__file__).resolve().parents[2]
# Ray's smallest object store: the tasks return small dicts, their output goes to files.
OBJECT_STORE_BYTES = 80 * 2**20
CONNECT_SECONDS = 10   # a cluster's head answers at once; nothing there should not cost minutes


class RayRunError(ReclipError):
    """Ray missing, unreachable, or a shard that failed on it."""


def import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise RayRunError("--ray needs Ray: pip install 'reclip[ray]'") from None
    return ray


def shard_folder(out: Path, k: int, n: int) -> Path:
    return out / "shards" / f"{k}-of-{n}"


def run_shard(config: Any, out: str, k: int, n: int, format_module: str | None = None) -> dict:
    """One shard, in a Ray worker (no progress bar: many workers share one terminal). The dataset
    format's module is imported first: importing it registers the format in the worker too."""
    import importlib

    from reclip.evaluation.run import run_evaluation

    if format_module:
        importlib.import_module(format_module)
    return run_evaluation(config, Path(out), shard=(k, n), progress=False)


def absolute(config: EvalConfig) -> EvalConfig:
    """``config`` with its paths absolute: workers do not run in this directory."""
    def path(value: str | None) -> str | None:
        return str(Path(value).resolve()) if value and Path(value).exists() else value

    return dataclasses.replace(config, files={k: path(v) for k, v in config.files.items()},
                               images=path(config.images), proposals=path(config.proposals))


def check_reachable(address: str | None, timeout: float = CONNECT_SECONDS) -> None:
    """For a HOST:PORT or ray://HOST:PORT address, refuse one where nothing answers on the
    port within ``timeout`` seconds: ray.init would retry for minutes before saying so."""
    if address in (None, LOCAL, "auto"):
        return
    host, sep, port = str(address).removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise RayRunError(f"--ray {address}: expected HOST:PORT, ray://HOST:PORT or auto")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except (OSError, ValueError, OverflowError) as exc:
        raise RayRunError(f"cannot reach Ray at {address}: nothing answers on port {port} of {host} "
                          f"within {timeout:g} s ({getattr(exc, 'strerror', None) or exc})") from None


def init_kwargs(address: str | None, shards: int) -> dict:
    """ray.init's arguments: a small local cluster, or the given cluster's address."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runtime_env = {"env_vars": {"PYTHONPATH": str(REPO_ROOT)}}
    if address in (None, LOCAL):
        return dict(address=LOCAL, num_cpus=max(1, min(shards, os.cpu_count() or 1)),
                    include_dashboard=False, logging_level="ERROR",
                    object_store_memory=OBJECT_STORE_BYTES, runtime_env=runtime_env)
    return dict(address=address, logging_level="ERROR", runtime_env=runtime_env)


def run_on_ray(config: EvalConfig, out: str | Path, shards: int, address: str | None = None,
               log: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> dict:
    """Run ``config``'s evaluation as ``shards`` Ray tasks, merge them into ``out``;
    returns the merged summary."""
    if shards < 1:
        raise RayRunError(f"--shards must be at least 1, got {shards}")
    ray = import_ray()
    config, out = absolute(config), Path(out).resolve()
    started, print_before = not ray.is_initialized(), builtins.print
    if started:
        check_reachable(address)
        try:
            ray.init(**init_kwargs(address, shards))
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise RayRunError(f"cannot start or reach Ray at {address or LOCAL}: {exc}") from None
    try:
        folders = [shard_folder(out, k, shards) for k in range(1, shards + 1)]
        remote = ray.remote(run_shard)
        module = FORMATS.get(config.dataset).module
        pending = {remote.remote(config, str(f), k, shards, module): k for k, f in enumerate(folders, 1)}
        log(f"ray: {shards} shards submitted; output under {out / 'shards'}")
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            k = pending.pop(done[0])
            _result(ray, done[0], k, shards)
            log(f"ray: shard {k}/{shards} done")
    finally:
        if started:
            ray.shutdown()
            builtins.print = print_before   # ray.shutdown() leaves its own print in builtins
    return merge_runs(folders, out)


def _result(ray: ModuleType, ref: Any, k: int, n: int) -> dict:
    """A task's result; its failure as one line naming the shard (the project's own
    error message when the task raised one)."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        message = str(cause) if isinstance(cause, ReclipError) else f"{type(cause or exc).__name__}: {cause or exc}"
        raise RayRunError(f"shard {k}/{n} failed: {message.splitlines()[0] if message else ''}") from None
    except ray.exceptions.RayError as exc:
        raise RayRunError(f"shard {k}/{n} failed on Ray: {str(exc).splitlines()[0]}") from None
