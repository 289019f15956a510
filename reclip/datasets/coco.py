"""COCO annotation files (refer's instances.json): images, annotations, gold objects per image."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from primitives.boxes import xywh_to_xyxy
from reclip.datasets.records import DatasetError, GoldObject, image_key
from reclip.files import read_json
from reclip.masks import to_rle


class CocoInstances:
    """instances.json read once: image entries by id, annotations by id and by image."""

    def __init__(self, data: Any, path: str | Path = "instances.json"):
        if not isinstance(data, dict) or not isinstance(data.get("annotations"), list) \
                or not isinstance(data.get("images", []), list):
            raise DatasetError(f"{path}: expected a COCO object with 'images' and 'annotations' lists")
        self.path = str(path)
        self.images = {image_key(im["id"]): im for im in data.get("images", [])
                       if isinstance(im, dict) and "id" in im}
        self.annotations: dict[Any, dict] = {}
        self.by_image: dict[str, list[dict]] = {}
        for ann in data["annotations"]:
            if isinstance(ann, dict) and "id" in ann and "image_id" in ann:
                self.annotations[image_key(ann["id"])] = ann
                self.by_image.setdefault(image_key(ann["image_id"]), []).append(ann)

    @classmethod
    def read(cls, path: str | Path) -> "CocoInstances":
        return cls(read_json(path, "instances file", DatasetError), path)

    def image_size(self, image_id: Any) -> tuple[int, int] | None:
        """(width, height) from the image entry, when it has them."""
        im = self.images.get(image_key(image_id))
        if im and isinstance(im.get("width"), int) and isinstance(im.get("height"), int):
            return im["width"], im["height"]
        return None

    def file_name(self, image_id: Any) -> str | None:
        im = self.images.get(image_key(image_id))
        name = im.get("file_name") if im else None
        return name if isinstance(name, str) else None

    def gold_object(self, ann: dict) -> GoldObject:
        """An annotation as a GoldObject (box xyxy, mask as RLE when it has a segmentation)."""
        box = xywh_to_xyxy(ann.get("bbox"), f"annotation {ann.get('id')}'s bbox", DatasetError)
        seg = ann.get("segmentation")
        mask = to_rle(seg, self.image_size(ann["image_id"])) if seg else None
        return GoldObject(ann["id"], box, mask)

    def objects(self, image_ids: Iterable[Any]) -> dict[str, list[GoldObject]]:
        """The gold objects of these images (only these: converting masks costs time)."""
        return {key: [self.gold_object(a) for a in self.by_image.get(key, [])]
                for key in {image_key(i) for i in image_ids}}


def coco_image_name(image_id: Any) -> str:
    """COCO train2014's file name for an image id (refer's and ReCLIP's images)."""
    return f"COCO_train2014_{int(image_id):012d}.jpg"
