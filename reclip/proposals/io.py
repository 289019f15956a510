"""Reading and writing proposal files: plain boxes, {box, mask?, label?} records, COCO results.

Accepted JSON layouts (all boxes in pixels):

- a list of boxes ``[[x0, y0, x1, y1], ...]``;
- a list of records ``{"box": [x0, y0, x1, y1], "mask"?: ..., "label"?: ..., "score"?: ...}``
  (no other keys: a typo such as ``"bx"`` is refused, not ignored) where a mask is a pycocotools
  RLE dict (``{"size": [h, w], "counts": ...}``) or a 2-D grid of 0/1 (or 0/255) at the image size;
- COCO detection results ``[{"image_id", "bbox": [x, y, w, h], "segmentation"?,
  "category_id"?, "score"?}, ...]`` (xywh, converted to xyxy; a segmentation is RLE or
  polygons), or a COCO dataset dict
  with an ``"annotations"`` list; filtered by ``image_id`` when given;
- a dict ``{"proposals": [...]}`` or ``{"boxes": [...]}`` wrapping any of the lists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Sequence

from interpreter import Proposal, as_proposals, check_masks
from primitives import BoxError, ReclipError
from primitives.boxes import xywh_to_xyxy
from reclip.files import read_json, write_text
from reclip.masks import MaskError, decode_mask, encode_mask


class ProposalFileError(ReclipError):
    """A proposals file that cannot be read or does not hold proposals."""


def read_proposals(path: str | os.PathLike, image_id: Any = None,
                   image_size: tuple[int, int] | None = None) -> list[Proposal]:
    """Proposals from a JSON file; ``image_size`` = (width, height) checks masks and
    lets COCO polygon segmentations be rasterised."""
    path = Path(path)
    records = _records(read_json(path, "proposals file", ProposalFileError), path)
    try:
        polygons = _is_coco(records)   # COCO's 'segmentation' may be polygons; a record's 'mask' not
        if polygons:
            records = _coco_records(records, image_id, path)
        elif image_id is not None:
            raise ProposalFileError(
                f"{path}: --image-id was given but the file is not COCO results "
                "(records with 'image_id' and 'bbox')"
            )
        else:
            _check_record_keys(records)
        proposals = as_proposals(_with_masks(records, image_size, polygons))
    except BoxError as exc:
        raise ProposalFileError(f"{path}: {exc}") from None
    if image_size is not None:
        _check_masks(proposals, image_size, path)
    return proposals


def _records(data: Any, path: Path) -> list[Any]:
    if isinstance(data, dict):
        for key in ("proposals", "boxes", "annotations"):
            if isinstance(data.get(key), list):
                return data[key]
        raise ProposalFileError(
            f"{path}: expected a JSON list of boxes or records; got an object with keys "
            f"{sorted(data)[:8]} (none of 'proposals', 'boxes', 'annotations')"
        )
    if not isinstance(data, list):
        raise ProposalFileError(f"{path}: expected a JSON list of boxes or records, got {type(data).__name__}")
    if not data:
        raise ProposalFileError(f"{path}: the file holds no proposals (an empty list)")
    return data


RECORD_KEYS = ("box", "mask", "label", "score")


def _check_record_keys(records: list[Any]) -> None:
    for i, r in enumerate(records):
        if isinstance(r, dict) and (unknown := sorted(set(r) - set(RECORD_KEYS))):
            raise BoxError(f"proposal {i}: unknown key(s) {', '.join(map(repr, unknown))} "
                           f"(a record has {', '.join(RECORD_KEYS)})")


def _is_coco(records: list[Any]) -> bool:
    return all(isinstance(r, dict) and "bbox" in r for r in records)


def _coco_records(records: list[dict], image_id: Any, path: Path) -> list[dict]:
    """COCO results (xywh) -> {box, mask?, label} records of one image."""
    ids = {str(r.get("image_id")) for r in records}
    if image_id is None and len(ids) > 1:
        shown = ", ".join(sorted(ids)[:5]) + (", ..." if len(ids) > 5 else "")
        raise ProposalFileError(
            f"{path}: COCO results for {len(ids)} images ({shown}); choose one with --image-id"
        )
    if image_id is not None:
        records = [r for r in records if str(r.get("image_id")) == str(image_id)]
        if not records:
            shown = ", ".join(sorted(ids)[:5]) + (", ..." if len(ids) > 5 else "")
            raise ProposalFileError(f"{path}: no boxes for image_id {image_id} (the file has {shown})")
    out = []
    for i, r in enumerate(records):
        x0, y0, x1, y1 = xywh_to_xyxy(r["bbox"], f"proposal {i}: 'bbox'")
        label = r.get("category_name", r.get("category_id"))
        out.append({"box": [x0, y0, x1, y1], "mask": r.get("segmentation"),
                    "label": None if label is None else str(label), "score": r.get("score")})
    return out


def _with_masks(records: list[Any], image_size: tuple[int, int] | None, polygons: bool) -> list[Any]:
    out = []
    for i, r in enumerate(records):
        if isinstance(r, dict) and r.get("mask") is not None:
            try:
                r = {**r, "mask": decode_mask(r["mask"], image_size, polygons=polygons)}
            except ReclipError as exc:
                raise BoxError(f"proposal {i}: {exc}") from None
        out.append(r)
    return out


def _check_masks(proposals: list[Proposal], image_size: tuple[int, int], path: Path) -> None:
    try:
        check_masks(proposals, image_size)
    except MaskError as exc:
        raise ProposalFileError(f"{path}: {exc}") from None


def write_proposals(path: str | os.PathLike, proposals: Sequence[Any]) -> Path:
    """Write proposals as ``[{"box", "label"?, "score"?, "mask"?}]`` (masks as RLE);
    ``read_proposals`` reads it back."""
    records = []
    for p in as_proposals(proposals):
        record: dict[str, Any] = {"box": [float(v) for v in p.box]}
        if p.label is not None:
            record["label"] = p.label
        if p.score is not None:
            record["score"] = float(p.score)
        if p.mask is not None:
            record["mask"] = encode_mask(p.mask)
        records.append(record)
    return write_text(path, json.dumps(records))
