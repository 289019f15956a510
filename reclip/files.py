"""Reading images and writing output files, with the project's errors (one line, no traceback)."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from primitives import ReclipError


def load_image(image: Image.Image | str | os.PathLike) -> Image.Image:
    """An RGB PIL image from a PIL image or a path."""
    if isinstance(image, Image.Image):
        return image if image.mode == "RGB" else image.convert("RGB")
    if not isinstance(image, (str, os.PathLike)):
        raise ReclipError(f"image must be a PIL image or a file path, got {type(image).__name__}")
    path = Path(image)
    if not path.is_file():
        raise ReclipError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            return im.convert("RGB")
    except (UnidentifiedImageError, OSError) as exc:
        raise ReclipError(f"cannot read image {path}: {exc}") from None


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``; an OS error becomes a ReclipError naming the file."""
    path = Path(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReclipError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def save_image(image: Image.Image, path: str | os.PathLike, format: str = "PNG", **options) -> Path:
    """Save ``image`` to ``path`` in ``format``; an OS error becomes a ReclipError naming the file."""
    path = Path(path)
    try:
        image.save(path, format=format, **options)
    except OSError as exc:
        raise ReclipError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def make_folder(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create ``path`` (and parents); an OS error becomes a ReclipError naming it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReclipError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    return path
