"""RegionCLIP checkpoints through the ``regionclip-RN50:PATH`` spec.

The checkpoint is written with RegionCLIP's own key names and shapes, derived here from its
model definition (microsoft/RegionCLIP, not from open_clip):

- ``detectron2/modeling/meta_arch/clip_rcnn.py`` ``PretrainFastRCNN``: the modules ``backbone``
  (visual), ``lang_encoder`` (text), ``teacher_backbone`` and ``offline_backbone`` /
  ``offline_proposal_generator`` (pretraining only); pixel mean/std are non-persistent buffers.
- ``detectron2/modeling/backbone/clip_backbone.py`` ``ModifiedResNet``: a 3-conv stem (conv1
  3->w/2 stride 2, conv2 w/2->w/2, conv3 w/2->w, all 3x3) with ``FrozenBatchNorm2d`` bn1..3
  (weight, bias, running_mean, running_var), ``layer1..4`` of ``Bottleneck`` blocks (conv1 1x1,
  conv2 3x3, conv3 1x1 to 4x planes, bn1..3, ``downsample`` = ("-1" avgpool, "0" conv 1x1,
  "1" FrozenBN) on each stage's first block), ``attnpool`` (positional_embedding
  (res/32)^2+1 x 32w, q/k/v_proj 32w->32w, c_proj 32w->embed).
- ``build_clip_resnet_backbone`` / ``build_clip_language_encoder``, depth 50: layers [3, 4, 6, 3],
  width 64, embed 1024, resolution 224; text width 512, 12 layers, context 77, vocab 49408.
- ``CLIPLangEncoder``: transformer.resblocks.i.{attn.in_proj_weight, attn.in_proj_bias,
  attn.out_proj.{weight,bias}, ln_1, mlp.c_fc, mlp.c_proj, ln_2}, token_embedding,
  positional_embedding, ln_final, text_projection; no logit_scale.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reclip.clip import ModelLoadError, load_model
from reclip.isolation.region import region_features
from reclip.scoring import ClipScorer

RN50 = dict(layers=(3, 4, 6, 3), width=64, embed=1024, resolution=224, text_width=512, text_layers=12)


def frozen_bn(prefix: str, n: int) -> dict[str, tuple]:
    return {f"{prefix}.{k}": (n,) for k in ("weight", "bias", "running_mean", "running_var")}


def visual_shapes(layers, width, embed, resolution, **_) -> dict[str, tuple]:
    s = {"conv1.weight": (width // 2, 3, 3, 3), "conv2.weight": (width // 2, width // 2, 3, 3),
         "conv3.weight": (width, width // 2, 3, 3)}
    s.update(frozen_bn("bn1", width // 2) | frozen_bn("bn2", width // 2) | frozen_bn("bn3", width))
    inplanes = width
    for stage, blocks in enumerate(layers):
        planes = width * 2 ** stage
        for b in range(blocks):
            p = f"layer{stage + 1}.{b}"
            s[f"{p}.conv1.weight"] = (planes, inplanes, 1, 1)
            s[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            s[f"{p}.conv3.weight"] = (planes * 4, planes, 1, 1)
            s.update(frozen_bn(f"{p}.bn1", planes) | frozen_bn(f"{p}.bn2", planes)
                     | frozen_bn(f"{p}.bn3", planes * 4))
            if b == 0:   # stride > 1, or inplanes != 4 * planes
                s[f"{p}.downsample.0.weight"] = (planes * 4, inplanes, 1, 1)
                s.update(frozen_bn(f"{p}.downsample.1", planes * 4))
            inplanes = planes * 4
    dim = width * 32
    s["attnpool.positional_embedding"] = ((resolution // 32) ** 2 + 1, dim)
    for proj in ("q_proj", "k_proj", "v_proj"):
        s[f"attnpool.{proj}.weight"], s[f"attnpool.{proj}.bias"] = (dim, dim), (dim,)
    s["attnpool.c_proj.weight"], s["attnpool.c_proj.bias"] = (embed, dim), (embed,)
    return {"backbone." + k: v for k, v in s.items()}


def text_shapes(embed, text_width, text_layers, **_) -> dict[str, tuple]:
    w = text_width
    s = {"token_embedding.weight": (49408, w), "positional_embedding": (77, w),
         "ln_final.weight": (w,), "ln_final.bias": (w,), "text_projection": (w, embed)}
    for i in range(text_layers):
        p = f"transformer.resblocks.{i}"
        s.update({f"{p}.attn.in_proj_weight": (3 * w, w), f"{p}.attn.in_proj_bias": (3 * w,),
                  f"{p}.attn.out_proj.weight": (w, w), f"{p}.attn.out_proj.bias": (w,),
                  f"{p}.ln_1.weight": (w,), f"{p}.ln_1.bias": (w,), f"{p}.ln_2.weight": (w,),
                  f"{p}.ln_2.bias": (w,), f"{p}.mlp.c_fc.weight": (4 * w, w), f"{p}.mlp.c_fc.bias": (4 * w,),
                  f"{p}.mlp.c_proj.weight": (w, 4 * w), f"{p}.mlp.c_proj.bias": (w,)})
    return {"lang_encoder." + k: v for k, v in s.items()}


def random_value(key: str, shape: tuple, gen: torch.Generator) -> torch.Tensor:
    """Random values of a trained net's kind (BN scales and variances positive, fan-in scaled
    weights) so the random ResNet's activations neither die nor explode."""
    if key.endswith(("running_var", ".weight")) and len(shape) == 1:
        return torch.rand(shape, generator=gen) * 0.5 + 0.5
    if len(shape) == 1:
        return torch.randn(shape, generator=gen) * 0.05
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
    return torch.randn(shape, generator=gen) * (1.0 / fan_in) ** 0.5


