"""``reclip compile`` and ``reclip relations``: programs and primitives, no model needed."""

from __future__ import annotations

import argparse
import json
import sys

from grammar import Program, compile_expression
from grammar.forms import node_json, pretty_program, program_json  # noqa: F401 (node_json: read from here)
from primitives import REGISTRY
from reclip.report.explain import explain

COMMANDS = ("compile", "relations")


def register(sub: argparse._SubParsersAction) -> None:
    _add_compile(sub)
    _add_relations(sub)


def add_spacy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spacy-model", metavar="NAME", default=None,
                   help="spaCy pipeline for the compiler (default: the compiler's own choice)")


def _add_compile(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile an expression to a program and print it",
                       description="Compile a referring expression into a program (printed as text "
                                   "that 'reclip run' reads back after you edit it).")
    p.add_argument("expression", help='the referring expression, e.g. "the cup left of the plate"')
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the program's tree as JSON")
    out.add_argument("--explain", action="store_true", help="show which words became which node")
    out.add_argument("--pretty", action="store_true",
                     help="one argument per line where a call is long: handy for editing")
    add_spacy_option(p)
    p.set_defaults(func=cmd_compile)




def _add_relations(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("relations", help="list the registered relations, superlatives and their words",
                       description="List the primitives the compiler and the program parser know: "
                                   "built-in ones and those loaded with --plugins.")
    p.add_argument("--json", action="store_true", help="print the listing as JSON")
    p.set_defaults(func=cmd_relations)


def cmd_compile(args: argparse.Namespace) -> int:
    program = compile_text(args.expression, args.spacy_model)
    if args.json:
        print(json.dumps(program_json(program), indent=2, ensure_ascii=False))
    elif args.explain:
        print(program)
        print()
        print(explain(program, args.expression))
    elif args.pretty:
        print(pretty_program(program))
    else:
        print(program)
    for note in program.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def compile_text(expression: str, spacy_model: str | None = None) -> Program:
    return compile_expression(expression, spacy_model=spacy_model, registry=REGISTRY)


PRIMITIVE_GROUPS = {  # primitive kind -> (title, usage)
    "relation": ("relations", "relate(find(...), NAME, find(...))"),
    "ternary": ("ternary relations", "relate(find(...), NAME, find(...), find(...))"),
    "superlative": ("superlatives", "superlative(NAME, find(...)), ordinal(N, NAME, find(...))"),
}


def cmd_relations(args: argparse.Namespace) -> int:
    if args.json:
        listing = {kind: [{"name": p.name, "words": list(p.words), "doc": p.doc} for p in REGISTRY.items(kind)]
                   for kind in PRIMITIVE_GROUPS}
        print(json.dumps(listing, indent=2))
        return 0
    blocks = []
    for kind, (title, usage) in PRIMITIVE_GROUPS.items():
        items = REGISTRY.items(kind)
        width = max((len(p.name) for p in items), default=0)
        lines = [f"{title} ({len(items)}): {usage}"]
        for p in items:
            lines.append(f"  {p.name:<{width}}  {', '.join(p.words) or '(no words)'}")
            if p.doc:
                lines.append(f"  {'':<{width}}    {p.doc}")
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    return 0

