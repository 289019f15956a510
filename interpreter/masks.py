"""The one mask decoder: COCO RLE (compressed or not), COCO polygons and 2-D grids
-> HxW bool arrays, every malformed mask refused with a MaskError that says what is wrong.

A mask is decoded to exactly what it says or refused, never guessed at:

- an RLE's counts must cover exactly height x width pixels (checked before pycocotools,
  which reads past short counts into uninitialised memory);
- a 2-D grid (lists or an array) is a mask only when rectangular, at the image's size when
  that is known, with values 0/1 (or True/False) or 0/255 (what a PNG mask gives); a float
  grid only with every value 0 or 1;
- polygons only where the caller reads a polygon layout (COCO ``segmentation``), so a grid
  is never taken for polygons, nor polygons for a grid.

It lives in the interpreter so that ``Proposal`` accepts an RLE dict; ``reclip.masks``
builds on it (encoding, IoU). pycocotools rasterises polygons.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from primitives import BoxError

# Masks larger than this many pixels are refused before decoding (twice Pillow's
# decompression-bomb limit, as for images).
MAX_MASK_PIXELS = 2 * 89_478_485
MASK_LAYOUTS = "a mask must be an RLE dict or a 2-D list (a grid) of 0/1, True/False or 0/255"
# Compressed COCO RLE counts use these characters only (6-bit groups offset by 48).
RLE_CHARS = frozenset(chr(c) for c in range(48, 112))
ON_VALUES = (1, 255)   # a grid's "inside" value: 1 (0/1, bool) or 255 (0/255), never both


class MaskError(BoxError):
    """A mask that cannot be decoded, or does not cover its image."""


def decode_mask(mask: Any, image_size: tuple[int, int] | None = None, *, polygons: bool = False) -> np.ndarray:
    """An HxW bool array from an RLE dict, a 2-D grid (lists or array) or, with
    ``polygons``, COCO polygons.

    ``image_size`` = (width, height): given, a mask of another size is refused (before an
    RLE is decoded); polygons need it to be rasterised.
    """
    with warnings.catch_warnings():
        # pycocotools trips numpy 2's __array__(copy=...) deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(mask, dict):
            return _decode_rle(mask, image_size)
        if polygons:
            return _decode_polygons(mask, image_size)
        return _decode_grid(mask, image_size)


def rle_counts(mask: dict, image_size: tuple[int, int] | None = None) -> tuple[int, int, list[int]]:
    """(height, width, run lengths) of a checked RLE dict: its counts cover exactly h x w."""
    if "size" not in mask or "counts" not in mask:
        raise MaskError(f"an RLE mask needs 'size' and 'counts', got keys {sorted(map(str, mask))}")
    size, counts = mask["size"], mask["counts"]
    if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0 for v in size)):
        raise MaskError(f"an RLE mask's 'size' must be [height, width], two whole numbers; got {size!r}"[:200])
    h, w = size
    if image_size is not None and (w, h) != tuple(image_size):
        raise MaskError(f"RLE mask is {w}x{h} (w x h) but the image is {image_size[0]}x{image_size[1]}")
    if h * w > MAX_MASK_PIXELS:
        raise MaskError(f"RLE mask of {h}x{w} pixels is larger than the limit of {MAX_MASK_PIXELS}")
    if isinstance(counts, list):  # uncompressed RLE: run lengths, starting with zeros
        if not all(_is_int(v) and v >= 0 for v in counts):
            raise MaskError("uncompressed RLE 'counts' must be a list of non-negative whole numbers")
        runs, kind = counts, "uncompressed"
    elif isinstance(counts, (str, bytes)):
        runs, kind = _compressed_runs(counts.decode("latin-1") if isinstance(counts, bytes) else counts), "compressed"
    else:
        raise MaskError(f"RLE 'counts' must be a string or a list of numbers, got {type(counts).__name__}")
    if sum(runs) != h * w:
        raise MaskError(f"{kind} RLE counts cover {sum(runs)} pixels but 'size' {h}x{w} has {h * w}")
    return h, w, list(runs)


def _compressed_runs(text: str) -> list[int]:
    """COCO's compressed counts (pycocotools' rleFrString) as run lengths, each checked."""
    if not set(text) <= RLE_CHARS:
        raise MaskError("compressed RLE 'counts' holds characters COCO RLE never uses (only ASCII '0' to 'o')")
    runs: list[int] = []
    p = 0
    while p < len(text):
        value, shift, more = 0, 0, True
        while more:
            if p == len(text):
                raise MaskError("compressed RLE 'counts' ends in the middle of a number")
            c = ord(text[p]) - 48
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            p, shift = p + 1, shift + 5
            if not more and c & 0x10:
                value -= 1 << shift   # sign-extend, as the C code does
        if len(runs) > 2:
            value += runs[-2]         # counts after the third are stored as differences
        if value < 0 or value > MAX_MASK_PIXELS:
            raise MaskError(f"compressed RLE 'counts' decodes to a run of {value} pixels")
        runs.append(value)
    return runs


def _decode_rle(mask: dict, image_size: tuple[int, int] | None) -> np.ndarray:
    h, w, runs = rle_counts(mask, image_size)
    values = (np.arange(len(runs)) % 2).astype(bool)   # runs alternate 0, 1, 0, ...
    return np.repeat(values, runs).reshape(w, h).T.copy()   # column-major, as COCO writes it


def _decode_grid(mask: Any, image_size: tuple[int, int] | None) -> np.ndarray:
    if isinstance(mask, list):
        if not mask or not all(isinstance(row, list) for row in mask):
            raise MaskError(f"{MASK_LAYOUTS}; got a list that is not a list of rows")
        lengths = sorted({len(row) for row in mask})
        if len(lengths) > 1:
            raise MaskError(f"ragged mask grid: its rows have different lengths {lengths[:5]}")
        if not all(_is_grid_value(v) for row in mask for v in row):
            raise MaskError(f"{MASK_LAYOUTS}; this grid holds something other than numbers")
    try:
        arr = np.asarray(mask)
    except (ValueError, OverflowError) as exc:
        raise MaskError(f"{MASK_LAYOUTS}: {exc}") from None
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise MaskError(f"{MASK_LAYOUTS}; got {type(mask).__name__} of shape {arr.shape}")
    inside = arr.astype(bool) if arr.dtype.kind == "b" else arr == _on_value(arr)
    if image_size is not None and arr.shape != (image_size[1], image_size[0]):
        raise MaskError(f"mask grid is {arr.shape[1]}x{arr.shape[0]} (w x h) but the image is "
                        f"{image_size[0]}x{image_size[1]}")
    return inside


def _on_value(arr: np.ndarray) -> int:
    """The grid's inside value (1 or 255) when every value is 0 or it; else refused."""
    zero = arr == 0
    if (zero | (arr == 1)).all():
        return 1
    if arr.dtype.kind in "iu" and (zero | (arr == 255)).all():
        return 255
    allowed = "0 or 1" if arr.dtype.kind == "f" else "0/1 or 0/255"
    values = set(np.unique(arr[~zero]).tolist())   # np.unique only on the error path: it sorts
    shown = ", ".join(str(v) for v in sorted(values, key=str)[:4])
    raise MaskError(f"mask grid values must be {allowed}; it holds {shown}")


