"""Global-Local CLIP and RegionCLIP-style features on tiny random open_clip models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from open_clip.model import CLIP
from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.clip.pixels import mean_colour, square_pixels
from reclip.isolation.global_local import (
    MASKED_BLOCKS, global_features, global_local_features, local_features, local_images,
)
from reclip.isolation.images import masked_crop
from reclip.isolation.region import region_features

MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP's normalisation
STD = (0.26862954, 0.26130258, 0.27577711)
TEXT_CFG = dict(context_length=8, vocab_size=64, width=32, heads=2, layers=1)


@pytest.fixture(scope="module")
def vit() -> CLIP:
    torch.manual_seed(0)
    cfg = dict(layers=4, width=64, head_width=32, patch_size=8, image_size=32)
    return CLIP(embed_dim=32, vision_cfg=cfg, text_cfg=TEXT_CFG).eval()


@pytest.fixture(scope="module")
def resnet() -> CLIP:
    torch.manual_seed(0)
    model = CLIP(embed_dim=32, vision_cfg=dict(layers=[1, 1, 1, 1], width=16, image_size=64),
                 text_cfg=TEXT_CFG).eval()
    # open_clip zero-initialises each block's last BN scale (residual branches start as
    # identity); random BN parameters make every layer matter, as trained weights do
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.visual.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return model


@pytest.fixture(scope="module")
def image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))  # h 40, w 56


def box_mask(h: int, w: int, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def plain_feature(model: CLIP, image: Image.Image, size: int) -> torch.Tensor:
    with torch.inference_mode():
        return model.encode_image(square_pixels([image], size, MEAN, STD))


def cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.cosine_similarity(a, b, dim=-1)


# ------------------------------------------------------------------ Global-Local: global part


def test_all_ones_mask_gives_the_plain_image_feature(vit, image):
    full = Proposal((10, 5, 30, 25), mask=np.ones((40, 56), bool))
    plain = plain_feature(vit, image, 32)
    g = global_features(vit, image, [full, full], 32, MEAN, STD)
    assert g.shape == (2, 32)
    assert torch.allclose(g, plain.expand(2, -1), atol=1e-5, rtol=1e-5)
    # alpha = 1 is the global feature alone: same direction as the plain image feature
    mixed = global_local_features(vit, image, [full], 32, MEAN, STD, alpha=1.0)
    assert cosine(mixed, plain).item() == pytest.approx(1.0, abs=1e-6)


def test_transformer_run_sequence_first_gives_the_same_features(vit, image):
    """open_clip transformers may run LND (batch_first=False); the masking must follow."""
    props = [Proposal((0, 0, 56, 40), mask=np.ones((40, 56), bool)),
             Proposal((0, 0, 28, 40), mask=box_mask(40, 56, (0, 0, 28, 40)))]
    expected = global_features(vit, image, props, 32, MEAN, STD)
    tr = vit.visual.transformer
    try:
        tr.batch_first = False
        for block in tr.resblocks:
            block.attn.batch_first = False
        got = global_features(vit, image, props, 32, MEAN, STD)
        assert torch.allclose(got[0], plain_feature(vit, image, 32)[0], atol=1e-5)
    finally:
        tr.batch_first = True
        for block in tr.resblocks:
            block.attn.batch_first = True
    assert torch.allclose(got, expected, atol=1e-5)


def test_global_feature_depends_on_the_mask(vit, image):
    left = Proposal((0, 0, 28, 40), mask=box_mask(40, 56, (0, 0, 28, 40)))
    right = Proposal((28, 0, 56, 40), mask=box_mask(40, 56, (28, 0, 56, 40)))
    g = global_features(vit, image, [left, right], 32, MEAN, STD)
    assert not torch.allclose(g[0], g[1], atol=1e-3)
    assert cosine(g[0], g[1]).item() < 0.999
    # each proposal's feature is its own: batching does not mix them
    alone = global_features(vit, image, [right], 32, MEAN, STD)
    assert torch.allclose(alone[0], g[1], atol=1e-5)


def test_patch_tokens_are_masked_before_each_of_the_last_blocks_and_cls_is_not(vit, image):
    blocks = vit.visual.transformer.resblocks
    seen: dict[int, torch.Tensor] = {}
    hooks = [b.register_forward_pre_hook(lambda m, args, i=i: seen.__setitem__(i, args[0].clone()))
             for i, b in enumerate(blocks)]
    try:
        plain_feature(vit, image, 32)
        plain_inputs = dict(seen)
        # left half of the image: on the 4x4 token grid, columns 0-1 in, columns 2-3 out
        left = Proposal((0, 0, 28, 40), mask=box_mask(40, 56, (0, 0, 28, 40)))
        global_features(vit, image, [left], 32, MEAN, STD)
    finally:
        for h in hooks:
            h.remove()
    first = len(blocks) - MASKED_BLOCKS
    for i in range(first):  # unmasked blocks see exactly the plain tokens
        assert torch.equal(seen[i], plain_inputs[i])
    x, x_plain = seen[first], plain_inputs[first]
    assert torch.equal(x[:, 0], x_plain[:, 0])  # CLS untouched
    grid_plain = x_plain[:, 1:].reshape(1, 4, 4, -1)
    grid = x[:, 1:].reshape(1, 4, 4, -1)
    assert torch.allclose(grid[:, :, :2], grid_plain[:, :, :2], atol=1e-6)  # inside: kept
    assert torch.all(grid[:, :, 2:].abs() < 1e-6)  # outside: zeroed
    for i in range(first + 1, len(blocks)):  # re-applied before every masked block
        tokens = seen[i][:, 1:].reshape(1, 4, 4, -1)
        assert torch.all(tokens[:, :, 2:].abs() < 1e-6)
        assert seen[i][:, 0].abs().sum() > 0


def test_all_proposals_share_one_pass_up_to_the_masked_blocks(vit, image):
    blocks = vit.visual.transformer.resblocks
    batches: dict[int, list[int]] = {0: [], len(blocks) - 1: []}
    hooks = [blocks[i].register_forward_pre_hook(lambda m, args, i=i: batches[i].append(args[0].shape[0]))
             for i in batches]
    props = [Proposal((0, 0, 20, 20), mask=box_mask(40, 56, (0, 0, 20, 20))) for _ in range(5)]
    try:
        global_features(vit, image, props, 32, MEAN, STD)
    finally:
        for h in hooks:
            h.remove()
    assert batches == {0: [1], len(blocks) - 1: [5]}


# ------------------------------------------------------------------ Global-Local: local part


def test_masked_crop_fills_outside_the_mask_pixel_for_pixel(image):
    mask = np.zeros((40, 56), bool)
    mask[12:30, 15:25] = True
    mask[20, 40] = True  # a mask pixel outside the box is not in the crop
    crop = np.asarray(masked_crop(image, (10.4, 8.6, 33.2, 35.5), mask, (7, 200, 90)))
    assert crop.shape == (27, 23, 3)  # rounded as PIL.Image.crop: x 10..33, y 9..36
    src = np.asarray(image)[9:36, 10:33]
    inside = mask[9:36, 10:33]
    assert np.array_equal(crop[inside], src[inside])
    assert np.all(crop[~inside] == (7, 200, 90))


def test_masked_crop_is_clamped_to_the_image_like_the_plain_crop(image):
    mask = np.ones((40, 56), bool)
    crop = np.asarray(masked_crop(image, (46, 30, 66, 50), mask, 255))
    assert np.array_equal(crop, np.asarray(image)[30:40, 46:56])  # box clamped to 56x40
    sliver = masked_crop(image, (55.8, 10, 56, 20), mask, 255)  # rounds to nothing: 1 px wide
    assert np.array_equal(np.asarray(sliver), np.asarray(image)[10:20, 55:56])
    with pytest.raises(ReclipError, match="outside the 56x40 image"):
        masked_crop(image, (60, 0, 70, 10), mask, 255)


def test_default_fill_is_the_mean_colour_zero_after_normalising(image):
    fill = mean_colour(MEAN)
    assert fill == (123, 117, 104)
    p = Proposal((5, 5, 45, 35), mask=box_mask(40, 56, (15, 10, 30, 25)))
    local = local_images(image, [p], 32, fill)[0]
    assert local.size == (32, 32)
    assert np.all(np.asarray(local)[0, 0] == fill)  # a corner far from the mask
    pixels = square_pixels([local], 32, MEAN, STD)
    assert pixels[0, :, 0, 0].abs().max() < 1 / 255 / min(STD)


def test_global_local_mixes_before_normalising(vit, image):
    props = [Proposal((5, 5, 45, 35), mask=box_mask(40, 56, (15, 10, 30, 25))),
             Proposal((0, 0, 20, 40), mask=box_mask(40, 56, (0, 0, 20, 40)))]
    g = global_features(vit, image, props, 32, MEAN, STD)
    loc = local_features(vit, image, props, 32, MEAN, STD)
    mixed = global_local_features(vit, image, props, 32, MEAN, STD, alpha=0.85)
    assert mixed.shape == (2, 32)
    assert torch.allclose(mixed, 0.85 * g + 0.15 * loc, atol=1e-5)
    # local = the masked crop through the plain image tower
    crop = local_images(image, props[:1], 32, mean_colour(MEAN))[0]
    assert torch.allclose(loc[0], plain_feature(vit, crop, 32)[0], atol=1e-5)


# ------------------------------------------------------------------ RegionCLIP-style


def test_whole_image_box_gives_the_plain_image_feature(resnet):
    rng = np.random.default_rng(1)
    for h, w in ((64, 64), (50, 90)):
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        feats = region_features(resnet, img, np.array([[0, 0, w, h]]), 64, MEAN, STD)
        plain = plain_feature(resnet, img, 64)
        assert feats.shape == (1, 32)
        assert cosine(feats, plain).item() > 0.9999
        assert torch.allclose(feats, plain, atol=1e-4, rtol=1e-4)


def test_region_features_differ_by_box_and_share_one_pass(resnet, image):
    visual = resnet.visual
    calls = {"conv1": [], "layer3": [], "layer4": []}
    hooks = [getattr(visual, name).register_forward_hook(
        lambda m, args, out, name=name: calls[name].append(tuple(out.shape))) for name in calls]
    boxes = np.array([[0, 0, 28, 40], [28, 0, 56, 40], [10, 10, 30, 30], [0, 0, 56, 40],
                      [28, 0, 56, 40]], float)
    try:
        feats = region_features(resnet, image, boxes, 64, MEAN, STD)
    finally:
        for h in hooks:
            h.remove()
    assert feats.shape == (5, 32)
    assert len(calls["conv1"]) == 1 and len(calls["layer3"]) == 1  # one image pass
    assert calls["layer3"][0][-2:] == (4, 4)  # C4: stride 16 on the 64 px square
    assert calls["layer4"] == [(5, 512, 2, 2)]  # all boxes in one batch, attnpool's 2x2 grid
    # a random ResNet's features share a large common direction, so compare distances:
    # different boxes differ by far more than float noise, the same box not at all
    assert torch.equal(feats[1], feats[4])
    distances = torch.cdist(feats[:4], feats[:4])[~torch.eye(4, dtype=bool)]
    assert distances.min().item() > 1e-3 * feats.norm(dim=1).min().item()


def test_region_boxes_are_clamped_to_the_image(resnet, image):
    feats = region_features(resnet, image, np.array([[-10, -5, 80, 60], [0, 0, 56, 40]]), 64, MEAN, STD)
    assert torch.equal(feats[0], feats[1])


def test_a_larger_input_keeps_the_attention_pool_grid(resnet, image):
    """image_size only sets the C4 map's resolution; the RoI grid follows the attention pool."""
    seen = []
    hook = resnet.visual.layer4.register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape)))
    try:
        feats = region_features(resnet, image, np.array([[5, 5, 30, 30], [0, 0, 56, 40]]), 128, MEAN, STD)
    finally:
        hook.remove()
    assert feats.shape == (2, 32) and seen == [(2, 256, 4, 4)]


