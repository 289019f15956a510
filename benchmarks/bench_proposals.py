"""Proposal sources' time per image on CPU (random weights: the compute of the real models).

Each source is built through its spec string from a random-weight checkpoint saved to a
temporary folder (nothing downloads) and run on one 640x480 noise image; wall time and CPU
time (process_time, all threads) are reported. The detectors are the real ResNet-50 FPN v2
architectures at ``--min-size`` (torchvision resizes the short side to it; its default is
800). Random heads score every box ~0.99, so the detectors return their full cap of 100 boxes:
the mask head and pasting work as hard as they can. ``maskrcnn+sam`` costs maskrcnn's time
plus the line that prompts SAM with its 100 boxes (read from a file). SAM defaults to the tiny test model
(a 2-block ViT at 256 px) so that the run stays near a minute; ``--sam vit_b`` measures the
real ViT-B at 1024 px (minutes on a 2-core CPU).

Run: ``.venv/bin/python -m benchmarks.bench_proposals [--min-size 512] [--sam tiny|vit_b] [--threads 2]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from proposal_models import save_detector, save_tiny_sam  # noqa: E402

from reclip.proposals import build_source  # noqa: E402
from reclip.proposals.io import write_proposals  # noqa: E402
from reclip.proposals.sam import build_sam  # noqa: E402

WIDTH, HEIGHT = 640, 480
VIT_B = {"embed_dim": 768, "depth": 12, "num_heads": 12, "img_size": 1024, "window_size": 14,
         "global_attn_indexes": [2, 5, 8, 11], "mlp_ratio": 4.0}


def timed(source, image: Image.Image) -> tuple[dict, list]:
    wall, cpu = time.perf_counter(), time.process_time()
    proposals = source(image)
    return {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "proposals": len(proposals), "masks": sum(p.mask is not None for p in proposals)}, proposals


def checkpoints(folder: Path, sam: str) -> dict[str, Path]:
    out = {"fasterrcnn": save_detector(folder / "fasterrcnn.pth", "fasterrcnn_resnet50_fpn_v2"),
           "maskrcnn": save_detector(folder / "maskrcnn.pth", "maskrcnn_resnet50_fpn_v2")}
    if sam == "vit_b":
        torch.save(build_sam(VIT_B).state_dict(), folder / "sam_vit_b_random.pth")
        out["sam"] = folder / "sam_vit_b_random.pth"
    else:
        out["sam"] = save_tiny_sam(folder / "sam_tiny_random.pth")
    return out


def specs(paths: dict[str, Path], min_size: int, sam: str) -> dict[str, str]:
    size = f"min_size={min_size},device=cpu"
    # random SAM weights pass no quality threshold: open them (real weights keep SAM's defaults)
    sam_options = "pred_iou_thresh=0,stability_score_thresh=0,points_per_side=" + ("16" if sam == "vit_b" else "4")
    return {
        f"fasterrcnn (min_size {min_size})": f"fasterrcnn:{paths['fasterrcnn']}?{size}",
        f"maskrcnn (min_size {min_size})": f"maskrcnn:{paths['maskrcnn']}?{size}",
        f"sam {sam} (automatic)": f"sam:{paths['sam']}?{sam_options},device=cpu",
        # maskrcnn+sam = maskrcnn's time + this: SAM prompted by maskrcnn's boxes, read from a file
        f"+sam {sam} (maskrcnn's boxes as prompts)": f"file:{paths['boxes']}+sam:{paths['sam']}?device=cpu",
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-size", type=int, default=512)
    parser.add_argument("--sam", choices=("tiny", "vit_b"), default="tiny")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    torch.set_num_threads(args.threads)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8))
    print(f"one {WIDTH}x{HEIGHT} image, CPU, {args.threads} threads, random weights", flush=True)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        paths = checkpoints(Path(folder), args.sam)
        paths["boxes"] = Path(folder) / "maskrcnn-boxes.json"
        for name, spec in specs(paths, args.min_size, args.sam).items():
            source = build_source(spec)
            results[name], proposals = timed(source, image)
            if name.startswith("maskrcnn"):
                write_proposals(paths["boxes"], [p.box for p in proposals])
            r = results[name]
            print(f"  {name:42} {r['wall_s']:7.2f} s wall  {r['cpu_s']:7.2f} s CPU  "
                  f"{r['proposals']:4d} proposals ({r['masks']} masks)", flush=True)
            del source
    if args.json:
        print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
