"""ClipScorer on tiny random open_clip models (reclip/scoring/)."""

from __future__ import annotations


import numpy as np
import pytest
import torch
from PIL import Image

from interpreter import FindText, Proposal
from primitives import ReclipError
from reclip import Locator
from reclip.clip.pixels import to_square
from reclip.isolation import ISOLATION, IsolationError, isolate, isolate_many, isolation_method, method_prompt
from reclip.isolation import method_prompt as prompt
from reclip.clip import model_from_config, save_checkpoint, wrap_model
from reclip.scoring import ClipScorer

TEXT_CFG = {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2}
VIT_CFG = {"embed_dim": 32, "text_cfg": TEXT_CFG,
           "vision_cfg": {"image_size": 32, "layers": 3, "width": 64, "patch_size": 8, "head_width": 32}}
# a tiny ModifiedResNet (vision width 8 -> 256-wide attention pool), 64 px input
RN_CFG = {"embed_dim": 32, "text_cfg": TEXT_CFG,
          "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 8, "head_width": 32}}
H, W = 48, 64
BOXES = [[0, 0, 30, 24], [20.5, 10.2, 60.7, 47], [5, 30, 25, 48], [40, 0, 64, 20]]
TEXTS = ["a red cup", "the Man on the left", "dog"]


@pytest.fixture(autouse=True)
def no_hub(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _randomise_batchnorm(model: torch.nn.Module) -> None:
    # open_clip zero-initialises residual BN scales; random ones make every layer matter
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


@pytest.fixture(scope="session")
def vit():
    torch.manual_seed(0)
    return wrap_model(model_from_config(VIT_CFG), "tiny-vit", device="cpu")


@pytest.fixture(scope="session")
def rn():
    torch.manual_seed(1)
    model = model_from_config(RN_CFG)
    _randomise_batchnorm(model.visual)
    return wrap_model(model, "tiny-rn", device="cpu")


@pytest.fixture(scope="module")
def image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))


def masks() -> list[np.ndarray]:
    out = []
    for x0, y0, x1, y1 in BOXES:
        m = np.zeros((H, W), bool)
        m[int(y0):int(y1), int(x0):int(x1)] = True
        m[int(y0), int(x0)] = False
        out.append(m)
    return out


def masked_proposals() -> list[Proposal]:
    return [Proposal(b, mask=m) for b, m in zip(BOXES, masks())]


def manual_logits(m, image, proposals, texts, method) -> np.ndarray:
    """The ReCLIP recipe written out: isolate, square, encode, normalise, scale * cosine."""
    ims = [to_square(isolate(image, p, method), m.image_size) for p in proposals]
    x = torch.stack([torch.from_numpy(np.asarray(i, np.float32) / 255).permute(2, 0, 1) for i in ims])
    x = (x - torch.tensor(m.mean).view(1, 3, 1, 1)) / torch.tensor(m.std).view(1, 3, 1, 1)
    with torch.no_grad():
        img = m.model.encode_image(x)
        txt = m.model.encode_text(m.tokenizer([prompt(t, method) for t in texts]))
    img = img / img.norm(dim=-1, keepdim=True)
    txt = txt / txt.norm(dim=-1, keepdim=True)
    return (m.model.logit_scale.exp() * txt @ img.T).numpy()


def test_logits_follow_reclips_recipe(vit, image):
    props = [Proposal(b) for b in BOXES]
    for method in ("crop", "blur", "shade", "circle"):
        got = ClipScorer([vit], methods=[method]).score(image, props, TEXTS)
        assert got.shape == (3, 4) and got.dtype == np.float32
        np.testing.assert_allclose(got, manual_logits(vit, image, props, TEXTS, method), rtol=1e-4, atol=1e-4)


def test_prompts():
    assert prompt("The Red Cup", "crop") == "a photo of the red cup"
    assert prompt("The Red Cup", "shade") == "the red cup is in red color."


def test_methods_and_models_are_summed(vit, rn, image):
    both = ClipScorer([vit, rn], methods=("crop", "blur")).score(image, BOXES, TEXTS)
    parts = sum(ClipScorer([m], methods=[meth]).score(image, BOXES, TEXTS)
                for m in (vit, rn) for meth in ("crop", "blur"))
    np.testing.assert_allclose(both, parts, rtol=1e-5, atol=1e-4)


def test_cached_equals_uncached_and_encodes_once(vit, image):
    uncached = ClipScorer([vit], methods=("crop", "blur"), cache_size=0, text_cache_size=0)
    cached = ClipScorer([vit], methods=("crop", "blur"))
    first = cached.score(image, BOXES, TEXTS)
    s = cached.stats
    assert (s.image_forwards, s.images_encoded, s.region_misses) == (1, 8, 8)
    np.testing.assert_array_equal(first, uncached.score(image, BOXES, TEXTS))
    # new texts, same image (even a new PIL object with the same pixels): no image encoding
    again = cached.score(image.copy(), BOXES, ["a cat", "dog"])
    assert (s.image_forwards, s.images_encoded, s.region_hits) == (1, 8, 8)
    assert s.text_forwards == 2 and s.texts_encoded == 4        # "dog" came from the cache
    np.testing.assert_array_equal(again[1], first[2])
    # one new box: only its two isolations are encoded, in one forward
    cached.score(image, BOXES + [[1, 1, 9, 9]], ["dog"])
    assert (s.image_forwards, s.images_encoded) == (2, 10)
    assert uncached.stats.image_forwards == 1


