"""Synthetic scenes: coloured shapes on textured backgrounds, deterministic in the seed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from interpreter import Proposal
from primitives import ReclipError

IMAGE_SIZE = 224
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 160, 60),
    "blue": (35, 75, 215),
    "yellow": (235, 200, 25),
    "purple": (135, 55, 185),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
SIZES: dict[str, tuple[int, int]] = {"small": (24, 30), "big": (44, 54)}  # side in pixels
MIN_OBJECTS, MAX_OBJECTS = 3, 8
GAP = 3             # pixels kept free between boxes: boxes never overlap


@dataclass
class SceneObject:
    shape: str
    colour: str
    size: str
    box: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"

    @property
    def attributes(self) -> dict[str, str]:
        return {"size": self.size, "colour": self.colour, "shape": self.shape}


@dataclass
class Scene:
    image: Image.Image
    objects: list[SceneObject]

    @property
    def boxes(self) -> np.ndarray:
        return np.array([o.box for o in self.objects], dtype=np.float64)

    def proposals(self) -> list[Proposal]:
        return [Proposal(o.box, o.mask, o.label) for o in self.objects]


def scene_rng(seed: int, index: int) -> np.random.Generator:
    """Scene ``index`` of run ``seed``: independent of how many scenes come before."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def make_scene(rng: np.random.Generator, size: int = IMAGE_SIZE) -> Scene:
    """Background plus 3-8 shapes; attributes drawn from a small per-scene palette so
    that repeated shapes and colours (which relations and ordinals need) are common."""
    image = _background(rng, size)
    n = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    shapes = list(rng.choice(SHAPES, size=int(rng.integers(2, 4)), replace=False))
    colours = list(rng.choice(list(COLOURS), size=int(rng.integers(2, 5)), replace=False))
    objects: list[SceneObject] = []
    for _ in range(n):
        for _attempt in range(60):
            size_name = str(rng.choice(list(SIZES)))
            side = int(rng.integers(*SIZES[size_name]))
            x0 = int(rng.integers(4, size - side - 4))
            y0 = int(rng.integers(4, size - side - 4))
            shape = str(rng.choice(shapes))
            mask, soft = _shape_mask(shape, x0, y0, side, size, rng)
            box = _mask_box(mask)
            if _fits(box, [o.box for o in objects]):
                colour = str(rng.choice(colours))
                _paint(image, soft, _jitter(COLOURS[colour], rng))
                objects.append(SceneObject(shape, colour, size_name, box, mask))
                break
    return Scene(image, objects)


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    base = rng.integers(200, 246) + rng.integers(-12, 13, size=3)
    arr = np.broadcast_to(np.clip(base, 0, 255), (size, size, 3)).astype(np.float64).copy()
    style = rng.choice(["plain", "noise", "stripes", "checker"])
    if style == "noise":
        noise = Image.fromarray(rng.normal(128, 60, (size, size)).clip(0, 255).astype(np.uint8))
        noise = np.asarray(noise.filter(ImageFilter.GaussianBlur(2)), dtype=np.float64) - 128
        arr += noise[..., None] * 0.4
    elif style in ("stripes", "checker"):
        period = int(rng.integers(8, 24))
        yy, xx = np.mgrid[:size, :size]
        pattern = (xx // period) % 2 if style == "stripes" else ((xx // period) + (yy // period)) % 2
        if style == "stripes" and rng.random() < 0.5:
            pattern = (yy // period) % 2
        arr += (pattern[..., None] - 0.5) * rng.uniform(8, 18)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def _shape_mask(shape: str, x0: int, y0: int, side: int, size: int,
                rng: np.random.Generator) -> tuple[np.ndarray, Image.Image]:
    """Binary mask and 4x-supersampled antialiased alpha of one shape."""
    ss = 4
    big = Image.new("L", (size * ss, size * ss), 0)
    d = ImageDraw.Draw(big)
    x, y, s = x0 * ss, y0 * ss, side * ss
    if shape == "circle":
        d.ellipse([x, y, x + s, y + s], fill=255)
    elif shape == "square":
        inset = s * 0.08  # squares look bigger than circles of the same side
        d.rectangle([x + inset, y + inset, x + s - inset, y + s - inset], fill=255)
    elif shape == "triangle":
        h = s * math.sqrt(3) / 2
        top = y + (s - h) / 2
        d.polygon([(x + s / 2, top), (x + s, top + h), (x, top + h)], fill=255)
    elif shape == "star":
        cx, cy, r_out = x + s / 2, y + s / 2 + s * 0.04, s / 2
        pts = []
        for k in range(10):
            r = r_out if k % 2 == 0 else r_out * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        d.polygon(pts, fill=255)
    else:  # pragma: no cover - SHAPES is closed
        raise ReclipError(f"unknown shape {shape!r}")
    soft = big.resize((size, size), Image.Resampling.BOX)
    return np.asarray(soft) >= 128, soft


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _fits(box: Sequence[int], others: Iterable[Sequence[int]]) -> bool:
    for o in others:
        w = min(box[2], o[2]) - max(box[0], o[0]) + GAP
        h = min(box[3], o[3]) - max(box[1], o[1]) + GAP
        if w > 0 and h > 0:  # closer than GAP pixels on both axes
            return False
    return True


def _jitter(rgb: tuple[int, int, int], rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-15, 16), 0, 255)) for c in rgb)


def _paint(image: Image.Image, alpha: Image.Image, rgb: tuple[int, int, int]) -> None:
    image.paste(Image.new("RGB", image.size, rgb), (0, 0), alpha)