def test_region_features_follow_the_model_precision(resnet, image):
    wide = CLIP(embed_dim=32, vision_cfg=dict(layers=[1, 1, 1, 1], width=16, image_size=64),
                text_cfg=TEXT_CFG).eval()
    wide.load_state_dict(resnet.state_dict())
    wide.visual.to(torch.float64)
    feats = region_features(wide, image, np.array([[0, 0, 56, 40]]), 64, MEAN, STD)
    assert feats.dtype == torch.float64
    assert torch.allclose(feats.float(), region_features(resnet, image, np.array([[0, 0, 56, 40]]),
                                                         64, MEAN, STD), atol=1e-4)


# ------------------------------------------------------------------ errors


def test_global_local_needs_masks(vit, image):
    props = [Proposal((0, 0, 10, 10), mask=np.ones((40, 56), bool)), Proposal((5, 5, 20, 20))]
    with pytest.raises(ReclipError, match="proposal 1 .*has none"):
        global_local_features(vit, image, props, 32, MEAN, STD)


def test_mask_must_match_the_image(vit, image):
    with pytest.raises(ReclipError, match=r"mask has shape \(10, 10\).*40x56"):
        global_local_features(vit, image, [Proposal((0, 0, 5, 5), mask=np.ones((10, 10)))], 32, MEAN, STD)


