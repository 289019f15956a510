"""The one mask decoder: COCO RLE (compressed or not), COCO polygons and 2-D 0/1 lists
-> HxW bool arrays, every malformed mask refused with a MaskError that says what is wrong.

It lives in the interpreter so that ``Proposal`` accepts an RLE dict; ``reclip.masks``
builds on it (encoding, the shape check, IoU). pycocotools does the RLE work.
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
# Compressed COCO RLE counts use these characters only (6-bit groups offset by 48).
SHAPES = "a mask must be an RLE dict or a 2-D list of 0/1 (or COCO polygons)"
RLE_CHARS = frozenset(chr(c) for c in range(48, 112))


class MaskError(BoxError):
    """A mask that cannot be decoded, or does not cover its image."""


def decode_mask(mask: Any, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """An HxW bool array from an RLE dict, COCO polygons or a 2-D 0/1 list (or array).

    ``image_size`` = (width, height) is needed to rasterise polygons; given, an RLE of
    another size is refused before it is decoded.
    """
    with warnings.catch_warnings():
        # pycocotools' decode trips numpy 2's __array__(copy=...) deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(mask, dict):
            return _decode_rle(mask, image_size)
        if isinstance(mask, list) and mask and all(isinstance(row, list) for row in mask):
            return _decode_lists(mask, image_size)
        return _decode_array(mask)


def _decode_array(mask: Any) -> np.ndarray:
    try:
        arr = np.asarray(mask)
    except ValueError as exc:
        raise MaskError(f"{SHAPES}: {exc}") from None
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise MaskError(f"{SHAPES}; got {type(mask).__name__} of shape {arr.shape}")
    return arr.astype(bool)


def _decode_lists(rows: list[list[Any]], image_size: tuple[int, int] | None) -> np.ndarray:
    """A 2-D 0/1 grid (rows of one length, values 0/1), else COCO polygons."""
    if not all(_is_number(v) for row in rows for v in row):
        raise MaskError(f"{SHAPES}; this list holds something other than numbers")
    zero_one = all(v in (0, 1) for row in rows for v in row)
    lengths = sorted({len(row) for row in rows})
    if zero_one and len(lengths) == 1:
        return np.asarray(rows, dtype=bool)
    bad = [i for i, row in enumerate(rows) if len(row) < 6 or len(row) % 2]
    if bad and zero_one:
        raise MaskError(f"ragged 0/1 mask: its rows have different lengths {lengths[:5]}")
    if bad:
        i = bad[0]
        raise MaskError(f"polygon {i} has {len(rows[i])} coordinates: a polygon is an even number "
                        "(at least 6) of x, y values")
    if not all(_is_finite(v) for row in rows for v in row):
        raise MaskError("polygon coordinates must be finite numbers")
    if image_size is None:
        raise MaskError("polygon segmentations need the image size to be rasterised")
    w, h = image_size
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(rows, h, w))).astype(bool)


def _decode_rle(mask: dict, image_size: tuple[int, int] | None) -> np.ndarray:
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
        if sum(counts) > h * w:
            raise MaskError(f"uncompressed RLE counts cover {sum(counts)} pixels but 'size' has {h * w}")
        rle = mask_utils.frPyObjects({"size": [h, w], "counts": counts}, h, w)
    elif isinstance(counts, str):
        if not set(counts) <= RLE_CHARS:
            raise MaskError("compressed RLE 'counts' holds characters COCO RLE never uses "
                            "(only ASCII '0' to 'o')")
        rle = {"size": [h, w], "counts": counts.encode("ascii")}
    else:
        raise MaskError(f"RLE 'counts' must be a string or a list of numbers, got {type(counts).__name__}")
    try:
        return mask_utils.decode(rle).astype(bool)
    except Exception as exc:  # pycocotools raises bare errors on corrupt counts
        raise MaskError(f"cannot decode RLE mask: {exc}") from None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float))   # bools too: a 0/1 grid may hold True/False


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
