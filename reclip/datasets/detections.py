"""Detection files, matched to records by image id (``image_key``: ids compare as strings).

Accepted forms (boxes xywh, in pixels):

- ReCLIP / MAttNet dict: ``{"581857": [[x, y, w, h], ...], ...}`` (``*_dets_dict.json``);
- MAttNet's ``{"dets": [{"image_id", "box", "score"?}]}`` and a plain ``[{"image_id", "box"}]``;
- COCO results: ``[{"image_id", "bbox", "score"?, "category_id"?, "segmentation"?}]``;
  a segmentation (COCO RLE, as detectors write it) makes a mask proposal.

An image the file does not mention has no proposals (it is scored as wrong, never given
a full-image box or the gold boxes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from primitives.boxes import xywh_to_xyxy
from reclip.datasets.records import DatasetError, image_key
from reclip.files import read_json
from reclip.masks import MaskError, to_rle


@dataclass(frozen=True)
class Detection:
    """One detected object: box xyxy, score and label when given, mask as RLE when given."""

    box: tuple[float, float, float, float]
    score: Optional[float] = None
    label: Optional[str] = None
    mask: Optional[Mapping[str, Any]] = field(default=None, compare=False)


@dataclass
class Detections:
    """Detections per image (keyed by ``image_key``)."""

    path: str
    by_image: dict[str, list[Detection]]

    def of(self, image_id: Any) -> list[Detection]:
        return self.by_image.get(image_key(image_id), [])

    @property
    def has_masks(self) -> bool:
        return any(d.mask is not None for dets in self.by_image.values() for d in dets)


def read_detections(path: str | Path) -> Detections:
    """Read a detections file in any accepted form; anything else is a DatasetError naming the file."""
    path = Path(path)
    data = read_json(path, "detections file", DatasetError)
    try:
        return Detections(str(path), parse_detections(data))
    except DatasetError as exc:
        raise DatasetError(f"{path}: {exc}") from None


def parse_detections(data: Any) -> dict[str, list[Detection]]:
    """Detections per image from a loaded JSON value (see the module's forms)."""
    if isinstance(data, dict) and isinstance(data.get("dets"), list):
        data = data["dets"]
    if isinstance(data, dict):
        return {image_key(k): [Detection(xywh_to_xyxy(b, f"image {k}'s box {i}", DatasetError)) for i, b in enumerate(_list(v, k))]
                for k, v in data.items()}
    if not isinstance(data, list):
        raise DatasetError(f"expected a dict of boxes per image id or a list of detections, got {type(data).__name__}")
    out: dict[str, list[Detection]] = {}
    for i, d in enumerate(data):
        if not isinstance(d, dict) or "image_id" not in d or not ("bbox" in d or "box" in d):
            raise DatasetError(f"detection {i} needs 'image_id' and 'bbox' (or 'box'), got {_short(d)}")
        out.setdefault(image_key(d["image_id"]), []).append(_detection(d, i))
    return out


def _detection(d: dict, i: int) -> Detection:
    box = xywh_to_xyxy(d.get("bbox", d.get("box")), f"detection {i}'s box", DatasetError)
    score = d.get("score")
    if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool)):
        raise DatasetError(f"detection {i}'s score must be a number, got {score!r}")
    label = d.get("category_name", d.get("category_id"))
    mask = None
    if d.get("segmentation"):
        try:
            mask = to_rle(d["segmentation"])
        except MaskError as exc:
            raise DatasetError(f"detection {i}: {exc}") from None
    return Detection(box, None if score is None else float(score), None if label is None else str(label), mask)


def _list(value: Any, key: Any) -> list:
    if not isinstance(value, list):
        raise DatasetError(f"image {key}: expected a list of [x, y, w, h] boxes, got {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
