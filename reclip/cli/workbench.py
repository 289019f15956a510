"""``reclip app`` (the interactive workbench, a local web page) and ``reclip check CASES``
(replay the regression cases saved from it)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys

from primitives import ReclipError
from reclip.app.cases import check_cases
from reclip.app.workbench import DEFAULT_CASES, Workbench
from reclip.cli.locate import add_model_options, load_locator
from reclip.cli.programs import add_spacy_option
from reclip.report.links import APP_HOST, APP_PORT

COMMANDS = ("app", "check")
EXIT_REGRESSION = 1


def register(sub: argparse._SubParsersAction) -> None:
    _add_app(sub)
    _add_check(sub)


def _add_model_options(p: argparse.ArgumentParser) -> None:
    add_model_options(p)
    add_spacy_option(p)


def _add_app(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "app", help="the workbench: a local web page to locate, edit programs, debug and keep cases",
        description="Start the workbench (needs the 'app' extra: pip install 'reclip[app]'): type an "
                    "expression, see and edit its program, rerun it, watch each step on the image, mark "
                    "the right proposal and save the fix as a regression case. Works offline; listens on "
                    f"{APP_HOST} unless --host says otherwise.")
    _add_model_options(p)
    p.add_argument("--proposals", metavar="SPEC", default=None,
                   help="proposal source for uploaded images: a proposals file or a source spec "
                        "(maskrcnn, sam:CKPT, ...); default: the demo scene's proposals file")
    p.add_argument("--cases", metavar="FILE.jsonl", default=str(DEFAULT_CASES),
                   help=f"the cases file 'Save case' appends to (default: {DEFAULT_CASES})")
    p.add_argument("--port", type=int, default=APP_PORT, help=f"port to listen on (default {APP_PORT})")
    p.add_argument("--host", default=APP_HOST, help=f"address to listen on (default {APP_HOST}: this machine only)")
    p.add_argument("--files", metavar="DIR", action="append", default=None,
                   help="a folder whose files a link's image and proposals may name (repeatable; "
                        "default: any file when listening on this machine only, else the current folder)")
    p.set_defaults(func=cmd_app)


def _add_check(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check", help="replay a cases file: exit 1 on any regression",
        description="Replay the cases saved from the workbench: per case, whether the compiler still "
                    "produces the saved program and whether the saved program still picks the gold "
                    "proposal. Exit status 1 when any case regressed.")
    p.add_argument("cases", metavar="CASES", help="the cases file (JSONL, written by the workbench's Save case)")
    _add_model_options(p)
    p.set_defaults(func=cmd_check)


def cmd_app(args: argparse.Namespace) -> int:
    from reclip.app.ui import gradio, serve   # Gradio and its checks only for this command

    gradio()   # a missing extra is reported before the model loads
    files = args.files
    if files is None and not _loopback(args.host):
        files = ["."]     # whoever reaches the page can make it read the files its links name
    for folder in files or []:
        if not os.path.isdir(folder):
            raise ReclipError(f"--files {folder}: not a folder")
    workbench = Workbench(load_locator(args), proposals=args.proposals, cases=args.cases, files=files)
    server = serve(workbench, args.host, args.port)
    print(f"reclip workbench on {server.url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    server.block()
    return 0


def _loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_check(args: argparse.Namespace) -> int:
    locator = load_locator(args)
    checks = []
    for check in check_cases(args.cases, locator):
        print(check.line(), flush=True)
        checks.append(check)
    bad = sum(c.regression for c in checks)
    print(f"{len(checks)} case{'s' if len(checks) != 1 else ''}: "
          f"{len(checks) - bad} ok, {bad} regression{'s' if bad != 1 else ''}")
    return EXIT_REGRESSION if bad else 0
