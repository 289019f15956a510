"""Reading images and JSON, writing output files, with the project's errors (one line, no traceback)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from PIL import Image, UnidentifiedImageError

from primitives import ReclipError

# Pillow modes holding more than 8 bits per pixel, which convert("RGB") would clip
# (a 16-bit PNG turns white, a float TIFF black) instead of scaling.
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")
COMMON_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")   # named in the error for an unknown one


def load_image(image: Image.Image | str | os.PathLike) -> Image.Image:
    """An RGB PIL image from a PIL image or a path.

    16-bit images are scaled by 65535 and float images by their value range (see
    ``to_rgb``); an image whose header claims more pixels than Pillow's decompression-bomb
    limit is refused before it is decoded.
    """
    if isinstance(image, Image.Image):
        return to_rgb(image)
    if not isinstance(image, (str, os.PathLike)):
        raise ReclipError(f"image must be a PIL image or a file path, got {type(image).__name__}")
    path = Path(image)
    if not path.is_file():
        raise ReclipError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            im.load()   # decode now: the file closes when this block ends
            return to_rgb(im)
    except Image.DecompressionBombError as exc:
        raise ReclipError(f"refusing image {path}: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise ReclipError(f"cannot read image {path}: {exc}") from None


def to_rgb(image: Image.Image) -> Image.Image:
    """``image`` as 8-bit RGB, keeping the real range of high-bit-depth images.

    I;16: value / 65535 (the type's full range). I (32-bit int): kept when it fits 0..255,
    scaled by 65535 when it fits 0..65535 (16-bit data Pillow widened), else refused.
    F (float): kept x 255 when it fits 0..1, else scaled from its min to its max;
    NaN or infinite pixels are refused.
    """
    if image.mode == "RGB":
        return image
    if image.mode in SIXTEEN_BIT_MODES or image.mode in ("I", "F"):
        return Image.fromarray(_to_uint8(np.asarray(image), image.mode)).convert("RGB")
    return image.convert("RGB")


def _to_uint8(a: np.ndarray, mode: str) -> np.ndarray:
    a = a.astype(np.float64)
    if mode == "F":
        if not np.isfinite(a).all():
            raise ReclipError("float image has NaN or infinite pixels; cannot show it")
        lo, hi = float(a.min()), float(a.max())
        if lo >= 0.0 and hi <= 1.0:
            scaled = a * 255.0
        else:
            scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    elif mode == "I":
        lo, hi = float(a.min()), float(a.max())
        if lo < 0 or hi > 65535:
            raise ReclipError(f"32-bit image with values {lo:g}..{hi:g} is outside 0..65535; "
                              "convert it to 8 or 16 bits first")
        scaled = a if hi <= 255 else a * (255.0 / 65535.0)
    else:
        scaled = a * (255.0 / 65535.0)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def read_json(path: str | os.PathLike, what: str = "JSON file", error: type[ReclipError] = ReclipError) -> Any:
    """The JSON value in ``path``; a missing file, bad UTF-8, bad JSON or nesting too deep
    to decode (``"[" * 100000``) is ``error`` naming the file."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{what} not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error(f"{path}: not a text (JSON) file") from None
    except OSError as exc:
        raise error(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return parse_json(text, str(path), error)


def parse_json(text: str, where: str, error: type[ReclipError] = ReclipError) -> Any:
    """``json.loads(text)``; every failure is ``error`` prefixed by ``where`` (a file, file:line).
    A number outside a float's range (a 400-digit integer, ``1e400``) is refused: every
    number reclip reads becomes a float, and would end as inf or an OverflowError."""
    try:
        return json.loads(text, parse_int=_int_in_range, parse_float=_float_in_range)
    except _OutOfRange as exc:
        raise error(f"{where}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise error(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{where}: JSON nested too deeply to read") from None


class _OutOfRange(Exception):
    """A JSON number no float holds (raised inside json's number hooks)."""


def _int_in_range(text: str) -> int:
    try:
        value = int(text)
        float(value)
    except (OverflowError, ValueError):   # ValueError: past Python's 4,300-digit limit
        raise _OutOfRange(f"a number of {len(text.lstrip('-'))} digits is outside the range of a float "
                          "(about 1.8e308 at most)") from None
    return value


def _float_in_range(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _OutOfRange(f"the number {text[:40]} is outside the range of a float (about 1.8e308 at most)")
    return value


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``; an OS error becomes a ReclipError naming the file."""
    path = Path(path)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReclipError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def image_format(path: str | os.PathLike) -> str:
    """The Pillow format a file name's extension names (``.jpg`` -> JPEG); a ReclipError
    listing the known extensions when Pillow cannot write it."""
    path = Path(path)
    extensions = Image.registered_extensions()
    fmt = extensions.get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        known = ", ".join(sorted(e for e, f in extensions.items() if f in COMMON_FORMATS))
        raise ReclipError(f"cannot tell which image format to write from {path.name!r}: "
                          f"use one of {known}")
    return fmt


def save_image(image: Image.Image, path: str | os.PathLike, format: str | None = None, **options) -> Path:
    """Save ``image`` to ``path`` in ``format`` (by default the one its extension names);
    an OS error becomes a ReclipError naming the file."""
    path = Path(path)
    format = format or image_format(path)
    if format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    try:
        image.save(path, format=format, **options)
    except (OSError, ValueError) as exc:
        raise ReclipError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None
    return path


def make_folder(path: str | os.PathLike, what: str = "output folder") -> Path:
    """Create ``path`` (and parents); an existing file there or an OS error becomes a ReclipError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ReclipError(f"{what} {path} is an existing file, not a folder: give a folder path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReclipError(f"cannot create {what} {path}: {exc.strerror or exc}") from None
    return path


def spec_paths(spec: str | os.PathLike | None) -> list[Path]:
    """The existing files a spec string reads: the spec itself when it is a path, or the
    ``NAME:PATH`` part of each ``+``-joined spec (``?options`` left off)."""
    if not spec:
        return []
    text = str(spec)
    candidates = [text]
    for part in text.split("+"):
        part = part.split("?", 1)[0]
        candidates += [part, part.partition(":")[2]]
    return [Path(c) for c in dict.fromkeys(candidates) if c and _is_file(c)]


def _is_file(text: str) -> bool:
    """Whether ``text`` names an existing file; a name the OS refuses (too long, NUL) names none."""
    try:
        return Path(text).is_file()
    except (OSError, ValueError):
        return False


def refuse_inputs_as_outputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
    """A ReclipError when an output path (``{option: path}``) names an input file
    (``{what: path or [paths]}``) or another output: a command never replaces what it reads."""
    seen: dict[str, Path] = {}
    for option, out in outputs.items():
        if not out:
            continue
        for what, paths in inputs.items():
            for source in paths if isinstance(paths, (list, tuple)) else [paths]:
                if source and _same_file(out, source):
                    raise ReclipError(f"{option} {out} is {what}: a command never writes over its "
                                      "input; choose another output path")
        for other, path in seen.items():
            if _same_file(out, path):
                raise ReclipError(f"{option} {out} is also {other}'s path: give each output its own path")
        seen[option] = Path(out)


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        if Path(a).exists() and Path(b).exists():
            return os.path.samefile(a, b)
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, ValueError, RuntimeError):
        return False

