"""The ``reclip`` command line: the parser, plugins and error reporting.

Each command group is a module with ``COMMANDS`` and ``register(subparsers)``: programs
(compile, relations), locate (locate, run), synthetic (synth, train-synthetic, demo) and
evaluation (eval). Errors a user causes (a missing file, a bad box, an unknown model, a
program that does not parse) print one clear message to stderr and exit with status 2;
a program syntax error prints its line, column, a caret and suggestions. Any other
exception is a bug: one line saying so and how to see the traceback (RECLIP_DEBUG=1),
exit status 70.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
import warnings
from types import ModuleType
from typing import Sequence

from foundation import CATALOGS, ReclipError, failures, load_plugin
from foundation.plugins import PluginWarning
from reclip._interrupt import EXIT_INTERRUPTED, restore_interrupts
from reclip.cli import locate, programs
from reclip.cli.locate import ProgramFileError

# Groups that import torch and open_clip are imported only when their command runs (or
# for --help), which saves seconds per call of the light commands.
LIGHT_GROUPS: tuple[ModuleType, ...] = (programs, locate)
HEAVY_GROUPS = ("reclip.cli.synthetic", "reclip.cli.evaluation", "reclip.cli.workbench", "reclip.cli.plugins")
EXIT_USAGE = 2
EXIT_INTERNAL = 70          # EX_SOFTWARE (sysexits.h): a bug in reclip, not the user's input
DEBUG_VARIABLE = "RECLIP_DEBUG"
SUB_PLUGINS = "sub_plugins_"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; given a light group's ``command``, the heavy groups are left out."""
    parser = argparse.ArgumentParser(
        prog="reclip",
        description="Zero-shot referring expressions: compile them to programs, run the programs "
                    "over CLIP-scored proposals, and see why a box was chosen.",
        epilog="Run 'reclip COMMAND --help' for a command's options.",
    )
    _add_plugins_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    groups = list(LIGHT_GROUPS)
    if not any(command in g.COMMANDS for g in LIGHT_GROUPS):
        groups += [importlib.import_module(name) for name in HEAVY_GROUPS]
    for group in groups:
        group.register(sub)
    for depth, subparser in _subparsers(parser):
        if not any("--plugins" in a.option_strings for a in subparser._actions):
            # one dest per depth: a nested parser's default would overwrite its parent's value
            _add_plugins_option(subparser, dest=f"{SUB_PLUGINS}{depth}")
    return parser


def _subparsers(parser: argparse.ArgumentParser, depth: int = 1) -> list[tuple[int, argparse.ArgumentParser]]:
    """(depth, parser) of every subcommand below ``parser``, nested ones (``eval synthetic``) too."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found += [(depth, child), *_subparsers(child, depth + 1)]
    return found


def _plugin_specs(args: argparse.Namespace) -> list[str]:
    """The --plugins given before the command and after each (sub)command."""
    nested = [spec for name, specs in sorted(vars(args).items())
              if name.startswith(SUB_PLUGINS) for spec in specs]
    return [*args.plugins, *nested]


def _add_plugins_option(parser: argparse.ArgumentParser, dest: str = "plugins") -> None:
    parser.add_argument(
        "--plugins", action="append", default=[], dest=dest, metavar="FILE.py",
        help="a Python file (or module name) that registers relations, isolation methods, proposal "
             "sources, ... with reclip's decorators; repeatable. Installed plugins (entry point groups "
             "reclip_<kind>) load always; 'reclip plugins' lists them.")


def load_plugins(specs: Sequence[str]) -> None:
    """Installed plugins of every registry imported so far, then the --plugins files and modules."""
    for catalog in list(CATALOGS.values()):
        catalog.load_plugins()
    for spec in specs:
        load_plugin(spec)


def warn_failed_plugins(already: int) -> None:
    """One line on stderr per installed plugin that failed to load (reclip went on without it)."""
    for failure in failures()[already:]:
        print(f"reclip: warning: {failure.message()}", file=sys.stderr)


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not a global option)."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word == "--plugins":
            skip = True
        elif not word.startswith("-"):
            return word
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (130 after Ctrl-C, at any moment)."""
    restore_interrupts()
    try:
        return _main(sys.argv[1:] if argv is None else list(argv))
    except KeyboardInterrupt:   # while parsing or importing a heavy group
        print("reclip: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore", category=PluginWarning)   # reported below, one line each
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    reported = len(failures())
    try:
        load_plugins(_plugin_specs(args))
        warn_failed_plugins(reported)
        reported = len(failures())
        return int(args.func(args) or 0)
    except ProgramFileError as exc:
        print(f"reclip {args.command}: syntax error in {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ReclipError as exc:
        print(f"reclip {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reclip: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `reclip relations | head`
        sys.stderr.close()
        return 0
    except Exception as exc:  # the backstop: a bug, reported in one line unless debugging
        return _internal_error(args.command, exc)
    finally:  # plugins of registries first used by the command itself
        warn_failed_plugins(reported)


def _internal_error(command: str, exc: Exception) -> int:
    """One line naming the exception, or the whole traceback with RECLIP_DEBUG=1."""
    if os.environ.get(DEBUG_VARIABLE, "") not in ("", "0"):
        traceback.print_exc()
    else:
        detail = " ".join(str(exc).split())[:300]
        print(f"reclip {command}: internal error (a bug in reclip, please report it): "
              f"{type(exc).__name__}: {detail}; run again with {DEBUG_VARIABLE}=1 to see the traceback",
              file=sys.stderr)
    return EXIT_INTERNAL

