"""ReCLIP's jsonl (allenai/reclip): one referred object per line, its sentences, and
``anns``, all ground-truth objects of the image (the gt proposals).

``{"file_name": "COCO_train2014_000000581857_16.jpg", "image_id": 581857,
"anns": [{"id", "bbox": [x, y, w, h]}], "ann_id": 1719310, "sentences": [{"raw": ...}]}``.
As ReCLIP does, a COCO file name loses its last ``_N`` part; ``ann_id`` may be a list
(the first listed object is the gold box). Sentences without a ``sent_id`` get
``"LINE.J"`` (line number, sentence index) as their key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from reclip.datasets.formats import FORMATS, DatasetFormat, Option
from primitives.boxes import xywh_to_xyxy
from reclip.datasets.records import (
    Dataset, DatasetError, GoldObject, RefRecord, image_key, malformed_skip,
    move_empty_sentences,
)
from reclip.masks import to_rle


def load_reclip_jsonl(files: Mapping[str, str], images: str, split: str | None = None) -> Dataset:
    """``files["annotations"]``: the jsonl. With ``split``, lines whose own ``split`` differs are left out."""
    path = Path(files["annotations"])
    if not path.is_file():
        raise DatasetError(f"annotation file not found: {path}")
    out = Dataset(path.stem, [])
    objects: dict[str, dict[Any, GoldObject]] = {}
    try:
        lines = path.read_bytes().decode("utf-8").split("\n")  # a line ends at LF only, never CR
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    default_split = split or path.stem.rsplit("_", 1)[-1]
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        datum: Any = None
        try:
            datum = json.loads(line)
            if isinstance(datum, dict) and split and datum.get("split") not in (None, split):
                continue
            records, anns = _line_records(datum, number, images, default_split, path.stem)
        except (DatasetError, json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as exc:
            out.skipped.append(malformed_skip(datum, number, DatasetError(f"line {number}: {exc}")))
            continue
        out.records += records
        for obj in anns:
            objects.setdefault(image_key(records[0].image_id if records else datum["image_id"]), {}) \
                .setdefault(obj.ann_id, obj)
    move_empty_sentences(out)
    out.objects = {k: list(v.values()) for k, v in objects.items()}
    return out


def image_file_name(name: str) -> str:
    """ReCLIP's rule: a COCO refer name ``..._000000581857_16.jpg`` loses its ``_16``."""
    if "coco" in name.lower() and name.count("_") >= 3:
        return "_".join(name.split("_")[:-1]) + ".jpg"
    return name


def _line_records(datum: Any, number: int, images: str, split: str, name: str
                  ) -> tuple[list[RefRecord], list[GoldObject]]:
    if not isinstance(datum, dict) or any(k not in datum for k in ("file_name", "image_id", "anns", "ann_id")):
        raise DatasetError("a line needs file_name, image_id, anns, ann_id and sentences")
    if not isinstance(datum["anns"], list) or not isinstance(datum.get("sentences"), list):
        raise DatasetError("'anns' and 'sentences' must be lists")
    anns = [_gold_object(a) for a in datum["anns"]]
    wanted = datum["ann_id"] if isinstance(datum["ann_id"], list) else [datum["ann_id"]]
    wanted_keys = [image_key(a) for a in wanted]
    golds = sorted((o for o in anns if image_key(o.ann_id) in wanted_keys),
                   key=lambda o: wanted_keys.index(image_key(o.ann_id)))
    if not golds:
        raise DatasetError(f"ann_id {datum['ann_id']} is not among the line's anns")
    if not isinstance(datum["file_name"], str) or not isinstance(datum["image_id"], (int, str)):
        raise DatasetError("'file_name' must be a string and 'image_id' an int or string")
    image = str(Path(images) / image_file_name(datum["file_name"]))
    records = []
    for j, sentence in enumerate(datum["sentences"]):
        text = sentence.get("raw", sentence.get("sent")) if isinstance(sentence, dict) else None
        if not isinstance(text, str):
            raise DatasetError(f"sentence {j} has no text ('raw')")
        records.append(RefRecord(
            image=image, expression=text.strip(), gold_box=golds[0].box,
            sent_id=sentence.get("sent_id", f"{number}.{j}"), image_id=datum["image_id"],
            ann_id=golds[0].ann_id, ref_id=datum.get("ref_id"), split=datum.get("split", split),
            dataset=name.split("_")[0], gold_mask=golds[0].mask))
    return records, anns


def _gold_object(ann: Any) -> GoldObject:
    if not isinstance(ann, dict) or "id" not in ann:
        raise DatasetError("every ann needs an 'id' and a 'bbox'")
    seg = ann.get("segmentation")
    return GoldObject(ann["id"], xywh_to_xyxy(ann.get("bbox"), f"ann {ann['id']}'s bbox", DatasetError),
                      to_rle(seg) if seg else None)


FORMATS.add("reclip", DatasetFormat(
    load=load_reclip_jsonl, help="ReCLIP's jsonl (refcocog_val.jsonl, ...)",
    description="Evaluate on ReCLIP's jsonl (one referred object per line, with all ground-truth objects of the image as 'anns').",
    files=(Option("annotations", "ReCLIP's jsonl", positional=True, metavar="FILE.jsonl"),),
    split=Option("split", "keep only lines of this split (when lines name one)", required=False),
    title=("annotations",)))
