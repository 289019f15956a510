"""An output folder belongs to one running evaluation at a time: ``OUT/.lock`` holds the pid
(and host) of the run writing there. A second run into it stops with one line naming the first;
a lock left by a process that no longer runs on this host is taken over."""

from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from primitives import ReclipError

LOCK = ".lock"
FRESH_S = 5.0      # an empty lock younger than this is being written by its taker, not left by a dead run


class FolderLockedError(ReclipError):
    """The output folder is in use by another running evaluation."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # it exists, owned by someone else
        return True
    return True


def _holder(path: Path) -> dict | None:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return holder if isinstance(holder, dict) and isinstance(holder.get("pid"), int) else None


def _stale(holder: dict | None) -> bool:
    """A lock nobody holds any more: unreadable, or its pid gone on this host."""
    if holder is None:
        return True
    return holder.get("host") == socket.gethostname() and not _alive(holder["pid"])


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return FRESH_S


def _acquire(path: Path, me: dict) -> bool:
    """Take the lock at ``path``: True when taken now, False when this process holds it already
    (a run inside a run); a FolderLockedError when a live process holds it."""
    for _ in range(100):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if holder == me:
                return False
            if holder is None and _age(path) < FRESH_S:   # created but not yet written: its taker is alive
                time.sleep(0.05)
                continue
            if not _stale(holder):
                raise FolderLockedError(
                    f"{path.parent} is in use by another evaluation (pid {holder['pid']} on "
                    f"{holder.get('host')}); wait for it to end, or choose another --out") from None
            path.unlink(missing_ok=True)
            continue
        except OSError as exc:
            raise ReclipError(f"cannot lock {path.parent}: {exc.strerror or exc}") from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me, f)
        return True
    raise FolderLockedError(f"cannot lock {path.parent}: other evaluations keep taking it")


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock while the block runs (taken over from a dead holder)."""
    path = Path(out) / LOCK
    taken = _acquire(path, {"pid": os.getpid(), "host": socket.gethostname()})
    try:
        yield
    finally:
        if taken:
            path.unlink(missing_ok=True)
