"""Isolation methods that draw an image per proposal (the ``pixels`` family).

Each method turns (image, proposals) into one RGB PIL image per proposal, not yet
resized; the scorer then squashes it to the model's square input with
``reclip.clip.pixels.to_square``.

- ``crop``: the tight box, ``image.crop((x0, y0, x1, y1))``, no padding (ReCLIP).
- ``blur``: the whole image under ``GaussianBlur(100)`` with the box's own pixels
  pasted back through a mask drawn by ``ImageDraw.rectangle([(x0, y0), (x1, y1)])``
  (corners inclusive) - ReCLIP's exact recipe.
- ``shade``: the box tinted (240, 0, 30) at alpha 127 (ReCLIP's CPT-adapted
  baseline; its text prompt is ``expression + " is in red color."``, see
  ``SHADE_SUFFIX``).
- ``circle``: a red ellipse, 2 px wide, inscribed in the box, on the full image
  (Red Circle, Shtedritski et al., ICCV 2023).
- ``mask_blur`` / ``mask_grey``: everything outside the proposal's mask blurred /
  filled with grey (FGVP, Yang et al., NeurIPS 2023). They need masks.

Box coordinates may be floats and are handed to PIL exactly as ReCLIP hands them,
after ReCLIP's clamp to ``[0, width] x [0, height]`` (``clamped_box``). PIL then rounds
them its own way: ``Image.crop`` rounds each coordinate to the nearest integer
(Python's ``round``, half to even), while ``ImageDraw`` truncates them (``int()``), so a
``blur`` box is pasted over pixels ``int(x0)..int(x1)`` inclusive. One deviation:
a box narrower than a pixel after rounding is widened to one pixel rather than
producing an empty image that cannot be resized (``crop_bounds``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from interpreter import Proposal
from reclip.clip.pixels import Colour
from reclip.isolation.registry import (
    PIXELS, IsolationError, check_methods, get_method, isolation_method, parse_method, require_masks,
)
from reclip.masks import check_mask

BLUR_RADIUS = 100                 # ReCLIP's blur_std_dev default; FGVP's blur reuses it
SHADE_COLOUR = (240, 0, 30)       # ReCLIP's TINT_COLOR
SHADE_ALPHA = 127
SHADE_SUFFIX = " is in red color."
CIRCLE_COLOUR = (255, 0, 0)
CIRCLE_WIDTH = 2
GREY = (127, 127, 127)            # FGVP's grey fill outside the mask

PilBox = tuple[float, float, float, float]


# -- box bounds: the one home of the clamp and the rounding ---------------------------------

def clamped_box(size: tuple[int, int], box: Sequence[float]) -> PilBox:
    """``box`` clamped to a ``size`` = (width, height) image, as ReCLIP clamps it (floats kept)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    w, h = size
    out = (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))
    if out[2] <= out[0] or out[3] <= out[1]:
        raise IsolationError(f"proposal box {[float(v) for v in box]} lies outside the {w}x{h} image")
    return out


def crop_bounds(size: tuple[int, int], box: Sequence[float]) -> tuple[int, int, int, int]:
    """Integer crop bounds of ``box``: clamped to the image, PIL's rounding, at least 1 px
    (widened towards the inside of the image)."""
    w, h = size
    x0, y0, x1, y1 = (int(round(v)) for v in clamped_box(size, box))
    if x1 <= x0:
        x0, x1 = (x0, x0 + 1) if x0 < w else (x0 - 1, x0)
    if y1 <= y0:
        y0, y1 = (y0, y0 + 1) if y0 < h else (y0 - 1, y0)
    return x0, y0, x1, y1


def masked_crop(image: Image.Image, box: Sequence[float], mask: np.ndarray,
                fill: Colour | int) -> Image.Image:
    """The box crop of ``image`` (``crop_bounds``) with every pixel outside ``mask`` (HxW bool)
    set to ``fill``."""
    image = _rgb(image)
    x0, y0, x1, y1 = crop_bounds(image.size, box)
    crop = image.crop((x0, y0, x1, y1))
    inside = np.asarray(mask, dtype=bool)[y0:y1, x0:x1]
    colour = (fill, fill, fill) if isinstance(fill, (int, np.integer)) else tuple(int(c) for c in fill)
    background = Image.new("RGB", crop.size, colour)
    return Image.composite(crop, background, Image.fromarray(inside.astype(np.uint8) * 255, "L"))


