"""GPU paths: the scorer and the detectors on CUDA agree with the CPU. Skipped without CUDA
(CI has none); run on a machine with a GPU: ``pytest tests/reclip/test_gpu.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reclip.files import load_image
from reclip.proposals.io import read_proposals

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DEMO = Path(__file__).resolve().parents[2] / "reclip" / "assets" / "demo"


def demo_scene():
    image = load_image(DEMO / "scene.png")
    proposals = read_proposals(DEMO / "proposals.json", image_size=image.size)
    texts = [e["expression"] for e in json.loads((DEMO / "expressions.json").read_text())]
    return image, proposals, texts


def test_clip_scorer_on_cuda_matches_cpu():
    from reclip.scoring import ClipScorer

    image, proposals, texts = demo_scene()
    cpu = ClipScorer.from_pretrained("synthetic", device="cpu").score(image, proposals, texts)
    gpu = ClipScorer.from_pretrained("synthetic", device="cuda").score(image, proposals, texts)
    assert gpu.shape == cpu.shape
    assert (gpu.argmax(axis=1) == cpu.argmax(axis=1)).all()
    # float32 on both, different kernels (TF32 matmuls on the GPU): a small fraction of the spread
    assert np.abs(gpu - cpu).max() < 0.01 * np.ptp(cpu) + 1e-3


@pytest.fixture(scope="module")
def random_maskrcnn(tmp_path_factory) -> Path:
    from torchvision.models import detection

    torch.manual_seed(0)
    model = detection.maskrcnn_resnet50_fpn_v2(weights=None, weights_backbone=None, num_classes=91)
    path = tmp_path_factory.mktemp("weights") / "maskrcnn-random.pth"
    torch.save(model.state_dict(), path)
    return path


def test_detector_batch_on_cuda_matches_single_images_and_cpu(random_maskrcnn):
    from reclip.proposals.detectors import DetectorSource

    image, _, _ = demo_scene()
    other = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    options = dict(score_threshold=0.0, max_proposals=20, min_size=320, max_size=480)
    gpu = DetectorSource("maskrcnn", str(random_maskrcnn), device="cuda", **options)
    cpu = DetectorSource("maskrcnn", str(random_maskrcnn), device="cpu", **options)
    batched = gpu.batch([image, other])
    singles = [gpu(image), gpu(other)]
    on_cpu = cpu(image)
    for got, want in zip(batched, singles):
        assert len(got) == len(want) > 0
        # Random weights score nearly every box ~0.99: NMS between such near-ties flips with
        # the batch's different kernels, so most boxes, not all, must reappear.
        assert share_matched(got, want, atol=1.0) >= 0.6
    w, h = image.size
    for p in batched[0]:
        x0, y0, x1, y1 = p.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert p.mask is not None and np.asarray(p.mask).shape == (h, w)
    # the same random model on the CPU finds the same strongest boxes
    assert share_matched(singles[0], on_cpu, atol=2.0) >= 0.6


def share_matched(got, want, atol: float) -> float:
    """The share of ``got``'s boxes within ``atol`` pixels of some box of ``want``."""
    a = np.array([p.box for p in got])[:, None, :]
    b = np.array([p.box for p in want])[None, :, :]
    nearest = np.abs(a - b).max(axis=2).min(axis=1)
    print(f"matched {np.mean(nearest <= atol):.2f} of {len(got)} boxes within {atol} px")
    return float(np.mean(nearest <= atol))
