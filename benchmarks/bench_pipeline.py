"""End-to-end evaluation throughput on a RefCOCOg-shaped workload made on the fly: sequential
against pipelined (``--workers``), and fp32 against fp16 where the scorer takes a precision.

The workload: IMAGES images of COCO's sizes (JPEG files, so loading and decoding are part of
the run), about 4 expressions and 30 proposals per image (the ground-truth objects of a
registered in-memory dataset format, as ``--proposals gt``), ReCLIP's two models with random
weights (RN50x16 + ViT-B-32; on the CPU ViT-B-32 alone by default, RN50x16 at 384 px being
minutes per image there) and crop + blur. Each configuration runs ``run_evaluation`` into its
own folder, with a cold embedding cache, and prints expressions/s, images/s, the time in each
stage (prepare: load, decode, propose, in worker threads when pipelined; score: isolate +
encode; interpret: the rest of answering), the share of the wall time the models were encoding
(device busy; synchronised on CUDA), and peak memory (device memory on CUDA, RSS on the CPU).
Pipelined, the workers also isolate and resize each image's crops (``ClipScorer.prepare``) and
the loop encodes them ahead (``encode_prepared``: the "ahead" stage, inside answering), with
``--batch-size`` crops of several images per forward in a third configuration. The pipelined
rows, and the number of crops encoded, are checked equal to the sequential ones.

Run: ``python -m benchmarks.bench_pipeline`` (CPU, small: what ``make bench`` runs) or
``python -m benchmarks.bench_pipeline --device cuda --images 1300`` (the full RefCOCOg val size).
"""

from __future__ import annotations

import argparse
import inspect
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import open_clip
import torch
from PIL import Image

from benchmarks.bench_scoring import sentences
from grammar import compile_expression
from reclip import Locator
from reclip.clip import wrap_model
from reclip.datasets import FORMATS, Dataset, DatasetFormat, GoldObject, RefRecord
from reclip.evaluation import run as run_module
from reclip.evaluation.config import EvalConfig
from reclip.evaluation.run import run_evaluation
from reclip.scoring import ClipScorer

COCO_SIZES = [(640, 480), (640, 427), (500, 375), (480, 640), (640, 424), (427, 640)]
FORMAT = "bench-refcocog"


def make_workload(folder: Path, images: int, per_image: int, proposals: int, seed: int = 0) -> None:
    """JPEG images of COCO's sizes and a records file; registers the in-memory format reading them."""
    rng = np.random.default_rng(seed)
    texts = [s for s, _ in sentences(images * per_image)]
    records, objects = [], {}
    for i in range(images):
        w, h = COCO_SIZES[i % len(COCO_SIZES)]
        coarse = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((w, h), Image.BICUBIC).save(folder / f"{i}.jpg", quality=90)
        x0, y0 = rng.uniform(0, w - 40, proposals), rng.uniform(0, h - 40, proposals)
        bw, bh = rng.uniform(20, w / 2, proposals), rng.uniform(20, h / 2, proposals)
        boxes = [(float(a), float(b), float(min(w, a + c)), float(min(h, b + d)))
                 for a, b, c, d in zip(x0, y0, bw, bh, strict=True)]
        objects[str(i)] = [GoldObject(k, box) for k, box in enumerate(boxes)]
        for j in range(per_image):
            records.append(RefRecord(image=str(folder / f"{i}.jpg"), expression=texts[i * per_image + j],
                                     gold_box=boxes[j], sent_id=i * per_image + j, image_id=i, ann_id=j))

    def load(files: Any, images: str, split: str | None = None) -> Dataset:
        return Dataset("refcocog-shaped", list(records), dict(objects))

    FORMATS.add(FORMAT, DatasetFormat(load=load, help="bench_pipeline's RefCOCOg-shaped workload"), replace=True)


