"""RegionCLIP weights through the ``region`` path against crop + blur, on the same workload.

A RegionCLIP RN50 checkpoint with random values (RegionCLIP's key names: open_clip's RN50
with ``visual.`` renamed ``backbone.`` and the text tower under ``lang_encoder.``, no BN
counters, no logit scale) is written to a temporary file and loaded through the
``regionclip-RN50:PATH`` spec. Each image of a COCO-sized workload (640x480, ``--boxes``
boxes) is scored with one text by:

- ``region``: one image pass at RegionCLIP's test size (shortest side 800, longest 1333), then
  RoIAlign + layer4 + attention pool for all boxes: its encoder forwards per image are 1;
- ``crop + blur`` (ReCLIP's isolation) with the same weights at CLIP's 224 px square: one
  batch per image of 2 x boxes isolated images.

It prints seconds and encoder forwards per image for each, and their ratio.
Run: ``python -m benchmarks.bench_region [--images 2] [--boxes 20] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import open_clip
import torch

from benchmarks.bench_scoring import make_boxes, make_image
from reclip.clip import load_model
from reclip.scoring import ClipScorer


def write_regionclip_checkpoint(path: Path) -> Path:
    """open_clip's RN50 (random) saved as RegionCLIP's pretrained file names its weights."""
    torch.manual_seed(0)
    model = open_clip.CLIP(**open_clip.get_model_config("RN50-quickgelu"))
    state = {}
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked") or key == "logit_scale":
            continue
        state["backbone." + key[len("visual."):] if key.startswith("visual.") else "lang_encoder." + key] = value
    torch.save({"model": state}, path)
    return path


def time_image(scorer: ClipScorer, image, boxes) -> float:
    """Seconds to score one image's boxes from a cold cache."""
    scorer.clear_cache()
    start = time.perf_counter()
    scorer.score(image, boxes, ["the man on the left"])
    return time.perf_counter() - start


def time_both(scorers: Sequence[ClipScorer], cases) -> list[tuple[float, float]]:
    """(seconds per image, encoder forwards per image) of each scorer, interleaved image by image
    so that both see the same load on a shared machine."""
    seconds = [0.0] * len(scorers)
    for scorer in scorers:
        scorer.reset_stats()
    for image, boxes in cases:
        for k, scorer in enumerate(scorers):
            seconds[k] += time_image(scorer, image, boxes)
    n = len(cases)
    return [(s / n, scorer.stats.image_forwards / n) for s, scorer in zip(seconds, scorers)]


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="bench_region", description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2)
    ap.add_argument("--boxes", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads; 0 = torch's default")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(list(argv) if argv is not None else [])
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    cases = [(make_image(rng), make_boxes(rng, args.boxes)) for _ in range(args.images)]
    with tempfile.TemporaryDirectory() as tmp:
        path = write_regionclip_checkpoint(Path(tmp) / "regionclip_pretrained-cc_rn50.pth")
        model = load_model(f"regionclip-RN50:{path}", args.device)
    print(f"RegionCLIP RN50 (random weights) on {model.device}, {model.precision}, "
          f"{torch.get_num_threads()} threads; {args.images} images 640x480 x {args.boxes} boxes")
    region = ClipScorer([model], methods=("region",))
    crop_blur = ClipScorer([model], methods=("crop", "blur"))
    time_both([region, crop_blur], cases[:1])                        # warm-up
    (region_s, region_f), (crop_s, crop_f) = time_both([region, crop_blur], cases)
    print(f"region (one image pass at {model.region_resize[0]}/{model.region_resize[1]} px, RoIAlign for "
          f"{args.boxes} boxes): {region_s:.2f} s/image, {region_f:.0f} encoder forward per image")
    print(f"crop+blur ({2 * args.boxes} isolated 224 px images per image, one batch): {crop_s:.2f} s/image, "
          f"{crop_f:.0f} encoder forward per image")
    print(f"ratio crop+blur / region: {crop_s / region_s:.2f}x time per image")
    return {"region_s_per_image": region_s, "crop_blur_s_per_image": crop_s, "region_forwards": region_f,
            "crop_blur_forwards": crop_f, "ratio": crop_s / region_s}


if __name__ == "__main__":
    main(sys.argv[1:])
