"""What the workbench shows, as plain values (a picture, Markdown, HTML): no Gradio here.

The trace is the report's own page (``reclip.report.trace``) in an iframe: its tree, tinting
and relation matrices are the same code as ``reclip locate --trace``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from grammar.lexicon import LAST_ORDINALS, ORDINALS
from interpreter import Proposal, Result
from primitives import REGISTRY, Registry
from reclip.report.diagnose import diagnose, salient
from reclip.report.draw import ANSWER_COLOUR, draw_result
from reclip.report.trace import trace_html

# A small image (the synthetic scenes are 224 px) is drawn larger so its numbers stay readable.
SMALL_SIDE = 400
TRACE_HEIGHT_PX = 760


@dataclass
class WorkbenchScene:
    """One session's state: the image, its proposals, and the last run on them."""

    image: Image.Image
    proposals: list[Proposal]
    source: str                             # where the proposals came from
    image_path: str | None = None           # the file the image was read from, when known
    expression: str = ""
    program: str = ""                       # the program text last run, as edited
    compiled: str | None = None             # what the compiler gave for ``expression``
    result: Result | None = None
    gold: int | None = None
    encoded: dict[str, int] | None = field(default=None)   # what the scorer encoded for the last run

    @property
    def gold_box(self) -> list[float] | None:
        return None if self.gold is None else [float(v) for v in self.proposals[self.gold].box]


def picture_scale(image: Image.Image) -> int:
    return 2 if max(image.size) < SMALL_SIDE else 1


def scene_picture(scene: WorkbenchScene) -> Image.Image:
    """The proposals numbered, the answer (orange) and the gold proposal (dashed green) drawn."""
    k = picture_scale(scene.image)
    image = scene.image if k == 1 else scene.image.resize(
        (scene.image.width * k, scene.image.height * k), Image.Resampling.NEAREST)
    boxes = [[k * v for v in p.box] for p in scene.proposals]
    gold = None if scene.gold_box is None else [k * v for v in scene.gold_box]
    chosen = scene.result.index if scene.result is not None else None
    labelled = salient(scene.result, scene.gold) if scene.result is not None else None
    drawing = draw_result(image, boxes, chosen=chosen, gold_box=gold, labelled=labelled)
    return drawing if scene.result is None else _with_caption(
        drawing, f"answer #{scene.result.index}  p={scene.result.probability:.3f}")


def _with_caption(drawing: Image.Image, text: str) -> Image.Image:
    """The drawing with a band under it naming the answer (below, so click positions keep their pixels)."""
    font = ImageFont.load_default(size=max(13, drawing.width // 30))
    band = round(font.size * 1.6)
    out = Image.new("RGB", (drawing.width, drawing.height + band), "white")
    out.paste(drawing, (0, 0))
    ImageDraw.Draw(out).text((6, drawing.height + band * 0.2), text, fill=ANSWER_COLOUR, font=font)
    return out


def answer_text(scene: WorkbenchScene) -> str:
    """The answer, its probability, and what the scorer had to encode for it."""
    if scene.result is None:
        return f"{len(scene.proposals)} proposals ({scene.source}). Type an expression and press Locate."
    r = scene.result
    box = ", ".join(f"{v:g}" for v in r.box)
    out = f"**Answer: #{r.index}** box [{box}] p={r.probability:.3f}"
    if scene.encoded is not None:
        out += (f"\n\nEncoded for this run: {scene.encoded['images_encoded']} images, "
                f"{scene.encoded['texts_encoded']} texts (the scorer's cache holds the rest)")
    return out


def diagnosis_text(scene: WorkbenchScene) -> str:
    """Where the right answer was lost (``reclip locate --gold``'s diagnosis), once a gold is marked."""
    if scene.gold is None:
        return "Click a proposal in the picture to mark it as the right answer (gold)."
    if scene.result is None:
        return f"Gold: #{scene.gold}. Locate an expression to see whether the program finds it."
    d = diagnose(scene.result, scene.gold_box)
    return f"Gold: #{scene.gold}\n\n" + "\n".join(f"- {s}" for s in d.sentences)


def trace_frame(scene: WorkbenchScene) -> str:
    """The trace page (program tree, tinting, matrices) in an iframe; empty before a run."""
    if scene.result is None:
        return '<p class="trace-empty">The program tree appears here after Locate.</p>'
    page = trace_html(scene.result, scene.image, expression=scene.expression or None, gold_box=scene.gold_box)
    return (f'<iframe id="trace-frame" title="program trace" srcdoc="{html.escape(page, quote=True)}" '
            f'style="width:100%;height:{TRACE_HEIGHT_PX}px;border:0"></iframe>')


def syntax_error_html(message: str) -> str:
    """A program syntax error (line, column, caret, suggestions) kept in a monospace block."""
    return f'<pre class="program-error">{html.escape(message)}</pre>'


def vocabulary(registry: Registry = REGISTRY) -> str:
    """The relations, superlatives and ordinals the compiler knows, with their words (plugins too)."""
    titles = {"relation": "Relations", "ternary": "Ternary relations", "superlative": "Superlatives"}
    parts = []
    for kind, title in titles.items():
        rows = [f"- `{p.name}`: {', '.join(p.words) or '(no words)'}" for p in registry.items(kind)]
        parts.append(f"**{title}** ({len(rows)})\n\n" + "\n".join(rows))
    words = ", ".join([*ORDINALS, *LAST_ORDINALS])
    parts.append("**Ordinals**: `ordinal(N, SUPERLATIVE, find(...))`, from the words " + words)
    return "\n\n".join(parts)

