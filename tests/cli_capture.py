"""Running the command line in-process and keeping what it printed, for the CLI tests."""

from __future__ import annotations

import contextlib
import io
from typing import Sequence

from reclip.cli.main import main


def capture(argv: Sequence[str]) -> tuple[int, str, str]:
    """``reclip ARGV``: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()