def regionclip_state() -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    shapes = visual_shapes(**RN50) | text_shapes(**RN50)
    state = {k: random_value(k, v, gen).half() for k, v in shapes.items()}   # half: a smaller file
    # pretraining-only parts a released file may hold: dropped, not an error
    state["teacher_backbone.conv1.weight"] = torch.zeros(32, 3, 3, 3)
    state["offline_backbone.fpn_lateral2.weight"] = torch.zeros(4, 4, 1, 1)
    state["offline_proposal_generator.rpn_head.conv.weight"] = torch.zeros(4, 4, 3, 3)
    return state


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> tuple[Path, dict]:
    state = regionclip_state()
    path = tmp_path_factory.mktemp("regionclip") / "regionclip_pretrained-cc_rn50.pth"
    torch.save({"model": state}, path)
    return path, state


@pytest.fixture(scope="module")
def loaded(checkpoint):
    model = load_model(f"regionclip-RN50:{checkpoint[0]}", "cpu")
    # the tests run the region path on a small image: RegionCLIP's 800 px would cost minutes here
    return dataclasses.replace(model, region_resize=(192, 448))


def test_every_key_is_used(checkpoint, loaded):
    _, state = checkpoint
    own = loaded.model.state_dict()
    used = 0
    for key, value in state.items():
        if key.startswith(("teacher_", "offline_")):
            continue
        mine = "visual." + key[len("backbone."):] if key.startswith("backbone.") else key[len("lang_encoder."):]
        assert torch.equal(own[mine], value.float()), key
        used += 1
    assert used == len(own) - sum(k.endswith("num_batches_tracked") for k in own) - 1  # - logit_scale
    assert loaded.model.logit_scale.exp().item() == pytest.approx(100.0)   # 1 / CLSS_TEMP
    assert loaded.region_resize is not None and loaded.image_size == 224


def test_a_renamed_key_is_an_error_naming_it(checkpoint, tmp_path):
    _, state = checkpoint
    bad = dict(state)
    bad["backbone.layer3.2.conv2.weights"] = bad.pop("backbone.layer3.2.conv2.weight")
    path = tmp_path / "renamed.pth"
    torch.save({"model": bad}, path)
    with pytest.raises(ModelLoadError, match=r"missing keys: backbone\.layer3\.2\.conv2\.weight; "
                                             r"unexpected keys: backbone\.layer3\.2\.conv2\.weights"):
        load_model(f"regionclip-RN50:{path}", "cpu")
    strange = {**state, "roi_heads.box_predictor.cls_score.weight": torch.zeros(2, 2)}
    torch.save({"model": strange}, path)
    with pytest.raises(ModelLoadError, match=r"unexpected keys .*roi_heads\.box_predictor\.cls_score\.weight"):
        load_model(f"regionclip-RN50:{path}", "cpu")


def scene() -> Image.Image:
    """A uniform grey image with a textured patch on the left: the boxes shifted within the grey
    part keep their whole receptive field (hundreds of pixels in a ResNet's C4) grey."""
    rng = np.random.default_rng(0)
    pixels = np.full((192, 416, 3), 128, np.uint8)
    pixels[40:150, 10:90] = rng.integers(0, 256, (110, 80, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def distance(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a / a.norm() - b / b.norm()).norm())


def test_region_embeddings_follow_the_boxes(loaded):
    boxes = np.array([[20, 50, 80, 140], [224, 76, 264, 116], [272, 76, 312, 116], [10, 10, 400, 180]])
    feats = region_features(loaded.model, scene(), boxes, loaded.image_size, loaded.mean, loaded.std,
                            resize=loaded.region_resize)
    assert feats.shape == (4, 1024)
    # a box inside the uniform part equals the same box shifted within it (the RoI path is
    # translation-equivariant on the C4 map); boxes on other content differ
    shifted, other, whole = distance(feats[1], feats[2]), distance(feats[0], feats[1]), distance(feats[3], feats[1])
    print(f"shifted {shifted:.2e}, other content {other:.2e}, whole image {whole:.2e}")
    assert shifted < 1e-5 and min(other, whole) > 1e-2


def test_scoring_takes_one_encoder_forward_per_image(loaded):
    scorer = ClipScorer([loaded], methods=("region",))
    image = scene()
    few = scorer.score(image, [[20, 50, 80, 140], [150, 60, 190, 100]], ["a photo", "grey wall"])
    assert few.shape == (2, 2) and scorer.stats.image_forwards == 1
    scorer.reset_stats()
    many = [[x, y, x + 40, y + 40] for x in range(0, 240, 60) for y in range(0, 150, 50)]
    assert scorer.score(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT), many, ["a cat"]).shape == (1, 12)
    assert (scorer.stats.image_forwards, scorer.stats.images_encoded) == (1, 12)


def test_in_an_ensemble_with_other_methods(loaded):
    image, boxes, texts = scene(), [[20, 50, 80, 140], [224, 76, 264, 116]], ["a grey wall"]
    both = ClipScorer([loaded], methods=("crop", "region")).score(image, boxes, texts)
    parts = (ClipScorer([loaded], methods=("crop",)).score(image, boxes, texts)
             + ClipScorer([loaded], methods=("region",)).score(image, boxes, texts))
    np.testing.assert_allclose(both, parts, rtol=1e-5, atol=1e-4)


def test_spec_errors(checkpoint):
    with pytest.raises(ModelLoadError, match="unknown RegionCLIP architecture 'regionclip-RN101'"):
        load_model(f"regionclip-RN101:{checkpoint[0]}", "cpu")
    with pytest.raises(ModelLoadError, match="loads from its checkpoint file"):
        load_model("regionclip-RN50", "cpu")