# -- the methods -----------------------------------------------------------------------------

@isolation_method("crop")
def crop(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    return [image.crop(crop_bounds(image.size, p.box)) for p in proposals]


@isolation_method("blur")
def blur(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    blurred = _blurred(image, proposals)
    out = []
    for p in proposals:
        mask = Image.new("L", image.size, 0)
        box = clamped_box(image.size, p.box)
        ImageDraw.Draw(mask).rectangle([box[:2], box[2:]], fill=255)
        one = blurred.copy()
        one.paste(image, mask=mask)
        out.append(one)
    return out


def shade_prompt(text: str) -> str:
    """ReCLIP's shade prompt: the expression said to be red."""
    return text.lower() + SHADE_SUFFIX


@isolation_method("shade", prompt=shade_prompt)
def shade(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    base = image.convert("RGBA")
    out = []
    for p in proposals:
        overlay = Image.new("RGBA", base.size, SHADE_COLOUR + (0,))
        box = clamped_box(image.size, p.box)
        ImageDraw.Draw(overlay).rectangle((box[:2], box[2:]), fill=SHADE_COLOUR + (SHADE_ALPHA,))
        out.append(Image.alpha_composite(base, overlay).convert("RGB"))
    return out


@isolation_method("circle")
def circle(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    out = []
    for p in proposals:
        one = image.copy()
        box = clamped_box(image.size, p.box)
        ImageDraw.Draw(one).ellipse([box[:2], box[2:]], outline=CIRCLE_COLOUR, width=CIRCLE_WIDTH)
        out.append(one)
    return out


@isolation_method("mask_blur", needs_mask=True)
def mask_blur(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    return _outside_masks(image, proposals, _blurred(image, proposals))


@isolation_method("mask_grey", needs_mask=True)
def mask_grey(image: Image.Image, proposals: Sequence[Proposal]) -> list[Image.Image]:
    return _outside_masks(image, proposals, Image.new("RGB", image.size, GREY))


def _blurred(image: Image.Image, proposals: Sequence[Proposal]) -> Image.Image | None:
    """The blurred image every box of one call shares (computed once; none for no boxes)."""
    return image.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)) if proposals else None


def _outside_masks(image: Image.Image, proposals: Sequence[Proposal],
                   background: Image.Image) -> list[Image.Image]:
    return [Image.composite(image, background, _mask_image(image, p)) for p in proposals]


def _mask_image(image: Image.Image, proposal: Proposal) -> Image.Image:
    mask = check_mask(proposal.mask, image.width, image.height)
    return Image.fromarray(mask.astype(np.uint8) * 255, mode="L")


# -- entry points ----------------------------------------------------------------------------

def isolate_many(image: Image.Image, proposals: Sequence[Proposal], method: str) -> list[Image.Image]:
    """The RGB images CLIP sees for ``proposals`` under the pixel method ``method`` (not yet
    resized); backgrounds are computed once per call. Masks are checked before any work."""
    spec = parse_method(check_methods([method], PIXELS)[0])
    entry = get_method(spec.name)
    image = _rgb(image)
    if entry.needs_mask:
        require_masks(method, proposals)
        for p in proposals:
            check_mask(p.mask, image.width, image.height)
    return entry.run(image, list(proposals), **spec.kwargs)


def isolate(image: Image.Image, proposal: Proposal, method: str) -> Image.Image:
    """The RGB image CLIP sees for one proposal under ``method`` (not yet resized)."""
    return isolate_many(image, [proposal], method)[0]


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


__all__ = ["BLUR_RADIUS", "GREY", "SHADE_ALPHA", "SHADE_COLOUR", "SHADE_SUFFIX", "clamped_box",
           "crop_bounds", "isolate", "isolate_many", "masked_crop"]
