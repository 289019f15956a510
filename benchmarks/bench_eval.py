"""Evaluation throughput: expressions per second on a RefCOCOg-shaped fixture.

~20 images of the synthetic scenes written in refer's layout (several expressions per
image, ground-truth boxes as proposals, the shipped synthetic model). Two ways through
the same expressions, same answers:

- grouped by image: each image loaded once, all its expressions in one ``locate_many``
  (one scorer call for all their find texts), as ``reclip eval`` does;
- one ``Locator.locate`` per expression, the image loaded each time.

Then ``reclip eval refer`` end to end (``run_evaluation``: reading the files, writing
predictions and the summary) on the same fixture, when the evaluation runner is present.

Run: ``.venv/bin/python -m benchmarks.bench_eval [--images 20]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

from benchmarks.refer_fixture import write_refer_fixture


def gt_boxes(instances: dict) -> dict[int, list[list[float]]]:
    boxes: dict[int, list[list[float]]] = {}
    for a in instances["annotations"]:
        x, y, w, h = a["bbox"]
        boxes.setdefault(a["image_id"], []).append([x, y, x + w, y + h])
    return boxes


def timed(work: Callable[[], list[int]]) -> tuple[tuple[float, float], list[int]]:
    """((wall s, CPU s of this process), result): the CPU time is the steadier figure on a shared box."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def locator_paths(fixture: dict) -> dict:
    """Grouped by image against one locate per expression; returns times and the ratio."""
    from reclip import Locator
    from reclip.files import load_image

    locator = Locator.from_pretrained("synthetic")
    boxes = gt_boxes(fixture["instances"])
    files = {im["id"]: fixture["images"] / im["file_name"] for im in fixture["instances"]["images"]}
    per_image = fixture["per_image"]
    n = sum(len(t) for t in per_image.values())

    def grouped() -> list[int]:
        return [r.index for image_id, texts in per_image.items()
                for r in locator.locate_many(load_image(files[image_id]), texts, boxes[image_id])]

    def single() -> list[int]:
        return [locator.locate(load_image(files[image_id]), text, boxes[image_id]).index
                for image_id, texts in per_image.items() for text in texts]

    grouped()       # one untimed pass: spaCy, Lark and torch warm up on these very expressions
    (t_grouped, c_grouped), answers = timed(grouped)
    (t_single, c_single), answers_single = timed(single)
    assert answers == answers_single, "the two paths chose different proposals"
    print(f"{n} expressions on {len(per_image)} images (gt boxes, synthetic model); wall s (CPU s):")
    print(f"  grouped by image (locate_many): {t_grouped:.2f} s ({c_grouped:.2f}) = {n / t_grouped:.1f} expressions/s")
    print(f"  one locate per expression:      {t_single:.2f} s ({c_single:.2f}) = {n / t_single:.1f} expressions/s")
    print(f"  grouped / per-expression throughput: {t_single / t_grouped:.2f}x wall, "
          f"{c_single / c_grouped:.2f}x CPU")
    return {"expressions": n, "grouped_s": t_grouped, "single_s": t_single, "ratio": t_single / t_grouped,
            "cpu_ratio": c_single / c_grouped}


def end_to_end(fixture: dict, out: Path) -> dict | None:
    """``reclip eval refer`` through ``run_evaluation``, when the runner is present."""
    try:
        from reclip.evaluation import EvalConfig, run_evaluation
    except ImportError:
        print("  reclip eval refer end to end: the evaluation runner is not in this checkout")
        return None
    config = EvalConfig(format="refer", root=str(fixture["data"]), dataset="refcocog", split_by="umd",
                        split="val", images=str(fixture["images"]), proposals="gt", models=["synthetic"])
    start = time.perf_counter()
    summary = run_evaluation(config, out, progress=False)
    seconds = time.perf_counter() - start
    print(f"  reclip eval refer end to end:   {seconds:.2f} s = {summary['n'] / seconds:.1f} expressions/s "
          f"(accuracy {100 * summary['accuracy']:.1f}% with the synthetic model; model load included)")
    return {"seconds": seconds, "n": summary["n"], "accuracy": summary["accuracy"]}


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20)
    args = ap.parse_args(list(argv) if argv is not None else [])
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        fixture = write_refer_fixture(tmp, images=args.images)
        paths = locator_paths(fixture)
        run = end_to_end(fixture, Path(tmp) / "out")
    return {"paths": paths, "end_to_end": run, "summary": json.dumps(run) if run else None}


if __name__ == "__main__":
    main(sys.argv[1:])