def test_region_cache_is_bounded_lru(vit, image):
    sc = ClipScorer([vit], methods=["crop"], cache_size=3)
    sc.score(image, BOXES, ["dog"])
    assert len(sc.region_cache) == 3
    sc.score(image, BOXES[3:], ["dog"])     # the most recent box is still cached
    assert sc.stats.image_forwards == 1
    sc.score(image, BOXES[:1], ["dog"])     # the first one was evicted
    assert sc.stats.image_forwards == 2


def test_a_different_image_is_encoded(vit, image):
    sc = ClipScorer([vit], methods=["crop"])
    sc.score(image, BOXES, ["dog"])
    other = image.transpose(Image.FLIP_LEFT_RIGHT)
    sc.score(other, BOXES, ["dog"])
    assert sc.stats.image_forwards == 2


def test_checkpoint_round_trip_scores_identically(vit, image, tmp_path):
    path = save_checkpoint(vit.model, VIT_CFG, tmp_path / "tiny.pt", model_name="tiny",
                           mean=vit.mean, std=vit.std)
    loaded = ClipScorer.from_pretrained(str(path), methods=("crop", "blur"), device="cpu")
    np.testing.assert_array_equal(loaded.score(image, BOXES, TEXTS),
                                  ClipScorer([vit], methods=("crop", "blur")).score(image, BOXES, TEXTS))


