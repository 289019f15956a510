"""Dataset files: ``DIR/images/*.png`` and ``DIR/expressions.jsonl`` (see ``reclip.synthetic``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from tqdm import tqdm

from interpreter import Proposal
from primitives import ReclipError
from reclip.datasets import Dataset, DatasetError, GoldObject, RefRecord, Skip, image_key
from reclip.files import make_folder, parse_json
from reclip.masks import decode_mask, encode_mask
from reclip.synthetic.expressions import Expression, generate
from reclip.synthetic.scenes import Scene


def scene_records(scene_id: str, image_path: str, scene: Scene,
                  expressions: Sequence[Expression], seed: int) -> list[dict[str, Any]]:
    proposals = [{"box": list(o.box), "mask": encode_mask(o.mask), "label": o.label,
                  "attributes": o.attributes} for o in scene.objects]
    w, h = scene.image.size
    out = []
    for k, e in enumerate(expressions):
        out.append({
            "id": f"{scene_id}-{k}", "scene": scene_id, "image": image_path,
            "width": w, "height": h, "proposals": proposals,
            "expression": e.text, "kind": e.kind, "gold": e.gold,
            "gold_box": list(scene.objects[e.gold].box), "gold_mask": proposals[e.gold]["mask"],
            "program": str(e.program), "seed": seed,
        })
    return out


def write_dataset(out: str | Path, scenes: int, seed: int, progress: bool = False,
                  overwrite: bool = False) -> Path:
    """Write images/ and expressions.jsonl under ``out`` (a new or empty folder; with
    ``overwrite``, an earlier dataset there is removed first); returns the JSONL path."""
    out = _empty_dataset_folder(out, overwrite)
    make_folder(out, "dataset folder")
    make_folder(out / "images", "dataset folder")
    path = out / "expressions.jsonl"
    items = generate(seed, scenes)
    if progress:
        items = tqdm(items, total=scenes, desc="scenes", unit="scene")
    with path.open("w", encoding="utf-8") as f:
        for index, scene, exprs in items:
            scene_id = f"s{seed}-{index:06d}"
            rel = f"images/{scene_id}.png"
            scene.image.save(out / rel)
            for rec in scene_records(scene_id, rel, scene, exprs, seed):
                f.write(json.dumps(rec) + "\n")
    return path


_SCENE_PNG = re.compile(r"s\d+-\d{6,}\.png")     # the names write_dataset gives its images


def _empty_dataset_folder(out: str | Path, overwrite: bool) -> Path:
    """``out`` when it is new or empty; an earlier dataset there is refused, or removed
    with ``overwrite`` (so that no image of it is left behind). A folder holding anything
    else is never emptied."""
    if not str(out).strip():
        raise ReclipError("the dataset folder's path is empty: give a folder path (--out DIR)")
    out = Path(out)
    if not out.is_dir() or not any(out.iterdir()):
        return out
    if not overwrite:
        raise ReclipError(f"dataset folder {out} is not empty: choose a new folder, or pass --overwrite "
                          "to replace the dataset in it")
    images = out / "images"
    ours = {out / "expressions.jsonl", images}
    others = [p.name for p in out.iterdir() if p not in ours]
    others += [f"images/{p.name}" for p in (images.iterdir() if images.is_dir() else ())
               if not (p.is_file() and _SCENE_PNG.fullmatch(p.name))]
    if others or not images.is_dir() or not (out / "expressions.jsonl").is_file():
        raise ReclipError(f"dataset folder {out} holds files that are not a synthetic dataset "
                          f"({', '.join(sorted(others)[:3]) or 'no images/'}): --overwrite replaces only a "
                          "dataset `reclip synth` wrote; choose a new folder")
    for png in images.iterdir():
        png.unlink()
    (out / "expressions.jsonl").unlink(missing_ok=True)
    return out


def dataset_file(path: str | Path) -> Path:
    """A dataset directory's expressions.jsonl (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "expressions.jsonl"
    if not path.is_file():
        raise ReclipError(
            f"no synthetic dataset at {path}: write one with `reclip synth --out DIR`"
        )
    return path


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a dataset (directory or JSONL); ``image`` resolved to an absolute path."""
    path = dataset_file(path)
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise DatasetError(f"{path} is not a synthetic dataset (not UTF-8 JSON lines): give the folder "
                           "`reclip synth --out` wrote, or its expressions.jsonl") from None
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from None
    records = []
    for line_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        rec = parse_json(line, f"{path}:{line_no}")
        if not isinstance(rec, dict):
            raise DatasetError(f"{path}:{line_no}: expected a JSON object, got {type(rec).__name__}")
        rec["image_path"] = str((path.parent / str(rec.get("image", ""))).resolve())
        records.append(rec)
    return records


def load_synthetic_dataset(files: Mapping[str, str], images: str = "", split: str | None = None) -> Dataset:
    """The benchmark as the one record type: a record per expression (``ann_id`` = the gold
    object's index, ``kind`` and gold ``program`` kept), each scene's objects (with their labels,
    without masks: the benchmark scores boxes) as its gold objects. A malformed record is skipped
    with its reason."""
    data = read_records(files["data"])
    out = Dataset(Path(files["data"]).name, [])
    for position, rec in enumerate(data):
        try:
            record, objects = _record(rec)
        except (ReclipError, KeyError, TypeError, ValueError) as exc:
            sent_id = rec.get("id") if isinstance(rec.get("id"), (int, str)) else f"entry-{position}"
            scene = rec.get("scene") if isinstance(rec.get("scene"), (int, str)) else None
            reason = "empty_sentence" if isinstance(exc, EmptyExpression) else "malformed_record"
            detail = str(exc) if isinstance(exc, ReclipError) else f"{type(exc).__name__}: {exc}"
            out.skipped.append(Skip(sent_id, scene, reason, detail))
            continue
        out.records.append(record)
        out.objects.setdefault(image_key(record.image_id), objects)
    return out


class EmptyExpression(DatasetError):
    """A record whose expression is empty."""


def _record(rec: dict[str, Any]) -> tuple[RefRecord, list[GoldObject]]:
    objects = [GoldObject(k, xyxy(p["box"]), None, p.get("label")) for k, p in enumerate(rec["proposals"])]
    gold = rec["gold"]
    if isinstance(gold, bool) or not isinstance(gold, int) or not 0 <= gold < len(objects):
        raise DatasetError(f"gold index {gold} is out of range for {len(objects)} proposals")
    expression = rec["expression"]
    if not isinstance(expression, str) or not expression.strip():
        raise EmptyExpression(f"empty expression (got {expression!r}): nothing to locate")
    record = RefRecord(image=rec["image_path"], expression=expression, gold_box=objects[gold].box,
                       sent_id=rec["id"], image_id=rec["scene"], ann_id=gold, kind=rec.get("kind"),
                       program=rec.get("program"), dataset="synthetic")
    return record, objects


def xyxy(box: Any) -> tuple[float, float, float, float]:
    if not isinstance(box, (list, tuple)) or len(box) != 4:
        raise DatasetError(f"a box must be [x0, y0, x1, y1], got {box!r}")
    return tuple(float(v) for v in box)  # type: ignore[return-value]


def record_proposals(record: dict[str, Any], masks: bool = True) -> list[Proposal]:
    return [Proposal(p["box"], decode_mask(p["mask"]) if masks and p.get("mask") else None,
                     p.get("label")) for p in record["proposals"]]
