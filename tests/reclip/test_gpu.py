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
    gpu = ClipScorer.from_pretrained("synthetic", device="cuda", precision="fp32").score(image, proposals, texts)
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


# -- half precision: fp16 (the CUDA default) against fp32 on the same GPU ------------------------

def spread_ok(half: np.ndarray, full: np.ndarray) -> float:
    """The largest |fp16 - fp32| logit difference as a share of the fp32 logits' spread."""
    return float(np.abs(half - full).max() / max(np.ptp(full), 1e-6))


def test_fp16_is_the_cuda_default_and_matches_fp32_on_the_demo():
    from reclip.scoring import ClipScorer

    image, proposals, texts = demo_scene()
    default = ClipScorer.from_pretrained("synthetic", device="cuda")
    assert default.models[0].precision == "fp16"
    half = default.score(image, proposals, texts)
    full = ClipScorer.from_pretrained("synthetic", device="cuda", precision="fp32").score(image, proposals, texts)
    assert half.dtype == np.float32
    assert (half.argmax(axis=1) == full.argmax(axis=1)).all()
    share = spread_ok(half, full)
    print(f"demo: fp16 vs fp32 max |diff| = {share:.4f} of the spread")
    assert share < 0.01


def test_fp16_matches_fp32_on_200_synthetic_expressions():
    from reclip import Locator
    from reclip.scoring import ClipScorer
    from reclip.synthetic.expressions import generate

    half = ClipScorer.from_pretrained("synthetic", device="cuda", precision="fp16")
    full = ClipScorer.from_pretrained("synthetic", device="cuda", precision="fp32")
    cases = []
    for _, scene, expressions in generate(0, 60):
        cases += [(scene, e) for e in expressions]
        if len(cases) >= 200:
            break
    cases = cases[:200]
    worst, same_choice = 0.0, 0
    for scene, e in cases:
        proposals = scene.proposals()
        h, f = half.score(scene.image, proposals, [e.text]), full.score(scene.image, proposals, [e.text])
        assert h.argmax() == f.argmax(), e.text
        worst = max(worst, spread_ok(h, f))
        same_choice += Locator(half).locate(scene.image, e.text, proposals).index == \
            Locator(full).locate(scene.image, e.text, proposals).index
    print(f"200 synthetic expressions: worst fp16 vs fp32 = {worst:.4f} of the spread; "
          f"same chosen proposal {same_choice}/200")
    assert worst < 0.01 and same_choice == 200


def test_fp16_detector_and_region_path_on_cuda(random_maskrcnn):
    from reclip.clip import model_from_config, wrap_model
    from reclip.proposals.detectors import DetectorSource
    from reclip.scoring import ClipScorer

    image, proposals, texts = demo_scene()
    detector = DetectorSource("maskrcnn", str(random_maskrcnn), device="cuda", score_threshold=0.0,
                              max_proposals=20, min_size=320, max_size=480)
    assert detector.precision == "fp16"
    found = detector(image)
    assert found and all(np.isfinite(p.box).all() for p in found)
    cfg = {"embed_dim": 64, "vision_cfg": {"image_size": 224, "layers": [2, 2, 2, 2], "width": 32},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2}}
    torch.manual_seed(0)
    model = model_from_config(cfg)
    half = wrap_model(model, "rn-fp16", device="cuda")
    full = wrap_model(model_from_config(cfg), "rn-fp32", device="cuda", precision="fp32")
    full.model.load_state_dict(half.model.state_dict())
    h = ClipScorer([half], methods=("region",)).score(image, proposals, texts)
    f = ClipScorer([full], methods=("region",)).score(image, proposals, texts)
    assert h.dtype == np.float32 and spread_ok(h, f) < 0.01


def test_crops_batched_across_images_on_cuda_give_the_per_image_logits():
    """fp16 kernels may change with the batch size: --batch-size must still choose the same, and
    here is measured how far its logits move (printed with -s)."""
    from reclip.synthetic.expressions import generate
    from reclip.scoring import ClipScorer

    scenes = [scene for _, scene, _ in generate(1, 6)]
    plain = ClipScorer.from_pretrained("synthetic", device="cuda")
    batched = ClipScorer.from_pretrained("synthetic", device="cuda", batch_size=4096)
    work = [(s.image, [o.box for o in s.objects], sorted({f"{o.colour} {o.shape}" for o in s.objects}))
            for s in scenes]
    assert batched.encode_prepared([batched.prepare(im, boxes) for im, boxes, _ in work]) == len(work)
    worst = 0.0
    for im, boxes, texts in work:
        x, y = plain.score(im, boxes, texts), batched.score(im, boxes, texts)
        assert (x.argmax(1) == y.argmax(1)).all()
        worst = max(worst, float(np.abs(x - y).max()))
    print(f"batched across images vs per image on CUDA: max |logit diff| {worst:.2e}")
    assert batched.stats.region_misses == 0


def test_isolation_on_the_device_stays_near_the_cpu_path_on_cuda():
    from reclip.scoring import ClipScorer

    image, proposals, texts = demo_scene()
    cpu = ClipScorer.from_pretrained("synthetic", device="cuda", precision="fp32")
    dev = ClipScorer(cpu.models, isolate="device")
    x, y = cpu.score(image, proposals, texts), dev.score(image, proposals, texts)
    assert (x.argmax(1) == y.argmax(1)).all()
    assert np.abs(x - y).max() < 0.01 * np.ptp(x) + 1e-3