def test_wrong_tower_types(vit, resnet, image):
    p = [Proposal((0, 0, 10, 10), mask=np.ones((40, 56), bool))]
    with pytest.raises(ReclipError, match="need a ViT CLIP.*ModifiedResNet"):
        global_local_features(resnet, image, p, 64, MEAN, STD)
    with pytest.raises(ReclipError, match="need a ResNet CLIP.*VisionTransformer"):
        region_features(vit, image, np.array([[0, 0, 10, 10]]), 32, MEAN, STD)


def test_wrong_image_size_and_bad_boxes(vit, resnet, image):
    p = [Proposal((0, 0, 10, 10), mask=np.ones((40, 56), bool))]
    with pytest.raises(ReclipError, match="pass the model's own image size"):
        global_features(vit, image, p, 48, MEAN, STD)
    with pytest.raises(ReclipError, match="reversed"):
        region_features(resnet, image, np.array([[10, 0, 0, 10]]), 64, MEAN, STD)
    with pytest.raises(ReclipError, match="box 1 .*outside the 56x40 image"):
        region_features(resnet, image, np.array([[0, 0, 10, 10], [60, 0, 70, 10]]), 64, MEAN, STD)
    with pytest.raises(ReclipError, match="alpha"):
        global_local_features(vit, image, p, 32, MEAN, STD, alpha=1.5)
