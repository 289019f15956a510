"""Engines benchmark: an OWLv2 ``find`` engine against CLIP crop + blur on one workload.

The same images, proposals and compiled RefCOCOg expressions (default 8 images x 3
expressions x 10 proposals, as bench_scoring) go through ``Locator.run_many`` once per
image with each engine. Both are tiny random models with the same tower (2 layers, width
32, 16 px patches), so the ratio reflects how each engine works, not its size:
OWLv2 encodes the whole image once per image and applies its class head per text, CLIP
encodes every proposal twice (crop and blur). Resolutions keep the real models' proportion
(OWLv2 960 px per image, CLIP 224 px per crop: tiny 256 and 64). Reported per expression: image-encoder
forwards, images through the encoder, text forwards, wall time; then the CLIP/OWLv2 ratios.
Absolute times are meaningless here; ``--size base`` builds OWLv2-base (960 px) and
ViT-B-32 (224 px) with random weights instead, the real models' compute (slow on a CPU).

Run: ``.venv/bin/python -m benchmarks.bench_engines [--images 8] [--size tiny|base]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Sequence

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from benchmarks.bench_scoring import workload  # noqa: E402
from reclip import Locator  # noqa: E402
from reclip.clip import model_from_config, wrap_model  # noqa: E402
from reclip.engines.owlv2 import Owlv2Engine  # noqa: E402
from reclip.scoring import ClipScorer  # noqa: E402

# Resolutions in the real models' proportion: OWLv2 sees the image at 960 px, CLIP each crop at
# 224 (about 4x); tiny: 256 and 64, both with 16 px patches.
TINY_OWL_SIZE = 256
TINY_CLIP = {"embed_dim": 32, "vision_cfg": {"image_size": 64, "layers": 2, "width": 32, "patch_size": 16, "head_width": 8},
             "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 4, "layers": 2}}


def owlv2_folder(size: str, folder: Path) -> Path:
    if size == "tiny":
        from detector_models import save_tiny_owlv2

        return save_tiny_owlv2(folder, image_size=TINY_OWL_SIZE)
    from transformers import Owlv2Config, Owlv2ForObjectDetection, Owlv2ImageProcessor, Owlv2Processor

    from detector_models import _clip_tokenizer

    tokenizer = _clip_tokenizer(folder)
    n = len(tokenizer.get_vocab())
    config = Owlv2Config(text_config={"vocab_size": n, "bos_token_id": n - 2, "eos_token_id": n - 1,
                                      "pad_token_id": n - 1},
                         vision_config={"image_size": 960, "patch_size": 16})
    Owlv2ForObjectDetection(config).eval().save_pretrained(folder)
    Owlv2Processor(image_processor=Owlv2ImageProcessor(size={"height": 960, "width": 960}),
                   tokenizer=tokenizer).save_pretrained(folder)
    return folder


def clip_scorer(size: str) -> ClipScorer:
    import open_clip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = model_from_config(TINY_CLIP) if size == "tiny" else open_clip.create_model("ViT-B-32", pretrained=None)
    return ClipScorer(wrap_model(model, f"clip-{size}:random", device="cpu"), ("crop", "blur"))


def timed(scorer, cases) -> tuple[float, dict[str, int]]:
    locator = Locator(scorer)
    scorer.reset_stats()
    start = time.perf_counter()
    for case in cases:
        locator.run_many(case.programs, case.image, case.proposals)
    return time.perf_counter() - start, scorer.stats.as_dict()


def main(argv: Sequence[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=8)
    ap.add_argument("--expressions", type=int, default=3)
    ap.add_argument("--proposals", type=int, default=10)
    ap.add_argument("--size", choices=("tiny", "base"), default="tiny")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    cases, source = workload(args.images, args.expressions, args.proposals)
    n_expr = sum(len(c.programs) for c in cases)
    with tempfile.TemporaryDirectory() as tmp:
        owl = Owlv2Engine(str(owlv2_folder(args.size, Path(tmp))), device="cpu")
        clip = clip_scorer(args.size)
        timed(owl, cases[:1]), timed(clip, cases[:1])      # warm-up: first-call allocations
        owl.clear_cache(), clip.clear_cache()
        rows = {"owlv2": timed(owl, cases), "clip crop+blur": timed(clip, cases)}
    print(f"workload: {len(cases)} images x {args.expressions} expressions x {args.proposals} proposals "
          f"({source}), {args.size} models, {args.threads} thread(s)")
    print(f"{'engine':<16}{'img fwd/expr':>14}{'imgs enc/expr':>15}{'text fwd/expr':>15}{'ms/expr':>10}")
    out = {}
    for name, (seconds, st) in rows.items():
        out[name] = {"image_forwards": st["image_forwards"] / n_expr, "images_encoded": st["images_encoded"] / n_expr,
                     "text_forwards": st["text_forwards"] / n_expr, "ms": 1000 * seconds / n_expr}
        r = out[name]
        print(f"{name:<16}{r['image_forwards']:>14.2f}{r['images_encoded']:>15.2f}{r['text_forwards']:>15.2f}"
              f"{r['ms']:>10.2f}")
    a, b = out["clip crop+blur"], out["owlv2"]
    out["ratio"] = {k: a[k] / b[k] for k in ("images_encoded", "ms")}
    print(f"CLIP crop+blur / OWLv2: {out['ratio']['images_encoded']:.1f}x the images encoded, "
          f"{out['ratio']['ms']:.2f}x the time per expression")
    return out


if __name__ == "__main__":
    main()
