"""Evaluation throughput: expressions per second on a RefCOCOg-shaped fixture.

~20 images of the synthetic scenes written in refer's layout by the tests' builder
(``tests/refexp_data.py``: several expressions per image, as RefCOCOg has), ground-truth
boxes as proposals, the shipped synthetic model with crop isolation (one method keeps the
benchmark near a minute). Two ways through the same expressions, each with a cold scorer
cache and the model already loaded:

- ``reclip eval refer``'s path (``run_evaluation``): records grouped by image, each image
  loaded once and all its expressions scored in one scorer call, predictions and the
  summary written;
- one ``Locator.locate`` per expression, the image loaded each time (the naive loop).

Both choose the same proposals; the ratio of their throughputs is printed.

Run: ``.venv/bin/python -m benchmarks.bench_eval [--images 20]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Sequence

METHODS = ("crop",)


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result): CPU time is the steadier figure on a shared box."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def per_expression(locator, dataset) -> dict:
    """The naive loop: one locate per expression over the image's gt boxes."""
    from reclip.files import load_image

    answers = {}
    for record in dataset.records:
        boxes = [list(o.box) for o in dataset.objects_of(record.image_id)]
        answers[record.sent_id] = locator.locate(load_image(record.image), record.expression, boxes).index
    return answers


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench_eval", description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20)
    args = ap.parse_args(list(argv) if argv is not None else [])
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from refexp_data import build_refexp_data

    from reclip import Locator
    from reclip.datasets import load_dataset
    from reclip.evaluation.config import EvalConfig
    from reclip.evaluation.run import run_evaluation

    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        data = build_refexp_data(Path(tmp) / "data", scenes=args.images)
        files = {"root": str(data.refer_root), "dataset": "refcocog", "split_by": "umd"}
        config = EvalConfig(dataset="refer", files=files, images=str(data.images), proposals="gt",
                            split="val", methods=METHODS)
        dataset = load_dataset("refer", files, str(data.images), "val")
        locator = Locator.from_pretrained("synthetic", methods=list(METHODS))
        locator.compile("the red circle left of the blue square")     # spaCy loaded outside the timing

        locator.scorer.clear_cache()
        t_grouped, c_grouped, summary = timed(lambda: run_evaluation(
            config, Path(tmp) / "out", progress=False, locator=locator, log=lambda line: None))
        locator.scorer.clear_cache()
        t_single, c_single, single = timed(lambda: per_expression(locator, dataset))
        rows = [json.loads(line) for line in (Path(tmp) / "out" / "predictions.jsonl").read_text().splitlines()]
    n = summary["n"]
    assert {r["sent_id"]: r["index"] for r in rows} == single, "the two paths chose different proposals"
    images = len({r["image_id"] for r in rows})
    print(f"{n} expressions on {images} images (gt boxes, synthetic model, {'+'.join(METHODS)}); "
          f"accuracy {100 * summary['accuracy']:.1f}%; wall s (CPU s):")
    print(f"  reclip eval refer (grouped by image): {t_grouped:6.2f} s ({c_grouped:6.2f}) = "
          f"{n / t_grouped:5.1f} expressions/s")
    print(f"  one Locator.locate per expression:    {t_single:6.2f} s ({c_single:6.2f}) = "
          f"{n / t_single:5.1f} expressions/s")
    print(f"  throughput ratio, grouped / per expression: {t_single / t_grouped:.2f}x wall, "
          f"{c_single / c_grouped:.2f}x CPU")
    return {"expressions": n, "images": images, "grouped_s": t_grouped, "single_s": t_single,
            "ratio": t_single / t_grouped, "cpu_ratio": c_single / c_grouped}


if __name__ == "__main__":
    main(sys.argv[1:])
