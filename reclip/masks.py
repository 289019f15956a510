"""Masks: the codec (decoding is ``interpreter.masks.decode_mask``, so that ``Proposal``
accepts an RLE dict; encoding here), the one shape check, and mask IoU. pycocotools does
the RLE work; every mask is checked first (``interpreter.masks`` says the rules)."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from foundation import ReclipError
from interpreter.masks import MaskError, check_mask, check_polygons, decode_mask, rle_counts

__all__ = ["MaskError", "check_mask", "decode_mask", "encode_mask", "mask_iou", "to_rle"]


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """A bool HxW mask as a JSON-ready compressed COCO RLE dict; ``decode_mask`` reads it back."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask).astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def to_rle(segmentation: Any, image_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """A COCO ``segmentation`` (an RLE dict, compressed or not, or polygons) as a JSON-ready
    compressed RLE dict, without decoding an RLE to pixels; ``image_size`` = (width, height)
    rasterises polygons. An array (not a JSON layout) is encoded as a grid."""
    try:
        if isinstance(segmentation, dict):
            h, w, runs = rle_counts(segmentation, image_size)
            counts = segmentation["counts"]
            if isinstance(counts, (str, bytes)):
                text = counts.decode("ascii") if isinstance(counts, bytes) else counts
                return {"size": [h, w], "counts": text}
            rle = mask_utils.frPyObjects({"size": [h, w], "counts": runs}, h, w)
        elif isinstance(segmentation, np.ndarray):
            return encode_mask(decode_mask(segmentation, image_size))
        else:
            w, h = check_polygons(segmentation, image_size)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, int(h), int(w)))
    except ReclipError:
        raise
    except Exception as exc:  # pycocotools raises bare errors on malformed input
        raise MaskError(f"cannot read segmentation: {exc}") from None
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def mask_iou(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) IoU of two lists of HxW bool masks (pycocotools' RLE IoU)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ra = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in a]
    rb = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in b]
    return np.asarray(mask_utils.iou(ra, rb, [0] * len(rb)), dtype=np.float64).reshape(len(a), len(b))
