"""Masks: the one codec (COCO RLE, polygons, 2-D 0/1 lists <-> HxW bool arrays), the one
shape check, and mask IoU. pycocotools does the RLE work."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from primitives import ReclipError


class MaskError(ReclipError):
    """A mask that cannot be decoded, or does not cover its image."""


def decode_mask(mask: Any, image_size: tuple[int, int] | None = None) -> np.ndarray:
    """An HxW bool array from an RLE dict, COCO polygons or a 2-D 0/1 list.

    ``image_size`` = (width, height) is needed to rasterise polygons.
    """
    with warnings.catch_warnings():
        # pycocotools' decode trips numpy 2's __array__(copy=...) deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return _decode_mask(mask, image_size)


def _decode_mask(mask: Any, image_size: tuple[int, int] | None) -> np.ndarray:
    if isinstance(mask, dict):
        return _decode_rle(mask)
    if isinstance(mask, list) and mask and all(isinstance(p, list) and p and _is_number(p[0]) for p in mask):
        if all(isinstance(v, (int, float, bool)) for row in mask for v in row) and _looks_2d(mask):
            return np.asarray(mask, dtype=bool)
        if image_size is None:
            raise MaskError("polygon segmentations need the image size to be rasterised")
        w, h = image_size
        rles = mask_utils.frPyObjects(mask, h, w)
        return mask_utils.decode(mask_utils.merge(rles)).astype(bool)
    arr = np.asarray(mask)
    if arr.ndim != 2:
        raise MaskError(f"a mask must be an RLE dict or a 2-D list of 0/1, got shape {arr.shape}")
    return arr.astype(bool)


def _decode_rle(mask: dict) -> np.ndarray:
    if "size" not in mask or "counts" not in mask:
        raise MaskError(f"an RLE mask needs 'size' and 'counts', got keys {sorted(mask)}")
    h, w = mask["size"]
    rle = mask
    if isinstance(mask["counts"], list):  # uncompressed RLE
        rle = mask_utils.frPyObjects(mask, h, w)
    elif isinstance(mask["counts"], str):
        rle = {"size": [h, w], "counts": mask["counts"].encode("ascii")}
    try:
        return mask_utils.decode(rle).astype(bool)
    except Exception as exc:  # pycocotools raises bare errors on corrupt counts
        raise MaskError(f"cannot decode RLE mask: {exc}") from None


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """A bool HxW mask as a JSON-ready compressed COCO RLE dict; ``decode_mask`` reads it back."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask).astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_rle(mask: Any, image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """Any segmentation (polygons, RLE with list or str/bytes counts) as a JSON-ready compressed
    RLE dict, without decoding it to pixels; ``image_size`` = (width, height) for polygons."""
    try:
        if isinstance(mask, dict):
            if "size" not in mask or "counts" not in mask:
                raise MaskError(f"an RLE mask needs 'size' and 'counts', got keys {sorted(mask)}")
            h, w = (int(v) for v in mask["size"])
            counts = mask["counts"]
            if isinstance(counts, list):
                rle = mask_utils.frPyObjects(mask, h, w)
            else:
                rle = {"size": [h, w], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
                mask_utils.area(rle)  # validates the counts
        elif isinstance(mask, list) and mask and all(isinstance(p, list) and len(p) >= 6 for p in mask):
            if image_size is None:
                raise MaskError("polygon segmentations need the image size to be rasterised")
            w, h = image_size
            rle = mask_utils.merge(mask_utils.frPyObjects(mask, int(h), int(w)))
        else:
            return encode_mask(decode_mask(mask, image_size))
    except ReclipError:
        raise
    except Exception as exc:  # pycocotools raises bare errors on malformed input
        raise MaskError(f"cannot read segmentation: {exc}") from None
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def check_mask(mask: np.ndarray, width: int, height: int, what: str = "proposal mask") -> np.ndarray:
    """``mask`` when it covers a ``width`` x ``height`` image, else a MaskError saying how it differs."""
    if mask.shape != (height, width):
        raise MaskError(
            f"{what} has shape {mask.shape} but the image is {height}x{width} "
            "(height x width); masks must cover the whole image"
        )
    return mask


def mask_iou(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) IoU of two lists of HxW bool masks (pycocotools' RLE IoU)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ra = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in a]
    rb = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in b]
    return np.asarray(mask_utils.iou(ra, rb, [0] * len(rb)), dtype=np.float64).reshape(len(a), len(b))


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _looks_2d(rows: list[list[Any]]) -> bool:
    """A 2-D 0/1 grid (all rows one length, values 0/1) rather than polygons."""
    return len({len(r) for r in rows}) == 1 and all(v in (0, 1) for r in rows for v in r)
