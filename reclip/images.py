"""Loading images with clear errors."""

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