class Timed:
    """Sums the wall time of calls to ``fn`` (synchronising CUDA first, so device work counts)."""

    def __init__(self, fn, cuda: bool = False) -> None:
        self.fn, self.cuda, self.seconds = fn, cuda, 0.0

    def __call__(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            if self.cuda:
                torch.cuda.synchronize()
            self.seconds += time.perf_counter() - start


class TimedScorer:
    """The scorer as the loop sees it, each entry point timed (``prepare`` runs in the workers)."""

    def __init__(self, scorer: ClipScorer) -> None:
        self.stats = scorer.stats
        self.score, self.encode_prepared = Timed(scorer.score), Timed(scorer.encode_prepared)
        self.prepare = scorer.prepare


def make_scorer(archs: list[str], device: str, precision: str, batch_size: int | None = None,
                isolate: str = "cpu") -> tuple[ClipScorer, list[Timed]]:
    torch.manual_seed(0)
    wrap_options: dict[str, Any] = {"device": device}
    options: dict[str, Any] = {"methods": ("crop", "blur"), "batch_size": batch_size, "isolate": isolate}
    if precision != "fp32":     # where this build takes it: the scorer, or the model wrapper
        (options if _takes_precision(ClipScorer.__init__) else wrap_options)["precision"] = precision
    models = [wrap_model(open_clip.create_model(a, pretrained=None), f"{a}:random", **wrap_options) for a in archs]
    scorer = ClipScorer(models, **options)
    # warm up (first-call allocations, kernels), then start from a cold embedding cache
    scorer.score(Image.new("RGB", (64, 48), "grey"), [[0, 0, 32, 24]], ["warm up"])
    scorer.clear_cache()
    scorer.reset_stats()
    encoders = []
    for m in models:       # the models' encode time is the device-busy time
        m.model.encode_image = Timed(m.model.encode_image, cuda=device.startswith("cuda"))
        encoders.append(m.model.encode_image)
    return scorer, encoders


def run_once(folder: Path, out: Path, archs: list[str], device: str, precision: str, workers: int,
             batch_size: int | None = None, isolate: str = "cpu") -> dict:
    scorer, encoders = make_scorer(archs, device, precision, batch_size, isolate)
    timed = TimedScorer(scorer)
    score, ahead = timed.score, timed.encode_prepared
    prepare, answer = Timed(run_module.prepare_image), Timed(run_module.answer_image)
    run_module.prepare_image, run_module.answer_image = prepare, answer
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    config = EvalConfig(FORMAT, {}, str(folder), "gt", models=tuple(archs), methods=("crop", "blur"),
                        workers=workers)
    start = time.perf_counter()
    try:
        summary = run_evaluation(config, out, progress=False, locator=Locator(timed), log=lambda line: None)
    finally:
        run_module.prepare_image, run_module.answer_image = prepare.fn, answer.fn
    wall = time.perf_counter() - start
    encode = sum(e.seconds for e in encoders)
    peak = (torch.cuda.max_memory_allocated() / 2**20 if device.startswith("cuda")
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return {"wall": wall, "n": summary["n"], "prepare": prepare.seconds, "score": score.seconds,
            "ahead": ahead.seconds, "interpret": answer.seconds - score.seconds, "busy": encode / wall if wall else 0.0,
            "peak_mib": peak, "encoded": scorer.stats.images_encoded, "forwards": scorer.stats.image_forwards}


def _takes_precision(fn: Any) -> bool:
    return "precision" in inspect.signature(fn).parameters


def precisions(device: str, asked: str | None) -> list[str]:
    """The precisions to run: ``asked`` (comma-separated), else fp32 and, on CUDA, fp16; any but
    fp32 only when the scorer takes a precision option (another change adds it)."""
    wanted = asked.split(",") if asked else (["fp32", "fp16"] if device.startswith("cuda") else ["fp32"])
    if not (_takes_precision(ClipScorer.__init__) or _takes_precision(wrap_model)) and wanted != ["fp32"]:
        print(f"{', '.join(w for w in wanted if w != 'fp32')}: ClipScorer takes no precision option in "
              "this build; fp32 only")
        return ["fp32"]
    return wanted


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--images", type=int, default=None, help="default: 2 on the CPU, 1300 on CUDA")
    p.add_argument("--expressions", type=int, default=4, help="per image (RefCOCOg val: about 3.8)")
    p.add_argument("--proposals", type=int, default=30, help="per image")
    p.add_argument("--models", default=None, help="default: RN50x16,ViT-B-32 on CUDA, ViT-B-32 on the CPU")
    p.add_argument("--workers", type=int, default=4, help="threads of the pipelined run")
    p.add_argument("--batch-size", type=int, default=None, metavar="CROPS",
                   help="crops of several images per forward in a third, batched run (default: 512 on CUDA, "
                        "none on the CPU)")
    p.add_argument("--isolate", choices=("cpu", "device"), default=None,
                   help="also run the batched pipeline isolating crop and blur on the device (its rows may "
                        "differ from the CPU path's: see bench_device_isolation)")
    p.add_argument("--precision", default=None, metavar="fp32,fp16",
                   help="precisions to compare (default: fp32, and fp16 on CUDA), when the scorer takes one")
    args = p.parse_args(argv)
    cuda = args.device.startswith("cuda")
    images = args.images or (1300 if cuda else 2)
    archs = (args.models or ("RN50x16,ViT-B-32" if cuda else "ViT-B-32")).split(",")
    print(f"workload: {images} images of COCO sizes x {args.expressions} expressions x {args.proposals} "
          f"proposals; models {'+'.join(archs)} (random weights), crop+blur, device {args.device}", flush=True)
    compile_expression("the warm-up cup left of the plate")   # load the compiler before timing
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        make_workload(folder, images, args.expressions, args.proposals)
        results = {}
        batch = args.batch_size or (512 if cuda else None)
        runs = [(0, None, "cpu"), (args.workers, None, "cpu")] + ([(args.workers, batch, "cpu")] if batch else [])
        runs += [(args.workers, batch, "device")] if args.isolate == "device" else []
        for precision in precisions(args.device, args.precision):
            for workers, batch_size, isolate in runs:
                name = f"{precision} {'sequential' if workers == 0 else f'pipelined x{workers}'}"
                name += (f" batch {batch_size}" if batch_size else "") + (" on-device" if isolate == "device" else "")
                out = Path(tmp) / name.replace(" ", "-")
                r = results[name] = run_once(folder, out, archs, args.device, precision, workers, batch_size, isolate)
                print(f"{name:>34}: {r['n'] / r['wall']:7.2f} expressions/s  {images / r['wall']:6.2f} images/s  "
                      f"wall {r['wall']:7.1f} s  prepare {r['prepare']:6.1f} s  ahead {r['ahead']:6.1f} s  "
                      f"score {r['score']:6.1f} s  interpret {r['interpret']:5.1f} s  "
                      f"device busy {100 * r['busy']:4.1f}%  {r['forwards']} forwards  "
                      f"peak {r['peak_mib']:.0f} MiB", flush=True)
            seq = f"{precision} sequential"
            for name in [n for n in results if n.startswith(precision) and n != seq]:
                same = ((Path(tmp) / seq.replace(" ", "-") / "predictions.jsonl").read_text()
                        == (Path(tmp) / name.replace(" ", "-") / "predictions.jsonl").read_text())
                print(f"{name}: rows identical to sequential: {same}; crops encoded "
                      f"{results[name]['encoded']} (sequential {results[seq]['encoded']})")
        first, last = results[next(iter(results))], results[list(results)[-1]]
        print(f"speed-up of {list(results)[-1]} over {next(iter(results))}: {first['wall'] / last['wall']:.2f}x")
        FORMATS.remove(FORMAT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
