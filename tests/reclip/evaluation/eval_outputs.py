"""Evaluation outputs written by hand (run.json, predictions.jsonl, skipped.jsonl), for
the tests of merge and compare: rows drawn from a seeded generator, or given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

KINDS = ("no structure", "relation", "superlative", "ordinal")
CAUSES = ("no proposal overlaps the gold", "find: CLIP preferred another object", "relate removed the gold")
CONFIG = {"format": "refer", "dataset": "refcocog", "split": "val", "proposals": "gt",
          "models": ["synthetic"], "methods": ["crop"], "baseline": False, "limit": None, "shard": None}


def prediction(sent_id: int, image_id: int, iou: float, kind: str = "relation", cause: str | None = None,
               expression: str | None = None) -> dict[str, Any]:
    correct = iou > 0.5
    return {"sent_id": sent_id, "ref_id": sent_id // 2, "image_id": image_id, "ann_id": 1000 + sent_id,
            "expression": expression or f"expression {sent_id}", "program": 'find("thing")', "kind": kind,
            "index": 0, "box": [0.0, 0.0, 10.0, 10.0], "iou": iou, "correct": correct,
            "cause": None if correct else (cause or CAUSES[0])}


def random_predictions(count: int, seed: int = 0, per_image: int = 3) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [prediction(i, 100 + i // per_image, round(float(rng.uniform(0, 1)), 4),
                       kind=KINDS[int(rng.integers(len(KINDS)))], cause=CAUSES[int(rng.integers(len(CAUSES)))])
            for i in range(count)]


def write_run(folder: Path, predictions: Sequence[dict], skipped: Sequence[dict] = (), *,
              shard: tuple[int, int] | None = None, finished: bool = True, **config: Any) -> Path:
    """A run folder; ``finished`` writes a summary.json (a finished shard has one)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_text(json.dumps({**CONFIG, **config, "shard": list(shard) if shard else None}))
    (folder / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    (folder / "skipped.jsonl").write_text("".join(json.dumps(s) + "\n" for s in skipped))
    if finished:
        (folder / "summary.json").write_text("{}")
    return folder


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]
