"""``reclip locate`` and ``reclip run``: an expression or a program over an image's proposals."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from grammar import ProgramSyntaxError, parse_program
from primitives import REGISTRY, ReclipError, validate_boxes
from reclip.cli.expressions import add_expression_options, expressions_of
from reclip.cli.programs import add_spacy_option, compile_text
from reclip.files import image_format, load_image, refuse_inputs_as_outputs, spec_paths
from reclip.locator import Locator
from reclip.proposals import DEFAULT_DETECTOR, proposal_source, spec_usage
from reclip.report.diagnose import diagnose, salient
from reclip.report.draw import draw_result
from reclip.report.trace import write_trace_html

COMMANDS = ("locate", "run")
DEFAULT_MODEL = "synthetic"


def register(sub: argparse._SubParsersAction) -> None:
    _add_locate(sub)
    _add_run(sub)


def _add_scoring_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--proposals", default=None, metavar="SPEC",
                   help="a proposals file (JSON: boxes [x0,y0,x1,y1], {box, mask?, label?} records or COCO "
                        f"results) or a source: {spec_usage()}, each with ?KEY=VALUE options (default: the "
                        f"first detector --model's own boxes, else {DEFAULT_DETECTOR}, from torchvision's cache)")
    p.add_argument("--proposal-cache", metavar="DIR", default=None,
                   help="keep computed proposals in DIR (per image and source) and reuse them")
    p.add_argument("--image-id", metavar="ID", default=None,
                   help="with a COCO results file: use the boxes of this image_id")
    add_model_options(p)
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
    add_expression_options(p)
    _add_scoring_options(p)
    add_spacy_option(p)
    p.set_defaults(func=cmd_locate)


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a (hand-edited) program",
                       description="Run program text (as 'reclip compile' prints it, edited as you "
                                   "like; whitespace, newlines and # comments are allowed).")
    p.add_argument("program", help="file holding the program text, or - for stdin")
    p.add_argument("image", help="the image file")
    _add_scoring_options(p)
    p.set_defaults(func=cmd_run)




def cmd_locate(args: argparse.Namespace) -> int:
    """One expression, or many over the same image: one model load, one scoring pass
    (``Locator.run_many``, what ``locate_many`` does after compiling)."""
    expressions = expressions_of(args)
    _check_outputs(args, len(expressions), {"the expressions file": args.expressions})
    image, proposals = _inputs(args)
    programs = [_compile_one(text, k, len(expressions), args.spacy_model) for k, text in enumerate(expressions)]
    locator = load_locator(args)
    if len(expressions) == 1:
        return _report(args, locator.run(programs[0], image, proposals), image, expressions[0])
    for k, (text, result) in enumerate(zip(expressions, locator.run_many(programs, image, proposals))):
        if k and not args.json:
            print()
        _report(args, result, image, text, number=k)
    return 0


def _compile_one(text: str, k: int, count: int, spacy_model: str | None):
    """Compile one expression; with several, errors and notes say which one."""
    where = f"expression {k + 1} ({text[:40]!r}): " if count > 1 else ""
    try:
        program = compile_text(text, spacy_model)
    except ProgramSyntaxError:
        raise
    except ReclipError as exc:
        raise ReclipError(f"{where}{exc}") from None
    for note in program.notes:
        print(f"note: {where}{note}", file=sys.stderr)
    return program


def cmd_run(args: argparse.Namespace) -> int:
    _check_outputs(args, 1, {"the program file": None if args.program == "-" else args.program})
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


def _check_outputs(args: argparse.Namespace, count: int, inputs: dict[str, Any]) -> None:
    """Refuse a --draw / --trace path that names an input (image, proposals, program, model...)."""
    for option in ("draw", "trace"):
        if getattr(args, option) is not None and not getattr(args, option).strip():
            raise ReclipError(f"--{option} is empty: give the file to write")
    numbers = [None] if count == 1 else range(count)
    outputs = {f"--{option}" + ("" if k is None else f" (expression {k + 1})"): _numbered(path, k)
               for option in ("draw", "trace")
               if (path := getattr(args, option)) for k in numbers}
    inputs = {"the input image": args.image, "the proposals file": spec_paths(args.proposals),
              "a model file": [p for spec in args.model or () for p in spec_paths(spec)], **inputs}
    refuse_inputs_as_outputs(outputs, inputs)


def _inputs(args: argparse.Namespace):
    """The image and its proposals, checked before any model loads (fast errors)."""
    image = load_image(args.image)
    source = proposal_source(args.proposals or default_proposals(args.model), image_id=args.image_id,
                             cache_dir=args.proposal_cache, device=args.device, precision=args.precision)
    # a text-conditioned source (grounding-dino) proposes when the Locator knows the programs' finds
    proposals = source if source.needs_texts else source(image)
    if args.gold is not None:
        validate_boxes(args.gold, "gold box")
    if args.draw:
        image_format(args.draw)   # an unknown extension is refused before any model loads
    return image, proposals


def add_model_options(p: argparse.ArgumentParser, default_model: str = DEFAULT_MODEL) -> None:
    """--model, --method, --device and --precision: what load_locator reads, for every command."""
    p.add_argument("--model", action="append", metavar="SPEC", default=None,
                   help=f"model spec, repeatable for an ensemble (default: {default_model}); e.g. "
                        "ViT-B-32:openai, RN50x16:openai, NAME:/path/weights.pt, /path/checkpoint.pt, "
                        "regionclip-RN50:/path/regionclip_pretrained-cc_rn50.pth, owlv2:DIR, "
                        "grounding-dino:DIR; SPEC?weight=W weights it in the ensemble")
    p.add_argument("--method", action="append", metavar="NAME", default=None,
                   help="isolation method, repeatable or comma-separated (default: crop and blur, as "
                        "ReCLIP); options travel with it: global_local?alpha=0.95")
    p.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    p.add_argument("--precision", choices=("fp32", "fp16", "bf16"), default=None,
                   help="the dtype every model runs in (CLIP, detectors, SAM; default: fp16 on CUDA, fp32 on CPU)")


def method_specs(values: Sequence[str] | None) -> list[str]:
    """--method's values: "--method crop,blur" and "--method crop --method blur" alike."""
    return [m.strip() for value in values or [] for m in value.split(",") if m.strip()]


