"""Isolation methods: how one proposal is shown to CLIP as an image.

Each method turns (image, proposal) into an RGB PIL image, not yet resized; the
scorer then squashes it to the model's square input with ``to_square``.

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
after ReCLIP's clamp to ``[0, width] x [0, height]``. PIL then rounds them its own
way: ``Image.crop`` rounds each coordinate to the nearest integer (Python's
``round``, half to even), while ``ImageDraw`` truncates them (``int()``), so a
``blur`` box is pasted over pixels ``int(x0)..int(x1)`` inclusive. One deviation:
a box narrower than a pixel after rounding is widened to one pixel rather than
producing an empty image that cannot be resized.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from interpreter import Proposal
from primitives import ReclipError

BLUR_RADIUS = 100                 # ReCLIP's blur_std_dev default; FGVP's blur reuses it
SHADE_COLOUR = (240, 0, 30)       # ReCLIP's TINT_COLOR
SHADE_ALPHA = 127
SHADE_SUFFIX = " is in red color."
CIRCLE_COLOUR = (255, 0, 0)
CIRCLE_WIDTH = 2
GREY = (127, 127, 127)            # FGVP's grey fill outside the mask

ISOLATION_METHODS: tuple[str, ...] = ("crop", "blur", "shade", "circle", "mask_blur", "mask_grey")
# Feature methods: computed inside the network (reclip.features), not as images.
FEATURE_METHODS: tuple[str, ...] = ("global_local", "region")
ALL_METHODS: tuple[str, ...] = ISOLATION_METHODS + FEATURE_METHODS
MASK_METHODS: frozenset[str] = frozenset({"mask_blur", "mask_grey", "global_local"})


class IsolationError(ReclipError):
    """An isolation method is unknown, needs masks the proposals lack, or a box is unusable."""


def check_methods(methods: Sequence[str] | str, allowed: Sequence[str] = ALL_METHODS) -> tuple[str, ...]:
    """Method names as a tuple, or an error naming the unknown one and the known ones."""
    if isinstance(methods, str):
        methods = [m.strip() for m in methods.split(",") if m.strip()]
    methods = tuple(methods)
    if not methods:
        raise IsolationError(f"no isolation method given; choose from {', '.join(allowed)}")
    for m in methods:
        if m not in allowed:
            raise IsolationError(f"unknown isolation method {m!r}; known methods: {', '.join(allowed)}")
    if len(set(methods)) != len(methods):
        raise IsolationError(f"isolation methods repeated: {list(methods)}")
    return methods


def clamped_box(image: Image.Image, proposal: Proposal) -> tuple[float, float, float, float]:
    """The proposal box clamped to the image, as ReCLIP clamps it (floats kept)."""
    x0, y0, x1, y1 = proposal.box
    w, h = image.size
    box = (max(x0, 0.0), max(y0, 0.0), min(x1, float(w)), min(y1, float(h)))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise IsolationError(
            f"proposal box {list(proposal.box)} lies outside the {w}x{h} image"
        )
    return box


def crop_box(image: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    """``image.crop(box)``, widened to >= 1 px where PIL's rounding would leave it empty."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if x1 <= x0:
        x0, x1 = (x0, x0 + 1) if x0 < image.width else (x0 - 1, x0)
    if y1 <= y0:
        y0, y1 = (y0, y0 + 1) if y0 < image.height else (y0 - 1, y0)
    if (x0, y0, x1, y1) == tuple(int(round(v)) for v in box):
        return image.crop(box)  # the exact ReCLIP call
    return image.crop((x0, y0, x1, y1))


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def _mask_image(image: Image.Image, proposal: Proposal, method: str) -> Image.Image:
    """The proposal's mask as a PIL 'L' image (255 inside), checked against the image size."""
    if proposal.mask is None:
        raise IsolationError(
            f"isolation method {method!r} needs proposal masks, but proposal {list(proposal.box)} "
            "has none; pass Proposal(box, mask=HxW bool array) or choose crop/blur/shade/circle"
        )
    mask = proposal.mask
    if mask.shape != (image.height, image.width):
        raise IsolationError(
            f"proposal mask has shape {mask.shape} but the image is {image.height}x{image.width} "
            "(height, width); masks must cover the whole image"
        )
    return Image.fromarray(mask.astype(np.uint8) * 255, mode="L")


def _blur_background(image: Image.Image, proposal: Proposal, blurred: Image.Image) -> Image.Image:
    mask = Image.new("L", image.size, 0)
    box = clamped_box(image, proposal)
    ImageDraw.Draw(mask).rectangle([box[:2], box[2:]], fill=255)
    out = blurred.copy()
    out.paste(image, mask=mask)
    return out


def _shade(image: Image.Image, proposal: Proposal) -> Image.Image:
    base = image.convert("RGBA")
    overlay = Image.new("RGBA", base.size, SHADE_COLOUR + (0,))
    box = clamped_box(image, proposal)
    ImageDraw.Draw(overlay).rectangle((box[:2], box[2:]), fill=SHADE_COLOUR + (SHADE_ALPHA,))
    return Image.alpha_composite(base, overlay).convert("RGB")


def _circle(image: Image.Image, proposal: Proposal) -> Image.Image:
    out = image.copy()
    box = clamped_box(image, proposal)
    ImageDraw.Draw(out).ellipse([box[:2], box[2:]], outline=CIRCLE_COLOUR, width=CIRCLE_WIDTH)
    return out


def _outside_mask(image: Image.Image, proposal: Proposal, method: str,
                  background: Image.Image) -> Image.Image:
    return Image.composite(image, background, _mask_image(image, proposal, method))


def _background(image: Image.Image, method: str) -> Image.Image | None:
    """The per-image background a method shares across all boxes (computed once)."""
    if method in ("blur", "mask_blur"):
        return image.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    if method == "mask_grey":
        return Image.new("RGB", image.size, GREY)
    return None


def _isolate_one(image: Image.Image, proposal: Proposal, method: str,
                 background: Image.Image | None) -> Image.Image:
    if method == "crop":
        return crop_box(image, clamped_box(image, proposal))
    if method == "blur":
        return _blur_background(image, proposal, background)
    if method == "shade":
        return _shade(image, proposal)
    if method == "circle":
        return _circle(image, proposal)
    return _outside_mask(image, proposal, method, background)  # mask_blur, mask_grey


def isolate_many(image: Image.Image, proposals: Sequence[Proposal], method: str) -> list[Image.Image]:
    """``isolate`` for several proposals, sharing the blurred/grey background."""
    check_methods([method], ISOLATION_METHODS)
    image = _rgb(image)
    if method in MASK_METHODS:
        for p in proposals:  # fail before the expensive blur
            _mask_image(image, p, method)
    background = _background(image, method) if proposals else None
    return [_isolate_one(image, p, method, background) for p in proposals]


def isolate(image: Image.Image, proposal: Proposal, method: str) -> Image.Image:
    """The RGB image CLIP sees for one proposal under ``method`` (not yet resized)."""
    return isolate_many(image, [proposal], method)[0]


def to_square(image: Image.Image, size: int) -> Image.Image:
    """Bicubic resize to ``size`` x ``size``; the aspect ratio is NOT kept (ReCLIP's square_size)."""
    return _rgb(image).resize((size, size), Image.BICUBIC)
