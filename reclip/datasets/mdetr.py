"""MDETR's pre-processed refexp annotations (``finetune_refcocog_val.json`` and siblings).

COCO format with one image entry per expression (``caption``, ``original_id`` = the COCO
image id) and one annotation per entry (the gold box; ``original_id`` = refer's ann_id).
The files have no masks and no other objects: with ``--proposals gt`` an image's
proposals are the gold boxes of all expressions on that image.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from reclip.datasets.formats import FORMATS, DatasetFormat, Option
from primitives.boxes import xywh_to_xyxy
from reclip.datasets.records import (
    Dataset,
    DatasetError,
    GoldObject,
    RefRecord,
    image_key,
    malformed_skip,
    move_empty_sentences,
)
from reclip.files import read_json
from reclip.masks import to_rle


def load_mdetr(files: Mapping[str, str], images: str, split: str | None = None) -> Dataset:
    """``files["annotations"]``: the json. Every entry is this file's ``split`` (default:
    the file name's last ``_`` part, e.g. ``val``)."""
    path = Path(files["annotations"])
    data = read_json(path, "annotation file", DatasetError)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) \
            or not isinstance(data.get("annotations"), list):
        raise DatasetError(f"{path}: expected MDETR's COCO-format object with 'images' and 'annotations'")
    gold_of: dict[str, list[dict]] = {}
    for ann in data["annotations"]:
        if isinstance(ann, dict) and "image_id" in ann:
            gold_of.setdefault(image_key(ann["image_id"]), []).append(ann)
    split = split or path.stem.rsplit("_", 1)[-1]
    out = Dataset(path.stem, [])
    for i, entry in enumerate(data["images"]):
        try:
            out.records.append(_entry_record(entry, gold_of, images, split, path))
        except (DatasetError, KeyError, TypeError, ValueError) as exc:
            out.skipped.append(malformed_skip(_as_skip_entry(entry), i, exc))
    move_empty_sentences(out)
    out.objects = _objects(out.records)
    return out


def _entry_record(entry: Any, gold_of: dict[str, list[dict]], images: str, split: str, path: Path) -> RefRecord:
    if not isinstance(entry, dict) or "id" not in entry:
        raise DatasetError("an image entry needs an 'id'")
    anns = gold_of.get(image_key(entry["id"]), [])
    if len(anns) != 1:
        raise DatasetError(f"image entry {entry['id']} has {len(anns)} annotations; MDETR's have exactly one")
    ann = anns[0]
    image_id = entry.get("original_id", entry.get("original_img_id"))
    name, caption = entry.get("file_name"), entry.get("caption")
    if not isinstance(name, str) or not isinstance(caption, str) or not isinstance(image_id, (int, str)):
        raise DatasetError(f"image entry {entry['id']} needs 'file_name', 'caption' and 'original_id'")
    size = (entry.get("width"), entry.get("height"))
    seg = ann.get("segmentation")
    mask = to_rle(seg, size if all(isinstance(v, int) for v in size) else None) if seg else None
    return RefRecord(
        image=str(Path(images) / name), expression=caption.strip(),
        gold_box=xywh_to_xyxy(ann.get("bbox"), f"annotation {ann.get('id')}'s bbox", DatasetError),
        sent_id=entry.get("sentence_id", entry["id"]), image_id=image_id,
        ann_id=ann.get("original_id", ann.get("id")), ref_id=entry.get("ref_id"), split=split,
        dataset=entry.get("dataset_name") or path.stem, gold_mask=mask)


def _as_skip_entry(entry: Any) -> Any:
    """An image entry shaped like a ref for ``malformed_skip`` (its sent_id, its image id)."""
    if not isinstance(entry, dict):
        return entry
    sent = entry.get("sentence_id", entry.get("id"))
    return {"image_id": entry.get("original_id", entry.get("original_img_id")), "sentences": [{"sent_id": sent}]}


def _objects(records: list[RefRecord]) -> dict[str, list[GoldObject]]:
    """Per image, the distinct gold objects of its expressions (by ann_id, else by box)."""
    objects: dict[str, dict[Any, GoldObject]] = {}
    for r in records:
        key = r.ann_id if r.ann_id is not None else r.gold_box
        objects.setdefault(image_key(r.image_id), {}).setdefault(key, GoldObject(r.ann_id, r.gold_box, r.gold_mask))
    return {k: list(v.values()) for k, v in objects.items()}


FORMATS.add("mdetr", DatasetFormat(
    load=load_mdetr, help="MDETR's pre-processed refexp json (finetune_refcocog_val.json, ...)",
    description="Evaluate on MDETR's COCO-format annotations (one image entry per expression). They have no masks; with --proposals gt an image's proposals are the gold boxes of all its expressions.",
    files=(Option("annotations", "MDETR's json", positional=True, metavar="ANNOTATIONS.json"),),
    split=Option("split", "the split name to record (default: from the file name)", required=False),
    title=("annotations",)))
