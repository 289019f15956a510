"""A method's options travel with the method (``global_local?alpha=0.95``), and the scorer
leaves its caller's models where they were."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.clip import model_from_config, wrap_model
from reclip.isolation import MethodSpec, check_methods, parse_method
from reclip.isolation.global_local import GLOBAL_LOCAL_ALPHA, global_local_features
from reclip.scoring import ClipScorer

TEXT_CFG = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2}
VIT_CFG = {"embed_dim": 32, "text_cfg": TEXT_CFG,
           "vision_cfg": {"image_size": 32, "layers": 3, "width": 64, "patch_size": 8, "head_width": 32}}
H, W = 48, 64
BOXES = [[0, 0, 30, 24], [20, 10, 60, 47], [5, 30, 25, 48]]


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    return wrap_model(model_from_config(VIT_CFG), "tiny-vit", device="cpu")


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))
    props = []
    for x0, y0, x1, y1 in BOXES:
        m = np.zeros((H, W), bool)
        m[y0:y1, x0:x1] = True
        props.append(Proposal([x0, y0, x1, y1], mask=m))
    return image, props


def test_a_spec_carries_its_options_and_prints_canonically():
    assert parse_method("global_local?alpha=0.95").kwargs == {"alpha": 0.95}
    # the default is no option at all: one cache key and one spelling per setting
    assert parse_method(f"global_local?alpha={GLOBAL_LOCAL_ALPHA}").text == "global_local"
    assert check_methods("crop, global_local?alpha=0.95") == ("crop", "global_local?alpha=0.95")
    with pytest.raises(ReclipError, match="alpha mixes global and local"):
        parse_method("global_local?alpha=1.5")
    # a method object is checked as its text is
    assert check_methods([MethodSpec("global_local", (("alpha", 0.95),))]) == ("global_local?alpha=0.95",)
    with pytest.raises(ReclipError, match="alpha mixes global and local"):
        check_methods([MethodSpec("global_local", (("alpha", 2.0),))])


def test_the_scorer_hands_each_method_its_own_options(vit, scene):
    image, props = scene
    scorer = ClipScorer([vit], methods=["global_local?alpha=0.95"], beta=1.0)
    got = scorer.score(image, props, ["a dog"])
    feats = global_local_features(vit.model, image, props, vit.image_size, vit.mean, vit.std, alpha=0.95)
    with torch.inference_mode():
        txt = vit.model.encode_text(vit.tokenizer(["a photo of a dog"])).float()
    img = feats / feats.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    want = (vit.model.logit_scale.exp() * txt @ img.T).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    default = ClipScorer([vit], methods=["global_local"], beta=1.0).score(image, props, ["a dog"])
    assert not np.allclose(got, default)


def test_a_device_copies_the_model_and_leaves_the_callers_in_place(vit, monkeypatch):
    from reclip.clip import loading

    # 'meta' holds no data, so users are refused it; here it stands for a second device
    monkeypatch.setattr(loading, "_available", lambda kind: kind == "meta")
    same = ClipScorer([vit], device="cpu")
    assert same.models[0] is vit
    moved = ClipScorer([vit], device="meta")
    assert moved.models[0] is not vit and moved.models[0].device.type == "meta"
    assert vit.device.type == "cpu" and next(vit.model.parameters()).device.type == "cpu"
