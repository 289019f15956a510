"""The ``reclip`` command line (``reclip.cli.main``); one module per command group."""

from reclip.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