def test_score_subtraction(vit, image):
    bank = ["a cat", "dog", "a tree"]
    plain = ClipScorer([vit], methods=["circle"])
    sub = ClipScorer([vit], methods=["circle"], subtract=bank)
    got = sub.score(image, BOXES, ["dog", "a red cup"])
    b = plain.score(image, BOXES, bank)
    want = plain.score(image, BOXES, ["dog", "a red cup"]) - np.stack([b[[0, 2]].mean(0), b.mean(0)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_mask_methods_need_masks(vit, image):
    sc = ClipScorer([vit], methods=("crop", "mask_grey"))
    with pytest.raises(IsolationError, match="'mask_grey' needs proposal masks, but proposal 0"):
        sc.score(image, BOXES, TEXTS)
    assert sc.score(image, masked_proposals(), TEXTS).shape == (3, 4)


def test_mask_key_separates_masks_with_the_same_box(vit, image):
    sc = ClipScorer([vit], methods=["mask_blur"])
    a = sc.score(image, masked_proposals(), ["dog"])
    full = [Proposal(b, mask=np.ones((H, W), bool)) for b in BOXES]
    b = sc.score(image, full, ["dog"])
    assert sc.stats.image_forwards == 2 and not np.allclose(a, b)


def test_global_local_with_all_ones_masks_and_alpha_1_is_the_whole_image(vit, image):
    full = [Proposal(b, mask=np.ones((H, W), bool)) for b in BOXES]
    sc = ClipScorer([vit], methods=["global_local?alpha=1.0"])
    got = sc.score(image, full, ["dog"])
    whole = manual_logits(vit, image, [Proposal([0, 0, W, H])], ["dog"], "crop")
    np.testing.assert_allclose(got, np.repeat(whole, 4, axis=1), rtol=1e-4, atol=1e-3)
    assert sc.stats.image_forwards == 1


def test_global_local_mixes_the_head_phrase_into_the_text(vit, image):
    sc = ClipScorer([vit], methods=["global_local"], beta=0.5)
    props = masked_proposals()
    with_head = sc.score(image, props, [FindText("man in a red shirt", head="man")])
    sentence = sc.score(image, props, ["man in a red shirt"])
    assert not np.allclose(with_head, sentence)
    # beta = 1 ignores the head
    sc1 = ClipScorer([vit], methods=["global_local"], beta=1.0)
    np.testing.assert_allclose(sc1.score(image, props, [FindText("man in a red shirt", head="man")]),
                               sentence, rtol=1e-5, atol=1e-5)


def test_region_runs_on_resnets_only(vit, rn, image):
    sc = ClipScorer([rn], methods=["region"])
    assert sc.score(image, BOXES, TEXTS).shape == (3, 4)
    assert (sc.stats.image_forwards, sc.stats.images_encoded) == (1, 4)
    with pytest.raises(IsolationError, match="'region' needs a ResNet"):
        ClipScorer([vit], methods=["region"])
    with pytest.raises(IsolationError, match="'global_local' needs a ViT"):
        ClipScorer([rn], methods=["global_local"])
    # in an ensemble each model does the methods it can
    mixed = ClipScorer([vit, rn], methods=("crop", "region")).score(image, BOXES, TEXTS)
    parts = (ClipScorer([vit, rn], methods=["crop"]).score(image, BOXES, TEXTS)
             + ClipScorer([rn], methods=["region"]).score(image, BOXES, TEXTS))
    np.testing.assert_allclose(mixed, parts, rtol=1e-5, atol=1e-4)


def test_a_new_isolation_method_is_one_registered_function(vit, image):
    @isolation_method("crop_again", prompt=lambda text: "a crop of " + text)
    def crop_again(img, proposals):
        return isolate_many(img, proposals, "crop")

    assert "crop_again" in ISOLATION.names()
    new = ClipScorer([vit], methods=["crop_again"]).score(image, BOXES, TEXTS)
    assert new.shape == (len(TEXTS), len(BOXES))
    assert method_prompt("Dog", "crop_again") == "a crop of Dog"


def test_bad_arguments(vit):
    with pytest.raises(ReclipError, match="unknown isolation method 'blurry'"):
        ClipScorer([vit], methods=["blurry"])
    with pytest.raises(ReclipError, match="LoadedModel"):
        ClipScorer([])
    with pytest.raises(ReclipError, match="listed twice"):
        ClipScorer([vit, vit])
    with pytest.raises(ReclipError, match="alpha"):
        ClipScorer([vit], methods=["global_local?alpha=2"])
    with pytest.raises(ReclipError, match=r"'region' has no option 'alpha=0.9' \(its options, with defaults: none\)"):
        ClipScorer([vit], methods=["region?alpha=0.9"])
    with pytest.raises(ReclipError, match=r"no option 'beta=1'.*alpha=0.85"):
        ClipScorer([vit], methods=["global_local?beta=1"])
    with pytest.raises(ReclipError, match="option alpha='high' is not a float"):
        ClipScorer([vit], methods=["global_local?alpha=high"])


def test_locator_runs_programs_on_the_clip_scorer(vit, image):
    sc = ClipScorer([vit])
    res = Locator(sc).run('relate(find("cup"), left_of, find("plate"))', image, BOXES)
    assert 0 <= res.index < 4 and np.isclose(res.scores.sum(), 1.0)
    assert sc.stats.image_forwards == 1     # two finds, one encoding of the crops


def test_trimmed_text_encoding_equals_open_clips(vit):
    from reclip.clip.text import encode_text

    tokens = vit.tokenizer(["a photo of a dog", "a photo of the second man from the left in a red shirt"])
    with torch.no_grad():
        torch.testing.assert_close(encode_text(vit.model, tokens), vit.model.encode_text(tokens),
                                   rtol=1e-5, atol=1e-5)


def test_half_precision_models_give_float32_scores(image):
    """The CUDA path runs fp16 weights; check the dtype plumbing on CPU with a half copy."""
    import open_clip

    torch.manual_seed(0)
    full = wrap_model(model_from_config(VIT_CFG), "fp32", device="cpu")
    torch.manual_seed(0)
    half = wrap_model(model_from_config(VIT_CFG), "fp16", device="cpu")
    open_clip.convert_weights_to_lp(half.model, dtype=torch.float16)
    assert half.dtype == torch.float16
    want = ClipScorer([full], methods=("crop", "blur")).score(image, BOXES, TEXTS)
    got = ClipScorer([half], methods=("crop", "blur")).score(image, BOXES, TEXTS)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=0.05 * np.abs(want).max())


@pytest.mark.parametrize("cache_size", [0, 20_000])
def test_identical_boxes_are_encoded_once_per_method_and_model(vit, rn, image, cache_size):
    """200 copies of one box and two others: three crops per method and model, not 202."""
    boxes = [BOXES[0]] * 200 + BOXES[1:3]
    scorer = ClipScorer([vit, rn], methods=("crop", "blur"), cache_size=cache_size)
    logits = scorer.score(image, boxes, TEXTS)
    assert scorer.stats.images_encoded == 3 * 2 * 2
    assert np.all(logits[:, :200] == logits[:, :1])
    np.testing.assert_allclose(logits[:, [0, 200, 201]],
                               ClipScorer([vit, rn], methods=("crop", "blur")).score(image, BOXES[:3], TEXTS),
                               rtol=1e-5, atol=1e-4)


def test_copies_of_a_box_with_different_masks_are_encoded_apart_when_a_method_reads_masks(vit, image):
    a, b = np.zeros((H, W), bool), np.zeros((H, W), bool)
    a[2:10, 2:10], b[12:20, 5:25] = True, True
    box = [0, 0, 30, 24]
    scorer = ClipScorer([vit], methods=("crop", "mask_blur"))
    assert ISOLATION.get("mask_blur").needs_mask
    scorer.score(image, [Proposal(box, a), Proposal(box, b), Proposal(box, a)], ["dog"])
    assert scorer.stats.images_encoded == 2 * 2
