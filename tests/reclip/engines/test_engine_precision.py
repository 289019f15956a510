"""--precision reaches the detector engines and SAM 2 (issue 23): bf16 on the CPU runs the
autocast path; scores leave as float32 and stay close to the fp32 ones."""

from __future__ import annotations

import numpy as np
from PIL import Image

from reclip.engines import build_scorer
from reclip.proposals import proposal_source

BOXES = [[0, 0, 60, 40], [50, 10, 119, 79], [10, 30, 40, 70], [0, 0, 120, 80]]
TEXTS = ["a lion", "the tree", "red cup"]


def photo() -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8))


def test_owlv2_runs_in_the_precision_asked_for(owlv2_dir):
    full = build_scorer(f"owlv2:{owlv2_dir}", device="cpu", precision="fp32")
    half = build_scorer(f"owlv2:{owlv2_dir}", device="cpu", precision="bf16")
    assert (full.precision, half.precision) == ("fp32", "bf16") and full is not half
    a, b = full.score(photo(), BOXES, TEXTS), half.score(photo(), BOXES, TEXTS)
    assert b.dtype == np.float32 and np.all(np.isfinite(b))
    assert not np.array_equal(a, b)                          # bf16 really ran
    assert np.abs(a - b).max() <= 0.05 * (np.ptp(a) + 1e-6)  # and stayed close


def test_grounding_dino_runs_in_the_precision_asked_for(gdino_dir):
    half = build_scorer(f"grounding-dino:{gdino_dir}", device="cpu", precision="bf16")
    assert half.precision == "bf16"
    logits = half.score(photo(), BOXES, TEXTS)
    assert logits.shape == (3, len(BOXES)) and logits.dtype == np.float32 and np.all(np.isfinite(logits))


def test_sam2_source_takes_the_precision(sam2_dir):
    proposals = proposal_source(f"sam2:{sam2_dir}?points_per_side=3,pred_iou_thresh=-100,min_area=0,box_nms_thresh=1",
                                device="cpu", precision="bf16")(photo())
    assert proposals and all(p.mask is not None and p.mask.shape == (80, 120) for p in proposals)
