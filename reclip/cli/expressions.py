"""The expressions ``reclip locate`` runs: the positional one, each ``-e``, and the lines
of an ``--expressions`` file (plain text, one per line, or JSONL with an "expression" field)."""

from __future__ import annotations

import argparse
from pathlib import Path

from primitives import ReclipError
from reclip.files import parse_json

MAX_EXPRESSIONS = 10_000    # per call: the results of one image are held in memory together


def add_expression_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("expression", nargs="?", default=None,
                   help="the referring expression (or give several with -e / --expressions)")
    p.add_argument("-e", "--expression", dest="more_expressions", action="append", default=[],
                   metavar="EXPR", help="another expression over the same image and proposals; "
                                        "repeatable (the model loads once, one scoring pass)")
    p.add_argument("--expressions", metavar="FILE", default=None,
                   help='a file of expressions: one per line, or JSONL with an "expression" field')


def expressions_of(args: argparse.Namespace) -> list[str]:
    """Every expression asked for, in order: positional, -e, then the file's."""
    found = ([args.expression] if args.expression is not None else []) + list(args.more_expressions)
    if args.expressions:
        found += read_expressions(args.expressions)
    if not found:
        raise ReclipError("no expression: give one (reclip locate IMAGE EXPR), -e EXPR or --expressions FILE")
    for k, text in enumerate(found):
        if not text.strip():
            raise ReclipError(f"expression {k + 1} is empty")
    if len(found) > MAX_EXPRESSIONS:
        raise ReclipError(f"{len(found)} expressions: at most {MAX_EXPRESSIONS} per call")
    return found


def read_expressions(spec: str) -> list[str]:
    """The expressions of a text file (one per line) or a JSONL file ({"expression": ...})."""
    path = Path(spec)
    if not path.is_file():
        raise ReclipError(f"expressions file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise ReclipError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ReclipError(f"cannot read expressions file {path}: {exc.strerror or exc}") from None
    numbered = [(n, line.strip()) for n, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        raise ReclipError(f"{path}: the file holds no expressions")
    if path.suffix.lower() == ".jsonl" or numbered[0][1].startswith("{"):
        return [_jsonl_expression(line, f"{path}:{n}") for n, line in numbered]
    return [line for _, line in numbered]


def _jsonl_expression(line: str, where: str) -> str:
    record = parse_json(line, where)
    text = record.get("expression") if isinstance(record, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise ReclipError(f'{where}: expected an object with a non-empty "expression" string')
    return text
