"""Proposals (boxes, optional masks and labels) and the Scorer protocol.

These are the interpreter's inputs; ``reclip`` re-exports them as public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, Sequence, runtime_checkable

import numpy as np
from PIL import Image

from interpreter.masks import check_mask, decode_mask
from primitives import BoxError, ReclipError, validate_boxes


@dataclass(frozen=True, eq=False)
class Proposal:
    """One candidate region: ``box`` = [x0, y0, x1, y1] in pixels; ``mask`` an HxW bool
    array, a 2-D 0/1 list or a COCO RLE dict (``{"size": [h, w], "counts": ...}``), decoded
    by ``interpreter.masks.decode_mask``; ``score`` the detector's confidence when a detector
    proposed it."""

    box: tuple[float, float, float, float]
    mask: np.ndarray | None = field(default=None, repr=False)
    label: str | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        box = validate_boxes(self.box)[0]
        object.__setattr__(self, "box", tuple(float(v) for v in box))
        if self.mask is not None:
            object.__setattr__(self, "mask", decode_mask(self.mask))


def as_proposals(items: Iterable[Any]) -> list[Proposal]:
    """Proposals from Proposal objects, plain 4-number boxes, or {box, mask?, label?} dicts."""
    if items is None:
        raise BoxError("no proposals: pass a list of boxes [x0, y0, x1, y1] or Proposal objects")
    out: list[Proposal] = []
    for i, item in enumerate(items):
        try:
            if isinstance(item, Proposal):
                out.append(item)
            elif isinstance(item, dict):
                if "box" not in item:
                    raise BoxError(f"has no 'box' key (keys: {sorted(item)})")
                out.append(Proposal(item["box"], item.get("mask"), item.get("label"), _score(item.get("score"))))
            else:
                out.append(Proposal(item))
        except BoxError as exc:
            msg = str(exc).replace("proposal 0 ", "")
            raise BoxError(f"proposal {i}: {msg}") from None
    if not out:
        raise BoxError("no proposals: at least one box is needed")
    return out


def _score(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise BoxError(f"'score' must be a number, got {value!r}")
    return float(value)


def check_masks(proposals: Sequence[Proposal], image_size: tuple[int, int]) -> None:
    """Refuse a proposal whose mask does not cover the image pixel for pixel
    (``image_size`` = (width, height), as PIL gives it)."""
    w, h = image_size
    for i, p in enumerate(proposals):
        if p.mask is not None:
            check_mask(p.mask, w, h, what=f"proposal {i}'s mask")


class FindText(str):
    """The text of one ``find`` node, carrying its head noun for scorers that use it.

    It is a ``str``, so any Scorer can treat it as plain text; a global-local scorer
    reads ``.head`` to mix in the target phrase's text feature.
    """

    head: str | None

    def __new__(cls, text: str, head: str | None = None) -> "FindText":
        obj = super().__new__(cls, text)
        obj.head = head
        return obj


@runtime_checkable
class Scorer(Protocol):
    """The seam between symbols and pixels: logits of each text for each proposal."""

    def score(
        self, image: Image.Image, proposals: Sequence[Proposal], texts: Sequence[str]
    ) -> np.ndarray:  # shape (len(texts), len(proposals))
        ...


class ScorerError(ReclipError):
    """A scorer returned logits of the wrong shape or with NaN/infinite values."""
