"""``precision`` reaches the CLIP models: bf16 on the CPU runs the half-precision path (autocast),
scores leave as float32 and stay close to fp32's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reclip.clip import load_model, model_from_config, wrap_model
from reclip.clip.precision import PrecisionError, default_precision, resolve_precision
from reclip.files import load_image
from reclip.proposals.io import read_proposals
from reclip.scoring import ClipScorer

DEMO = Path(__file__).resolve().parents[3] / "reclip" / "assets" / "demo"
TEXT_CFG = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2}
RN_CFG = {"embed_dim": 32, "text_cfg": TEXT_CFG,
          "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 8, "head_width": 32}}


def demo():
    image = load_image(DEMO / "scene.png")
    proposals = read_proposals(DEMO / "proposals.json", image_size=image.size)
    texts = [e["expression"] for e in json.loads((DEMO / "expressions.json").read_text())]
    return image, proposals, texts


def test_defaults_and_names():
    assert default_precision("cpu") == "fp32" and default_precision("cuda") == "fp16"
    assert resolve_precision(None, "cpu") == "fp32" and resolve_precision("BF16", "cpu") == "bf16"
    with pytest.raises(PrecisionError, match="unknown precision 'fp8'; choose one of fp32, fp16, bf16"):
        resolve_precision("fp8", "cpu")
    assert load_model("synthetic", "cpu").precision == "fp32"


def test_bf16_on_the_cpu_runs_in_bf16_and_scores_in_float32():
    image, proposals, texts = demo()
    fp32 = ClipScorer.from_pretrained("synthetic", device="cpu").score(image, proposals, texts)
    half = ClipScorer.from_pretrained("synthetic", device="cpu", precision="bf16")
    seen = []
    half.models[0].model.visual.conv1.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    got = half.score(image, proposals, texts)
    assert seen == [torch.bfloat16] and got.dtype == np.float32
    assert half.models[0].model.visual.conv1.weight.dtype == torch.float32   # weights stay float32
    spread = np.ptp(fp32)
    print(f"bf16 vs fp32: max |diff| {np.abs(got - fp32).max():.3f}, spread {spread:.2f}; same argmax "
          f"{(got.argmax(1) == fp32.argmax(1)).sum()}/{len(texts)}")
    assert np.abs(got - fp32).max() < 0.05 * spread


def test_bf16_reaches_the_region_path():
    torch.manual_seed(1)
    rn = wrap_model(model_from_config(RN_CFG), "tiny-rn", device="cpu", precision="bf16")
    image, proposals, texts = demo()
    seen = []
    rn.model.visual.layer4.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    got = ClipScorer([rn], methods=("region",)).score(image, proposals, texts[:2])
    assert seen == [torch.bfloat16] and got.dtype == np.float32 and np.isfinite(got).all()
