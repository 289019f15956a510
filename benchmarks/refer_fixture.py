"""A RefCOCOg-shaped refer dataset drawn from the synthetic scenes, for benchmarks and tests.

The layout a user downloads, small: ``DATA/refcocog/instances.json`` (COCO images and
annotations, bbox xywh and compressed RLE segmentation), ``DATA/refcocog/refs(umd).p`` (a
protocol-2 pickle of refs: one per referred object, its sentences, split ``val``) and
``COCO/train2014/COCO_train2014_<id:012d>.jpg``. The synthetic scenes hold several
expressions per image, as RefCOCOg does, and the shipped synthetic model reads them.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from reclip.masks import encode_mask
from reclip.synthetic.expressions import generate

FIRST_IMAGE_ID = 581000
FIRST_ANN_ID = 1700000


def coco_name(image_id: int) -> str:
    return f"COCO_train2014_{image_id:012d}.jpg"


def write_refer_fixture(root: str | Path, images: int = 20, seed: int = 0, split: str = "val") -> dict[str, Any]:
    """Write the dataset under ``root``; returns its paths and counts (``data``, ``images``,
    ``expressions``, ``per_image``: the expression texts of each image id, in order)."""
    root = Path(root)
    data, image_dir = root / "DATA" / "refcocog", root / "COCO" / "train2014"
    data.mkdir(parents=True, exist_ok=True)
    image_dir.mkdir(parents=True, exist_ok=True)
    coco: dict[str, list] = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "shape"}]}
    refs: list[dict[str, Any]] = []
    per_image: dict[int, list[str]] = {}
    ann_id, sent_id = FIRST_ANN_ID, 0
    for index, scene, expressions in generate(seed, images):
        image_id = FIRST_IMAGE_ID + index
        scene.image.save(image_dir / coco_name(image_id), quality=95)
        w, h = scene.image.size
        coco["images"].append({"id": image_id, "file_name": coco_name(image_id), "width": w, "height": h})
        ann_ids = []
        for obj in scene.objects:
            x0, y0, x1, y1 = obj.box
            coco["annotations"].append({"id": ann_id, "image_id": image_id, "category_id": 1,
                                        "bbox": [x0, y0, x1 - x0, y1 - y0], "segmentation": encode_mask(obj.mask),
                                        "area": int(obj.mask.sum()), "iscrowd": 0})
            ann_ids.append(ann_id)
            ann_id += 1
        by_gold: dict[int, list[str]] = {}
        for e in expressions:
            by_gold.setdefault(e.gold, []).append(e.text)
        for gold, texts in by_gold.items():
            sentences = [{"raw": t, "sent": t.lower(), "tokens": t.lower().split(), "sent_id": sent_id + i}
                         for i, t in enumerate(texts)]
            refs.append({"ref_id": len(refs), "ann_id": ann_ids[gold], "image_id": image_id, "category_id": 1,
                         "split": split, "file_name": coco_name(image_id).replace(".jpg", f"_{len(refs)}.jpg"),
                         "sent_ids": [s["sent_id"] for s in sentences], "sentences": sentences})
            sent_id += len(texts)
            per_image.setdefault(image_id, []).extend(texts)
    (data / "instances.json").write_text(json.dumps(coco), encoding="utf-8")
    with (data / "refs(umd).p").open("wb") as f:
        pickle.dump(refs, f, protocol=2)
    return {"data": root / "DATA", "images": image_dir, "expressions": sent_id, "per_image": per_image,
            "refs": refs, "instances": coco}
