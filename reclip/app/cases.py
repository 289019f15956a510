"""Regression cases: a failure fixed by hand in the workbench, kept as one JSONL line.

A line holds the image and proposals (paths relative to the cases file; the workbench
copies both into ``<cases stem>.files/`` beside it, named by content), the expression, the
program as edited, the gold proposal (index and box) and the program the compiler gave
when the case was saved. ``check_cases`` replays a file: does the compiler still produce
that program, and does the saved program still pick the gold proposal?
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from PIL import Image

from grammar import ProgramSyntaxError, parse_program
from interpreter import Proposal
from primitives import REGISTRY, ReclipError
from reclip.files import load_image, make_folder, parse_json, save_image
from reclip.locator import Locator
from reclip.proposals.io import read_proposals, write_proposals


class CasesFileError(ReclipError):
    """A cases file that cannot be read, or a line in it that is not a case."""


@dataclass
class Case:
    """One regression case (paths relative to the cases file)."""

    image: str
    proposals: str
    expression: str
    program: str                  # as the user left it (canonical text)
    gold: int                     # index of the gold proposal
    gold_box: list[float]
    compiled: str | None = None   # the compiler's program when the case was saved


@dataclass
class CaseCheck:
    """What replaying one case found."""

    number: int                   # 1-based line of the case in its file
    case: Case
    compiled_now: str | None = None
    picked: int | None = None
    error: str | None = None      # the case could not be replayed (a missing image, ...)

    @property
    def compiler_status(self) -> str:
        """``same``: the compiler produces the saved program; ``fixed``: it does now but did not
        when the case was saved; ``changed``: it did and no longer does (a regression);
        ``differs``: it did not then and does not now (the hand edit is still needed)."""
        now = self.compiled_now == self.case.program
        then = self.case.compiled == self.case.program
        return {(True, True): "same", (True, False): "fixed", (False, True): "changed"}.get((now, then), "differs")

    @property
    def regression(self) -> bool:
        return self.error is not None or self.picked != self.case.gold or self.compiler_status == "changed"

    def line(self) -> str:
        """The report line ``reclip check`` prints."""
        head = f"case {self.number} {json.dumps(self.case.expression)}:"
        if self.error is not None:
            return f"{head} ERROR {self.error}"
        compiler = {
            "same": "compiler gives the saved program",
            "fixed": "compiler now gives the saved program (it did not when saved)",
            "changed": f"compiler CHANGED: it now gives {self.compiled_now}",
            "differs": "compiler still differs from the saved (hand-edited) program",
        }[self.compiler_status]
        answer = (f"saved program picks gold #{self.case.gold}" if self.picked == self.case.gold
                  else f"saved program picks #{self.picked}, NOT gold #{self.case.gold}")
        return f"{head} {'REGRESSION' if self.regression else 'ok'}: {answer}; {compiler}"


def save_case(cases_path: str | os.PathLike, image: Image.Image, proposals: Sequence[Proposal],
              expression: str, program: str, gold: int, compiled: str | None) -> Case:
    """Append a case to ``cases_path`` (created with its folder when missing); returns it."""
    path = Path(cases_path)
    if path.exists() and not path.is_file():
        raise CasesFileError(f"cases file {path} is a folder: give a .jsonl file path")
    _refuse_other_file(path)
    try:
        text = str(parse_program(program, REGISTRY))
    except ProgramSyntaxError as exc:
        raise CasesFileError(f"the program does not parse, so it cannot be saved as a case: {exc}") from None
    if not 0 <= gold < len(proposals):
        raise CasesFileError(f"gold proposal #{gold} is out of range: there are {len(proposals)} proposals")
    files = make_folder(path.parent / f"{path.stem}.files", "cases folder")
    image_file = files / f"{_digest(image.tobytes() + str(image.size).encode())}.png"
    if not image_file.exists():
        save_image(image, image_file)
    boxes = files / "proposals.tmp.json"
    write_proposals(boxes, proposals)
    proposals_file = files / f"{_digest(boxes.read_bytes())}.proposals.json"
    boxes.replace(proposals_file)
    case = Case(os.path.relpath(image_file, path.parent), os.path.relpath(proposals_file, path.parent),
                expression, text, int(gold), [float(v) for v in proposals[gold].box], compiled)
    try:
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(case), ensure_ascii=False) + "\n")
    except OSError as exc:
        raise CasesFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    return case


def _refuse_other_file(path: Path) -> None:
    """Append only to a new file or a cases file: its first line must be a case (never a user's
    image, script or other JSON)."""
    if not path.is_file() or not path.stat().st_size:
        return
    with path.open("rb") as f:
        first = f.readline(1 << 20)
    try:
        record = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if not (isinstance(record, dict) and {"expression", "program", "gold"} <= record.keys()):
        raise CasesFileError(f"{path} exists and is not a cases file (its first line is not a case): "
                             "choose a new .jsonl file")


def read_cases(cases_path: str | os.PathLike) -> list[Case]:
    """Every case of a cases file; a line that is not a case is an error naming it."""
    path = Path(cases_path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CasesFileError(f"cannot read cases file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    cases = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            cases.append(_case(parse_json(line, f"{path}, line {number}", CasesFileError), path, number))
    if not cases:
        raise CasesFileError(f"cases file {path} holds no cases (save one with the workbench's Save case)")
    return cases


def _case(data: Any, path: Path, number: int) -> Case:
    fields = Case.__dataclass_fields__
    required = [k for k, f in fields.items() if k != "compiled"]
    if not isinstance(data, dict) or any(k not in data for k in required):
        missing = required if not isinstance(data, dict) else [k for k in required if k not in data]
        raise CasesFileError(f"{path}, line {number}: not a case (missing {', '.join(missing)})")
    if not isinstance(data["gold"], int) or isinstance(data["gold"], bool):
        raise CasesFileError(f"{path}, line {number}: 'gold' must be a proposal index, got {data['gold']!r}")
    return Case(**{k: data[k] for k in fields if k in data})


def case_inputs(case: Case, cases_path: str | os.PathLike) -> tuple[Image.Image, list[Proposal]]:
    """A case's image and proposals, read relative to its cases file."""
    base = Path(cases_path).parent
    image = load_image(base / case.image)
    return image, read_proposals(base / case.proposals, image_size=image.size)


def check_cases(cases_path: str | os.PathLike, locator: Locator) -> Iterator[CaseCheck]:
    """Replay every case of a cases file with ``locator``, one check at a time."""
    for number, case in enumerate(read_cases(cases_path), 1):
        yield check_case(case, number, cases_path, locator)


def check_case(case: Case, number: int, cases_path: str | os.PathLike, locator: Locator) -> CaseCheck:
    check = CaseCheck(number, case)
    try:
        image, proposals = case_inputs(case, cases_path)
        check.compiled_now = str(locator.compile(case.expression))
        check.picked = locator.run(case.program, image, proposals).index
    except ReclipError as exc:   # this case cannot be replayed; the others still are
        check.error = " ".join(str(exc).split())
    return check


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()

