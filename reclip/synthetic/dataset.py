"""Dataset files: ``DIR/images/*.png`` and ``DIR/expressions.jsonl`` (see ``reclip.synthetic``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from interpreter import Proposal
from primitives import ReclipError
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
               if not (p.is_file() and p.suffix == ".png")]
    if others or not images.is_dir():
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
    records = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            rec = parse_json(line, f"{path}:{line_no}")
            if not isinstance(rec, dict):
                raise ReclipError(f"{path}:{line_no}: expected a JSON object, got {type(rec).__name__}")
            rec["image_path"] = str((path.parent / rec.get("image", "")).resolve())
            records.append(rec)
    return records


def record_proposals(record: dict[str, Any], masks: bool = True) -> list[Proposal]:
    return [Proposal(p["box"], decode_mask(p["mask"]) if masks and p.get("mask") else None,
                     p.get("label")) for p in record["proposals"]]