def default_proposals(models: list[str] | None) -> str:
    """The first detector model's own boxes (``--model owlv2:DIR`` needs no proposals), else Mask R-CNN."""
    from reclip.engines.specs import is_detector_spec

    detectors = [m.partition("?")[0] for m in models or [] if is_detector_spec(m)]
    return detectors[0] if detectors else DEFAULT_DETECTOR


def load_locator(args: argparse.Namespace):
    """A Locator on the CLIP scorer the options name."""
    options: dict[str, Any] = {}
    if args.method:  # "--method crop,blur" and "--method crop --method blur" alike
        options["methods"] = method_specs(args.method)
    if args.device:
        options["device"] = args.device
    if args.precision:
        options["precision"] = args.precision
    spacy_model = getattr(args, "spacy_model", None)
    if spacy_model:
        options["spacy_model"] = spacy_model
    return Locator.from_pretrained(args.model or [DEFAULT_MODEL], **options)


def _report(args: argparse.Namespace, result, image, expression: str | None, title: str | None = None,
            number: int | None = None) -> int:
    """Print the result; write the trace and the drawing when asked. ``number``: the
    expression's place among several (its files get a -K suffix, its JSON one line)."""
    with np.errstate(over="ignore"):   # a gold box of 1e308 pixels has an infinite area: IoU 0, no warning
        return _report_result(args, result, image, expression, title, number)


def _report_result(args: argparse.Namespace, result, image, expression: str | None, title: str | None,
                   number: int | None) -> int:
    gold = list(args.gold) if args.gold is not None else None
    written = []
    if args.trace:
        written.append(("trace", write_trace_html(result, image, _numbered(args.trace, number),
                                                  expression=expression, gold_box=gold, title=title)))
    if args.draw:
        drawing = _numbered(args.draw, number)
        draw_result(image, result.graph.proposals, chosen=result.index, gold_box=gold, path=drawing,
                    labelled=salient(result, diagnose(result, gold).gold_index))
        written.append(("drawing", drawing))
    verdict = _verdict(result, gold)
    if args.json:
        out = {"expression": expression} if number is not None else {}
        out.update({"program": str(result.program), "index": result.index, "box": result.box,
                    "probability": result.probability, "scores": [float(v) for v in result.scores]})
        if verdict:
            out.update(verdict)
        out.update({what: str(path) for what, path in written})
        if args.verbose:
            out["trace"] = result.trace.to_dict()["steps"]
        print(json.dumps(out, indent=None if number is not None else 2))
        return 0
    if number is not None:
        print(f"expression {number + 1}: {expression}")
    print(f"program: {result.program}")
    box = ", ".join(f"{v:g}" for v in result.box)
    print(f"answer:  #{result.index}  box [{box}]  p={result.probability:.3f}")
    if verdict:
        gold_at = f"gold #{verdict['gold_index']}" if verdict["gold_index"] is not None \
            else "no proposal matches the gold box"
        print(f"gold:    {'correct' if verdict['correct'] else 'WRONG'}  (IoU {verdict['iou']:.2f}; {gold_at})")
        if not verdict["correct"]:   # the diagnosis' headline names the node that lost it
            print(f"lost:    {verdict['why']}")
    fallbacks = result.trace.fallbacks
    for s in fallbacks:
        print(f"fallback at step {s.step} {s.label}: {s.fallback}")
    if args.verbose:
        print("steps:")
        print(result.trace)
    for what, path in written:
        print(f"{what + ':':8} {path}")
    return 0


def _numbered(path: str, number: int | None) -> Path:
    """``out.html`` as ``out-K.html`` for the K-th of several expressions."""
    path = Path(path)
    return path if number is None else path.with_name(f"{path.stem}-{number}{path.suffix}")


def _verdict(result, gold: list[float] | None) -> dict[str, Any] | None:
    if gold is None:
        return None
    d = diagnose(result, gold)
    lost = None if d.lost_at is None else {"step": d.lost_at, "node": result.trace.steps[d.lost_at].label}
    return {"correct": d.correct, "iou": d.answer_iou, "gold_index": d.gold_index, "lost_at": lost,
            "why": d.headline}

