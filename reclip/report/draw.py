"""A PNG of a result, for papers and issues: proposals numbered, the answer and gold drawn."""

from __future__ import annotations

import os
from typing import Any, Collection, Iterable, Sequence

from PIL import Image, ImageDraw, ImageFont

from interpreter import as_proposals
from primitives import ReclipError, validate_boxes
from reclip.files import load_image, save_image
from reclip.report.diagnose import LABEL_ALL_MAX

PROPOSAL_COLOUR = (250, 250, 250)
OUTLINE_COLOUR = (20, 20, 20)
ANSWER_COLOUR = (240, 110, 20)
GOLD_COLOUR = (30, 170, 70)
FAINT_ALPHA = 110           # unlabelled proposals, when there are many: a thin translucent outline


def draw_result(image: Image.Image | str | os.PathLike, proposals: Iterable[Any],
                chosen: int | None = None, gold_box: Sequence[float] | None = None,
                path: str | os.PathLike | None = None, labelled: Collection[int] | None = None) -> Image.Image:
    """Draw the proposals with their numbers, ``chosen`` in orange and ``gold_box`` dashed green.

    ``labelled``: the proposals to number (``report.diagnose.salient`` picks the ones that
    matter); the others are drawn faintly. By default all are numbered up to LABEL_ALL_MAX
    proposals, beyond that only ``chosen``. Returns the drawing (RGB); also saves it to
    ``path`` (in the format its extension names) when given.
    """
    canvas = load_image(image).copy()
    boxes = [clip_box(p.box, canvas.size) for p in as_proposals(proposals)]
    if chosen is not None and not 0 <= chosen < len(boxes):
        raise ReclipError(f"chosen proposal {chosen} is out of range: there are {len(boxes)} proposals")
    if labelled is None:
        labelled = range(len(boxes)) if len(boxes) <= LABEL_ALL_MAX else ()
    labelled = {i for i in labelled if 0 <= i < len(boxes)} | ({chosen} if chosen is not None else set())
    scale = max(1.0, max(canvas.size) / 500)
    width = max(1, round(2 * scale))
    font = ImageFont.load_default(size=max(11, round(13 * scale)))
    _faint_rectangles(canvas, [b for i, b in enumerate(boxes) if i not in labelled], max(1, width // 2))
    draw = ImageDraw.Draw(canvas)
    for i, box in enumerate(boxes):
        if i != chosen and i in labelled:
            _outlined_rectangle(draw, box, PROPOSAL_COLOUR, width)
    if gold_box is not None:
        gold = clip_box([float(v) for v in validate_boxes(gold_box, "gold box")[0]], canvas.size)
        _dashed_rectangle(draw, gold, GOLD_COLOUR, width + 1, dash=round(8 * scale))
    if chosen is not None:
        _outlined_rectangle(draw, boxes[chosen], ANSWER_COLOUR, width * 2)
    for i in sorted(labelled):  # labels last so no box line crosses a number
        colour = ANSWER_COLOUR if i == chosen else PROPOSAL_COLOUR
        _label(draw, boxes[i], str(i), font, colour, canvas.size)
    if path is not None:
        save_image(canvas, path)
    return canvas


def clip_box(box: Sequence[float], size: tuple[int, int]) -> list[float]:
    """``box`` clipped to the image plus a margin, so that an edge outside the image stays
    outside it, and drawing costs what the image's size does, not the box's (a gold box of
    1e308 pixels was a dashed line of 1e307 dashes)."""
    margin = 16 + max(size) // 50
    (w, h), (x0, y0, x1, y1) = size, box
    return [min(max(x0, -margin), w + margin), min(max(y0, -margin), h + margin),
            min(max(x1, -margin), w + margin), min(max(y1, -margin), h + margin)]


def _faint_rectangles(canvas: Image.Image, boxes: list, width: int) -> None:
    """Thin translucent outlines, composited onto ``canvas`` in place."""
    if not boxes:
        return
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0, y0, x1, y1], outline=(*PROPOSAL_COLOUR, FAINT_ALPHA), width=width)
    canvas.paste(Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB"))


def _outlined_rectangle(draw: ImageDraw.ImageDraw, box, colour, width: int) -> None:
    """A coloured rectangle with a thin dark edge, visible on light and dark images."""
    x0, y0, x1, y1 = box
    draw.rectangle([x0 - 1, y0 - 1, x1 + 1, y1 + 1], outline=OUTLINE_COLOUR, width=width + 2)
    draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)


def _dashed_rectangle(draw: ImageDraw.ImageDraw, box, colour, width: int, dash: int) -> None:
    x0, y0, x1, y1 = box
    for (ax, ay), (bx, by) in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)),
                               ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        length = max(abs(bx - ax), abs(by - ay))
        steps = max(1, int(length // dash))
        for k in range(0, steps, 2):
            t0, t1 = k / steps, min(1.0, (k + 1) / steps)
            draw.line([(ax + (bx - ax) * t0, ay + (by - ay) * t0),
                       (ax + (bx - ax) * t1, ay + (by - ay) * t1)], fill=colour, width=width)


def _label(draw: ImageDraw.ImageDraw, box, text: str, font, colour, size) -> None:
    """The proposal's number in a filled tag at its top-left corner, kept inside the image."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    w, h = right - left + 6, bottom - top + 4
    x = min(max(0, box[0]), size[0] - w)
    y = min(max(0, box[1]), size[1] - h)
    draw.rectangle([x, y, x + w, y + h], fill=colour, outline=OUTLINE_COLOUR)
    draw.text((x + 3 - left, y + 2 - top), text, fill=(0, 0, 0), font=font)
