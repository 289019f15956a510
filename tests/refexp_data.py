"""Tiny referring-expression datasets in every format researchers bring, drawn with Pillow
(the synthetic benchmark's scenes of coloured shapes), for end-to-end ``reclip eval`` tests.

``build_refexp_data(folder)`` writes, for a few scenes:

- ``images/COCO_train2014_<id:012d>.jpg`` (COCO names, so every format finds them);
- refer: ``refer/refcocog/refs(umd).p`` (protocol 2, as Python 2 wrote them) and
  ``refer/refcocog/instances.json`` (masks as compressed RLE and as polygons);
- MDETR: ``finetune_refcocog_val.json``; ReCLIP: ``refcocog_val.jsonl``;
- detections: ``dets_dict.json`` (ReCLIP/MAttNet dict), ``dets_list.json``
  ([{image_id, box}]) and ``dets_coco.json`` (COCO results with RLE segmentations).

It returns a ``RefexpData`` with the paths and the gold (boxes, masks) per sent_id, so
tests compute figures independently of reclip's loaders.
"""

from __future__ import annotations

import json
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from reclip.synthetic.expressions import generate

FIRST_IMAGE_ID = 1000


@dataclass
class RefexpData:
    root: Path
    images: Path
    refer_root: Path
    instances: Path
    refs: Path
    mdetr: Path
    jsonl: Path
    dets_dict: Path
    dets_list: Path
    dets_coco: Path
    gold_box: dict = field(default_factory=dict)      # sent_id -> xyxy
    gold_mask: dict = field(default_factory=dict)     # sent_id -> HxW bool
    image_of: dict = field(default_factory=dict)      # sent_id -> image_id
    objects: dict = field(default_factory=dict)       # image_id -> [(ann_id, xyxy)]


def coco_name(image_id: int) -> str:
    return f"COCO_train2014_{image_id:012d}.jpg"


def _rle(mask: np.ndarray) -> dict:
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _polygon(box) -> list[list[float]]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def _polygon_mask(polygons, w: int, h: int) -> np.ndarray:
    with warnings.catch_warnings():   # pycocotools trips numpy 2's copy= deprecation
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))).astype(bool)


def _xywh(box) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return [x0, y0, x1 - x0, y1 - y0]


def build_refexp_data(folder: Path, scenes: int = 3, seed: int = 0) -> RefexpData:
    folder = Path(folder)
    images = folder / "images"
    refer = folder / "refer" / "refcocog"
    images.mkdir(parents=True)
    refer.mkdir(parents=True)
    data = RefexpData(folder, images, folder / "refer", refer / "instances.json", refer / "refs(umd).p",
                      folder / "finetune_refcocog_val.json", folder / "refcocog_val.jsonl",
                      folder / "dets_dict.json", folder / "dets_list.json", folder / "dets_coco.json")
    coco_images, annotations, refs, mdetr_images, mdetr_anns, lines = [], [], [], [], [], []
    dets_dict, dets_list, dets_coco = {}, [], []
    sent_id = ref_id = 0
    for index, scene, exprs in generate(seed, scenes):
        image_id = FIRST_IMAGE_ID + index
        w, h = scene.image.size
        scene.image.save(images / coco_name(image_id), format="PNG")   # PNG bytes: exact pixels
        coco_images.append({"id": image_id, "file_name": coco_name(image_id), "width": w, "height": h})
        gold_masks = []
        for k, o in enumerate(scene.objects):
            ann_id = image_id * 100 + k
            polygon = k % 2 == 1
            seg = _polygon(o.box) if polygon else _rle(o.mask)
            gold_masks.append(_polygon_mask(seg, w, h) if polygon else o.mask.astype(bool))
            annotations.append({"id": ann_id, "image_id": image_id, "category_id": 1, "bbox": _xywh(o.box),
                                "segmentation": seg, "area": float(gold_masks[-1].sum()), "iscrowd": 0})
            data.objects.setdefault(image_id, []).append((ann_id, [float(v) for v in o.box]))
            dets_dict.setdefault(str(image_id), []).append(_xywh(o.box))
            dets_list.append({"image_id": image_id, "box": _xywh(o.box)})
            dets_coco.append({"image_id": image_id, "category_id": 1, "bbox": _xywh(o.box), "score": 0.9,
                              "segmentation": _rle(o.mask)})
        by_gold: dict[int, list] = {}
        for e in exprs:
            by_gold.setdefault(e.gold, []).append(e)
        anns = [{"id": image_id * 100 + k, "bbox": _xywh(o.box)} for k, o in enumerate(scene.objects)]
        for gold, group in by_gold.items():
            ann_id = image_id * 100 + gold
            sentences = []
            for e in group:
                sentences.append({"raw": e.text, "sent": e.text.lower(), "tokens": e.text.lower().split(),
                                  "sent_id": sent_id})
                data.gold_box[sent_id] = [float(v) for v in scene.objects[gold].box]
                data.gold_mask[sent_id] = gold_masks[gold]
                data.image_of[sent_id] = image_id
                mdetr_images.append({"id": sent_id, "file_name": coco_name(image_id), "height": h, "width": w,
                                     "original_id": image_id, "caption": e.text.lower(),
                                     "dataset_name": "refcocog", "tokens_negative": [], "sentence_id": sent_id})
                mdetr_anns.append({"id": sent_id, "image_id": sent_id, "bbox": _xywh(scene.objects[gold].box),
                                   "area": 1.0, "iscrowd": 0, "category_id": 1, "original_id": ann_id,
                                   "tokens_positive": []})
                sent_id += 1
            refs.append({"ref_id": ref_id, "ann_id": ann_id, "image_id": image_id, "category_id": 1,
                         "split": "val", "file_name": f"{coco_name(image_id)[:-4]}_{ref_id}.jpg",
                         "sent_ids": [s["sent_id"] for s in sentences], "sentences": sentences})
            lines.append({"file_name": f"{coco_name(image_id)[:-4]}_{ref_id}.jpg", "image_id": image_id,
                          "anns": anns, "ann_id": ann_id, "ref_id": ref_id,
                          "sentences": [{"raw": s["raw"], "sent_id": s["sent_id"]} for s in sentences]})
            ref_id += 1
    data.instances.write_text(json.dumps({"images": coco_images, "annotations": annotations,
                                          "categories": [{"id": 1, "name": "shape"}]}))
    data.refs.write_bytes(pickle.dumps(refs, protocol=2))
    data.mdetr.write_text(json.dumps({"images": mdetr_images, "annotations": mdetr_anns, "categories": []}))
    data.jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))
    data.dets_dict.write_text(json.dumps(dets_dict))
    data.dets_list.write_text(json.dumps(dets_list))
    data.dets_coco.write_text(json.dumps(dets_coco))
    return data