def _decode_polygons(rows: Any, image_size: tuple[int, int] | None) -> np.ndarray:
    w, h = check_polygons(rows, image_size)
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(rows, h, w))).astype(bool)


def check_polygons(rows: Any, image_size: tuple[int, int] | None) -> tuple[int, int]:
    """The image size (width, height) to rasterise ``rows`` at, when they are COCO polygons."""
    if not (isinstance(rows, list) and rows and all(isinstance(row, list) for row in rows)):
        raise MaskError(f"a segmentation is an RLE dict or a list of polygons; got {type(rows).__name__}")
    for i, row in enumerate(rows):
        if len(row) < 6 or len(row) % 2:
            raise MaskError(f"polygon {i} has {len(row)} coordinates: a polygon is an even number "
                            "(at least 6) of x, y values")
    if not all(_is_grid_value(v) and _is_finite(v) for row in rows for v in row):
        raise MaskError("polygon coordinates must be finite numbers")
    if image_size is None:
        raise MaskError("polygon segmentations need the image size to be rasterised")
    return int(image_size[0]), int(image_size[1])


def _is_grid_value(v: Any) -> bool:
    return isinstance(v, (int, float))   # bools too, unlike a coordinate: a grid may hold True/False


def _is_finite(v: float) -> bool:
    try:
        return math.isfinite(v) and abs(v) < 1e9
    except OverflowError:   # an int too large for a float
        return False


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_mask(mask: np.ndarray, width: int, height: int, what: str = "proposal mask") -> np.ndarray:
    """``mask`` when it covers a ``width`` x ``height`` image, else a MaskError saying how it differs."""
    if mask.shape != (height, width):
        raise MaskError(
            f"{what} has shape {mask.shape} but the image is {height}x{width} "
            "(height x width); masks must cover the whole image"
        )
    return mask
