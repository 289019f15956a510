"""The ``reclip`` command line: compile, locate, run, relations (+ synth, train, eval, demo).

Errors a user causes (a missing file, a bad box, an unknown model, a program that
does not parse) print one clear message to stderr and exit with status 2; a program
syntax error prints its line, column, a caret and suggestions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from grammar import Program, ProgramSyntaxError, parse_program
from grammar.ast import And, Find, Node, Ordinal, Relate, Superlative
from primitives import REGISTRY, ReclipError
from reclip.explain import explain, pretty_program

# Subcommands that live in their own modules; each has register(subparsers).
COMMAND_MODULES = ("reclip.synth", "reclip.train", "reclip.evaluate", "reclip.demo")
DEFAULT_MODEL = "synthetic"
EXIT_USAGE = 2


# -- the parser -----------------------------------------------------------------------
OWN_COMMANDS = ("compile", "locate", "run", "relations")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; given one of this module's ``command``s, the other modules'
    subcommands (which import torch) are left out, which saves seconds per call."""
    parser = argparse.ArgumentParser(
        prog="reclip",
        description="Zero-shot referring expressions: compile them to programs, run the programs "
                    "over CLIP-scored proposals, and see why a box was chosen.",
        epilog="Run 'reclip COMMAND --help' for a command's options.",
    )
    _add_plugins_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_compile(sub)
    _add_locate(sub)
    _add_run(sub)
    _add_relations(sub)
    if command not in OWN_COMMANDS:
        for module in _command_modules():
            module.register(sub)
    for subparser in sub.choices.values():
        if not any("--plugins" in a.option_strings for a in subparser._actions):
            _add_plugins_option(subparser, dest="sub_plugins")
    return parser


def _command_modules() -> list[Any]:
    """The subcommand modules that exist (a missing one is skipped; a broken one raises)."""
    found = []
    for name in COMMAND_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def _add_plugins_option(parser: argparse.ArgumentParser, dest: str = "plugins") -> None:
    parser.add_argument(
        "--plugins", action="append", default=[], dest=dest, metavar="FILE.py",
        help="a Python file (or module name) of @relation / @superlative definitions to load; "
             "repeatable. Modules in the 'reclip.relations' entry point group load always.")


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
    _add_spacy_option(p)
    p.set_defaults(func=cmd_compile)


def _add_spacy_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--spacy-model", metavar="NAME", default=None,
                   help="spaCy pipeline for the compiler (default: the compiler's own choice)")


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--proposals", required=True, metavar="FILE",
                   help="JSON: a list of boxes [x0,y0,x1,y1], of {box, mask?, label?}, or COCO results")
    p.add_argument("--image-id", metavar="ID", default=None,
                   help="with a COCO results file: use the boxes of this image_id")
    p.add_argument("--model", action="append", metavar="SPEC", default=None,
                   help=f"CLIP model spec, repeatable for an ensemble (default: {DEFAULT_MODEL}); e.g. "
                        "ViT-B-32:openai, RN50x16:openai, NAME:/path/weights.pt, /path/checkpoint.pt")
    p.add_argument("--method", action="append", metavar="NAME", default=None,
                   help="isolation method, repeatable (default: crop and blur, as ReCLIP)")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--gold", nargs=4, type=float, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                   help="the right box, when known: the output says whether the answer is right, "
                        "and the trace shows where it was lost")
    p.add_argument("--trace", metavar="OUT.html", default=None,
                   help="write a self-contained HTML page showing every node's distribution")
    p.add_argument("--draw", metavar="OUT.png", default=None,
                   help="write a PNG with the proposals numbered and the answer drawn")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("-v", "--verbose", action="store_true", help="also print every node's top proposal")


def _add_locate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("locate", help="find the proposal an expression refers to",
                       description="Compile an expression, score the proposals with CLIP, run the "
                                   "program and print the chosen proposal.")
    p.add_argument("image", help="the image file")
    p.add_argument("expression", help="the referring expression")
    _add_scoring_options(p)
    _add_spacy_option(p)
    p.set_defaults(func=cmd_locate)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a (hand-edited) program",
                       description="Run program text (as 'reclip compile' prints it, edited as you "
                                   "like; whitespace, newlines and # comments are allowed).")
    p.add_argument("program", help="file holding the program text, or - for stdin")
    p.add_argument("image", help="the image file")
    _add_scoring_options(p)
    p.set_defaults(func=cmd_run)


