"""Ctrl-C at any moment of the ``reclip`` command exits 130 with one line, imports included.

The console script (``reclip = reclip.cli:main``) and ``python -m reclip`` import the
package before ``main`` runs, and those imports take seconds; a KeyboardInterrupt raised
there would print a traceback from code that is not ours. So when this process is the
``reclip`` command (and only then: a program that imports reclip keeps its own Ctrl-C),
the package's first line installs a SIGINT handler that says one line and exits 130;
``reclip.cli.main`` puts Python's own handler back once it runs, and turns a
KeyboardInterrupt into the same line and status.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType

EXIT_INTERRUPTED = 130   # 128 + SIGINT, as shells report it
MESSAGE = "reclip: interrupted\n"


def is_reclip_command(argv: list[str] | None = None) -> bool:
    """Whether this process was started as ``reclip ...`` or ``python -m reclip ...``."""
    argv = list(getattr(sys, "orig_argv", []) if argv is None else argv)
    if "-m" in argv:
        return argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["reclip"]
    return len(argv) > 1 and Path(argv[1]).name in ("reclip", "reclip.exe", "reclip-script.py")


def _exit_now(signum: int, frame: FrameType | None) -> None:
    os.write(2, MESSAGE.encode())
    os._exit(EXIT_INTERRUPTED)   # mid-import: nothing to clean up, and no traceback to print


def exit_on_interrupt_while_importing() -> None:
    if is_reclip_command():
        try:
            signal.signal(signal.SIGINT, _exit_now)
        except ValueError:   # not the main thread: leave signals alone
            pass


def restore_interrupts() -> None:
    """Python's own Ctrl-C (a KeyboardInterrupt) again, once ``main`` can catch it."""
    try:
        if signal.getsignal(signal.SIGINT) is _exit_now:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    except ValueError:
        pass
