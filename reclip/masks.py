"""Masks: the codec (decoding is ``interpreter.masks.decode_mask``, so that ``Proposal``
accepts an RLE dict; encoding here), the one shape check, and mask IoU. pycocotools does
the RLE work."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from foundation import ReclipError
from interpreter.masks import MaskError, check_mask, decode_mask

__all__ = ["MaskError", "check_mask", "decode_mask", "encode_mask", "mask_iou"]


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


def mask_iou(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """(len(a), len(b)) IoU of two lists of HxW bool masks (pycocotools' RLE IoU)."""
    if not len(a) or not len(b):
        return np.zeros((len(a), len(b)))
    ra = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in a]
    rb = [mask_utils.encode(np.asfortranarray(np.asarray(m, dtype=np.uint8))) for m in b]
    return np.asarray(mask_utils.iou(ra, rb, [0] * len(rb)), dtype=np.float64).reshape(len(a), len(b))