def _add_relations(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("relations", help="list the registered relations, superlatives and their words",
                       description="List the primitives the compiler and the program parser know: "
                                   "built-in ones and those loaded with --plugins.")
    p.add_argument("--json", action="store_true", help="print the listing as JSON")
    p.set_defaults(func=cmd_relations)


# -- compile --------------------------------------------------------------------------
def cmd_compile(args: argparse.Namespace) -> int:
    program = compile_text(args.expression, args.spacy_model)
    if args.json:
        print(json.dumps(program_json(program), indent=2, ensure_ascii=False))
    elif args.explain:
        print(program)
        print()
        print(explain(program, args.expression, REGISTRY))
    elif args.pretty:
        print(pretty_program(program))
    else:
        print(program)
    for note in program.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def compile_text(expression: str, spacy_model: str | None = None) -> Program:
    from grammar import compile_expression

    return compile_expression(expression, spacy_model=spacy_model, registry=REGISTRY)


def node_json(node: Node) -> dict[str, Any]:
    """A program node as a JSON-ready tree."""
    if isinstance(node, Find):
        out: dict[str, Any] = {"type": "find", "text": node.text}
        if node.head is not None:
            out["head"] = node.head
        return out
    if isinstance(node, Relate):
        return {"type": "relate", "relation": node.relation, "target": node_json(node.target),
                "landmarks": [node_json(n) for n in node.landmarks]}
    if isinstance(node, Superlative):
        return {"type": "superlative", "kind": node.kind, "arg": node_json(node.arg)}
    if isinstance(node, Ordinal):
        return {"type": "ordinal", "n": node.n, "kind": node.kind, "arg": node_json(node.arg)}
    if isinstance(node, And):
        return {"type": "and", "args": [node_json(n) for n in node.args]}
    raise TypeError(f"not a program node: {node!r}")


def program_json(program: Program) -> dict[str, Any]:
    return {"program": str(program), "source": program.source, "notes": list(program.notes),
            "target": str(program.target), "tree": node_json(program.root)}


# -- locate / run ---------------------------------------------------------------------
def cmd_locate(args: argparse.Namespace) -> int:
    image, proposals = _inputs(args)
    program = compile_text(args.expression, args.spacy_model)
    for note in program.notes:
        print(f"note: {note}", file=sys.stderr)
    locator = load_locator(args)
    result = locator.run(program, image, proposals)
    return _report(args, result, image, args.expression)


def cmd_run(args: argparse.Namespace) -> int:
    text, name = _read_program_text(args.program)
    try:
        program = parse_program(text, REGISTRY)
    except ProgramSyntaxError as exc:
        raise ProgramFileError(name, exc) from None
    image, proposals = _inputs(args)
    result = load_locator(args).run(program, image, proposals)
    return _report(args, result, image, _leading_comment(text), title=f"reclip run {name}")


def _leading_comment(text: str) -> str | None:
    """A program file's first line when it is a comment (the gallery writes the expression there)."""
    first = text.lstrip().split("\n", 1)[0].strip()
    return first[1:].strip() or None if first.startswith("#") else None


class ProgramFileError(ReclipError):
    """A syntax error in a program file: the parser's message, prefixed by the file name."""

    def __init__(self, name: str, error: ProgramSyntaxError):
        self.error = error
        super().__init__(f"{name}: {error}")


def _read_program_text(spec: str) -> tuple[str, str]:
    if spec == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(spec)
    if not path.is_file():
        hint = " (to run program text directly, pipe it in: echo '...' | reclip run - IMAGE ...)" \
            if "(" in spec else ""
        raise ReclipError(f"program file not found: {spec}{hint}")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ReclipError(f"cannot read program file {path}: {exc}") from None


def _inputs(args: argparse.Namespace):
    """The image and its proposals, checked before any model loads (fast errors)."""
    from reclip.images import load_image
    from reclip.proposals_io import read_proposals

    image = load_image(args.image)
    proposals = read_proposals(args.proposals, image_id=args.image_id, image_size=image.size)
    if args.gold is not None:
        from primitives import validate_boxes

        validate_boxes(args.gold, "gold box")
    return image, proposals


def load_locator(args: argparse.Namespace):
    """A Locator on the CLIP scorer the options name."""
    from reclip.locator import Locator

    options: dict[str, Any] = {}
    if args.method:  # "--method crop,blur" and "--method crop --method blur" alike
        options["methods"] = [m.strip() for arg in args.method for m in arg.split(",") if m.strip()]
    if args.device:
        options["device"] = args.device
    spacy_model = getattr(args, "spacy_model", None)
    if spacy_model:
        options["spacy_model"] = spacy_model
    return Locator.from_pretrained(args.model or [DEFAULT_MODEL], **options)


def _report(args: argparse.Namespace, result, image, expression: str | None, title: str | None = None) -> int:
    """Print the result; write the trace and the drawing when asked."""
    gold = list(args.gold) if args.gold is not None else None
    written = []
    if args.trace:
        from reclip.report import write_trace_html

        written.append(("trace", write_trace_html(result, image, args.trace, expression=expression,
                                                  gold_box=gold, title=title)))
    if args.draw:
        from reclip.draw import draw_result

        draw_result(image, result.graph.proposals, chosen=result.index, gold_box=gold, path=args.draw)
        written.append(("drawing", Path(args.draw)))
    verdict = _verdict(result, gold)
    if args.json:
        out = {"program": str(result.program), "index": result.index, "box": result.box,
               "probability": result.probability, "scores": [float(v) for v in result.scores]}
        if verdict:
            out.update(verdict)
        out.update({kind: str(path) for kind, path in written})
        if args.verbose:
            out["trace"] = result.trace.to_dict()["steps"]
        print(json.dumps(out, indent=2))
        return 0
    print(f"program: {result.program}")
    box = ", ".join(f"{v:g}" for v in result.box)
    print(f"answer:  #{result.index}  box [{box}]  p={result.probability:.3f}")
    if verdict:
        gold_at = f"gold #{verdict['gold_index']}" if verdict["gold_index"] is not None \
            else "no proposal matches the gold box"
        print(f"gold:    {'correct' if verdict['correct'] else 'WRONG'}  (IoU {verdict['iou']:.2f}; {gold_at})")
    fallbacks = result.trace.fallbacks
    for s in fallbacks:
        print(f"fallback at step {s.step} {s.label}: {s.fallback}")
    if args.verbose:
        print("steps:")
        print(result.trace)
    for kind, path in written:
        print(f"{kind + ':':8} {path}")
    return 0


def _verdict(result, gold: list[float] | None) -> dict[str, Any] | None:
    if gold is None:
        return None
    from reclip.report import diagnose

    d = diagnose(result, gold)
    return {"correct": d.correct, "iou": d.answer_iou, "gold_index": d.gold_index}


# -- relations ------------------------------------------------------------------------
KIND_TITLES = {
    "relation": ("relations", "relate(find(...), NAME, find(...))"),
    "ternary": ("ternary relations", "relate(find(...), NAME, find(...), find(...))"),
    "superlative": ("superlatives", "superlative(NAME, find(...)), ordinal(N, NAME, find(...))"),
}


def cmd_relations(args: argparse.Namespace) -> int:
    if args.json:
        listing = {kind: [{"name": p.name, "words": list(p.words), "doc": p.doc} for p in REGISTRY.items(kind)]
                   for kind in KIND_TITLES}
        print(json.dumps(listing, indent=2))
        return 0
    blocks = []
    for kind, (title, usage) in KIND_TITLES.items():
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


# -- entry point ----------------------------------------------------------------------
def load_plugins(specs: Sequence[str]) -> None:
    from reclip.plugins import load_entry_points, load_plugin

    load_entry_points()
    for spec in specs:
        load_plugin(spec)


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
    """Run the command line; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    try:
        load_plugins([*args.plugins, *getattr(args, "sub_plugins", [])])
        return int(args.func(args) or 0)
    except ProgramFileError as exc:
        print(f"reclip {args.command}: syntax error in {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ReclipError as exc:
        print(f"reclip {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reclip: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `reclip relations | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
