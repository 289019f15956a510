"""The workbench's callbacks, without Gradio: each takes the session's ``WorkbenchScene`` and the
page's inputs and returns the new scene and the outputs to show, by name (``OUTPUTS``).

Errors never escape as tracebacks: a program that does not parse fills ``program_error``
(line, column, caret, suggestions); a bad image, proposals file or source spec, and any
failure inside a model, is one line in ``message``; the scene stays as it was.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from grammar import ProgramSyntaxError, parse_program
from primitives import ReclipError
from reclip.app.cases import save_case
from reclip.app.views import (
    WorkbenchScene, answer_text, diagnosis_text, picture_scale, scene_picture, syntax_error_html, trace_frame,
)
from reclip.files import load_image
from reclip.locator import Locator
from reclip.proposals import parse_source_spec, proposal_source
from reclip.proposals.sources import SourceSpec
from reclip.report.diagnose import gold_proposal
from reclip.report.explain import pretty_program
from reclip.report.links import parse_gold, query_params
from reclip.synthetic.demo import DEMO_ASSETS, demo_scene

# The page's outputs, by name; a callback returns those it changes.
OUTPUTS = ("picture", "answer", "program", "program_error", "diagnosis", "trace", "message", "expression")
DEMO_PROPOSALS = str(DEMO_ASSETS / "proposals.json")
DEFAULT_CASES = Path("reclip-cases.jsonl")

Outputs = dict[str, Any]


class Workbench:
    """One model (a Locator) and the page's defaults; the sessions' state lives in ``WorkbenchScene``s.

    ``files``: the folders the page may name files in: a link's image and proposals, a typed
    proposal source's files, the cases file it appends to (None: anywhere, for a page only this
    machine can reach). Whoever can open the page can make it read and write those files, so a
    page served to the network names its folders."""

    def __init__(self, locator: Locator, *, proposals: str | None = None,
                 cases: str | os.PathLike = DEFAULT_CASES, files: Sequence[str | os.PathLike] | None = None):
        self.locator = locator
        self.proposals = proposals      # the default proposal source for an uploaded image
        self.cases = Path(cases)
        self.files = None if files is None else [Path(f).resolve() for f in files]

    # -- scenes ------------------------------------------------------------------------------
    def demo(self) -> WorkbenchScene:
        """The bundled demo scene with its own proposals (preselected when the page opens)."""
        image, proposals, expressions = demo_scene()
        scene = WorkbenchScene(image, proposals, "the demo scene's proposals", str(DEMO_ASSETS / "scene.png"))
        scene.expression = expressions[0]["expression"] if expressions else ""
        return scene

    def scene(self, image: Image.Image | str | os.PathLike, proposals_file: str | None = None,
              source: str | None = None) -> WorkbenchScene:
        """A new scene: ``image`` and its proposals from an uploaded file, else from ``source``
        (any proposal source spec), else from the app's default source."""
        path = str(image) if isinstance(image, (str, os.PathLike)) else None
        try:
            img = load_image(image)
        except ReclipError as exc:
            raise ReclipError(f"the image cannot be used: {exc}") from None
        spec = proposals_file or source or self.proposals or DEMO_PROPOSALS
        proposals = proposal_source(spec)(img)
        if not proposals:
            raise ReclipError(f"the proposal source {spec!r} found nothing in this image")
        shown = Path(proposals_file).name if proposals_file else spec
        return WorkbenchScene(img, proposals, shown, path)

    def initial(self, params: Mapping[str, str]) -> tuple[WorkbenchScene, Outputs]:
        """The page's first view: the demo scene, or the record the URL's query names
        (``reclip.report.links``: image, proposals, expression, gold)."""
        params = query_params(params)
        scene = self.demo()
        if "image" not in params:
            return scene, {**self.show(scene), "expression": scene.expression}
        try:
            self.check_served(params["image"])
            self.check_source(params.get("proposals"))
            scene = self.scene(params["image"], params.get("proposals"))
        except ReclipError as exc:
            return scene, {**self.show(scene), "message": f"cannot open {params['image']}: {exc}"}
        gold = parse_gold(params.get("gold", ""))
        if gold is not None:
            scene.gold = gold_proposal(np.array([p.box for p in scene.proposals]), gold)[0]
        scene, out = self.on_locate(scene, params.get("expression", ""))
        return scene, {**out, "expression": scene.expression}

    def check_served(self, *paths: str | None, files_only: bool = True) -> None:
        """Refuse a path the page supplies (a link's file, a typed source's argument, the cases
        file) outside the ``files`` folders; ``files_only``: it must also be an existing file."""
        if self.files is None:
            return
        for path in filter(None, paths):
            resolved = Path(path).resolve()
            inside = any(resolved.is_relative_to(root) for root in self.files)
            if not inside or (files_only and not resolved.is_file()):
                raise ReclipError(f"{path}: not {'a file ' if files_only else ''}in the folders this workbench "
                                  f"serves files from ({', '.join(map(str, self.files)) or 'none'}; "
                                  "reclip app --files DIR)")

    def check_source(self, spec: str | None) -> None:
        """A typed or linked proposal source may name files only inside the ``files`` folders."""
        if self.files is None or not spec or Path(spec).is_file():
            return self.check_served(spec)
        part: SourceSpec | None = parse_source_spec(spec)
        while part is not None:
            self.check_served(part.arg, files_only=False)
            part = part.prompts

    # -- callbacks ---------------------------------------------------------------------------
    def on_inputs(self, scene: WorkbenchScene, image: Any, proposals_file: str | None, source: str | None
                  ) -> tuple[WorkbenchScene, Outputs]:
        """A new image, proposals file or source: the proposals are drawn; the old answer goes."""
        if image is None:
            return scene, {"message": "Upload an image (or reload the page for the demo scene)."}
        new = _guarded(lambda: self.check_source(source) or self.scene(image, proposals_file, source))
        if isinstance(new, str):
            return scene, {"message": new}
        new.expression = scene.expression
        return new, {**self.show(new), "message": f"{len(new.proposals)} proposals from {new.source}."}

    def on_locate(self, scene: WorkbenchScene, expression: str) -> tuple[WorkbenchScene, Outputs]:
        """Compile the expression, show its program and run it."""
        expression = (expression or "").strip()
        if not expression:
            return scene, {"message": "Type an expression first."}
        program = _guarded(lambda: self.locator.compile(expression))
        if isinstance(program, str):
            return scene, {"message": program}
        scene.expression, scene.compiled = expression, str(program)
        text = pretty_program(program)     # one argument per line where a call is long: for editing
        scene, out = self._run(scene, text)
        return scene, {**out, "program": text}

    def on_run(self, scene: WorkbenchScene, program_text: str) -> tuple[WorkbenchScene, Outputs]:
        """Run the program as edited; a syntax error is shown under the code box."""
        try:
            parse_program(program_text or "", self.locator.registry)
        except ProgramSyntaxError as exc:
            return scene, {"program_error": syntax_error_html(str(exc)), "message": "The program does not parse."}
        return self._run(scene, program_text)

    def on_select(self, scene: WorkbenchScene, x: float, y: float) -> tuple[WorkbenchScene, Outputs]:
        """A click on the picture at (x, y), in its pixels: the smallest proposal there is the gold."""
        k = picture_scale(scene.image)
        hit = proposal_at(scene, x / k, y / k)
        if hit is None:
            return scene, {"message": "No proposal there: click inside a box to mark the gold."}
        scene.gold = hit
        return scene, {**self.show(scene), "message": f"Gold: #{hit}."}

    def on_save(self, scene: WorkbenchScene, program_text: str, cases: str | None) -> tuple[WorkbenchScene, Outputs]:
        """Append the scene, the expression, the program as edited and the gold to the cases file."""
        if scene.gold is None:
            return scene, {"message": "Mark the gold proposal first (click it in the picture)."}
        if not scene.expression:
            return scene, {"message": "Locate an expression first."}
        path = Path(cases.strip()) if cases and cases.strip() else self.cases
        saved = _guarded(lambda: self.check_served(str(path), files_only=False) or save_case(path, scene.image, scene.proposals, scene.expression,
                                           program_text or scene.program, scene.gold, scene.compiled))
        if isinstance(saved, str):
            return scene, {"message": saved}
        return scene, {"message": f"Saved the case to {path} (replay it with: reclip check {path})."}

    # -- helpers -----------------------------------------------------------------------------
    def _run(self, scene: WorkbenchScene, program_text: str) -> tuple[WorkbenchScene, Outputs]:
        stats = getattr(self.locator.scorer, "stats", None)
        before = stats.as_dict() if stats is not None else None
        result = _guarded(lambda: self.locator.run(program_text, scene.image, scene.proposals))
        if isinstance(result, str):
            return scene, {"message": result, "program_error": ""}
        after = self.locator.scorer.stats.as_dict() if before is not None else None
        scene.encoded = None if before is None else {k: after[k] - before[k] for k in after}
        scene.result, scene.program = result, program_text
        return scene, {**self.show(scene), "message": ""}

    def show(self, scene: WorkbenchScene) -> Outputs:
        """Everything the scene determines."""
        return {"picture": scene_picture(scene), "answer": answer_text(scene), "program_error": "",
                "diagnosis": diagnosis_text(scene), "trace": trace_frame(scene)}


def proposal_at(scene: WorkbenchScene, x: float, y: float) -> int | None:
    """The smallest proposal whose box holds the point (x, y), in image pixels."""
    inside = [(p.box[2] - p.box[0]) * (p.box[3] - p.box[1]) for p in scene.proposals]
    hits = [i for i, p in enumerate(scene.proposals)
            if p.box[0] <= x <= p.box[2] and p.box[1] <= y <= p.box[3]]
    return min(hits, key=lambda i: inside[i]) if hits else None


def _guarded(work: Callable[[], Any]) -> Any:
    """``work()``, or one line saying what went wrong: the user's input (a ReclipError) or
    the model (anything else; the page stays usable)."""
    try:
        return work()
    except ReclipError as exc:
        return " ".join(str(exc).split())
    except Exception as exc:   # a failure inside a model or a proposal source, not the user's input
        return f"The model failed: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
