"""Isolation methods, pixel for pixel (reclip/isolation/images.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from interpreter import Proposal
from reclip.clip.pixels import to_square
from reclip.isolation import ISOLATION, PIXELS, IsolationError, check_methods, isolate, isolate_many
from reclip.isolation.images import BLUR_RADIUS, GREY, SHADE_ALPHA, SHADE_COLOUR
from reclip.masks import MaskError

MASK_PIXEL_METHODS = sorted(n for n, m in ISOLATION.all().items() if m.needs_mask and m.family == PIXELS)
from primitives import ReclipError

H, W = 60, 80


@pytest.fixture(scope="module")
def image() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def blurred(image) -> np.ndarray:
    return np.asarray(image.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)))


def masked_proposal() -> Proposal:
    mask = np.zeros((H, W), bool)
    mask[12:30, 20:35] = True
    mask[12:15, 20:23] = False  # not a rectangle: the mask, not the box, decides
    return Proposal([20, 12, 35, 30], mask=mask)


def test_crop_is_pils_tight_crop_with_float_rounding(image):
    out = isolate(image, Proposal([10.4, 5.6, 30.5, 40.2]), "crop")
    # PIL rounds crop coordinates half-to-even: 10.4->10, 5.6->6, 30.5->30, 40.2->40
    assert out.size == (20, 34)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(image)[6:40, 10:30])


def test_crop_clamps_to_the_image_and_never_pads(image):
    out = isolate(image, Proposal([-5, -3, 90, 70]), "crop")
    np.testing.assert_array_equal(np.asarray(out), np.asarray(image))


def test_crop_of_a_sub_pixel_box_is_one_pixel(image):
    assert isolate(image, Proposal([1.2, 1.2, 1.4, 1.3]), "crop").size == (1, 1)


def test_blur_keeps_box_sharp_corners_inclusive_and_blurs_the_rest(image, blurred):
    out = np.asarray(isolate(image, Proposal([10.7, 5.2, 30.9, 40.0]), "blur"))
    assert out.shape == (H, W, 3)
    inside = np.zeros((H, W), bool)
    inside[5:41, 10:31] = True  # ImageDraw truncates and includes both corners
    np.testing.assert_array_equal(out[inside], np.asarray(image)[inside])
    np.testing.assert_array_equal(out[~inside], blurred[~inside])
    assert not np.array_equal(blurred[~inside], np.asarray(image)[~inside])


def test_shade_tints_the_box_only(image):
    out = np.asarray(isolate(image, Proposal([10, 10, 20, 25]), "shade")).astype(int)
    src = np.asarray(image).astype(int)
    inside = np.zeros((H, W), bool)
    inside[10:26, 10:21] = True
    np.testing.assert_array_equal(out[~inside], src[~inside])
    a = SHADE_ALPHA / 255.0
    want = np.asarray(SHADE_COLOUR) * a + src[inside] * (1 - a)
    assert np.abs(out[inside] - want).max() <= 1


def test_circle_draws_a_red_ellipse_inside_the_box(image):
    out = np.asarray(isolate(image, Proposal([10, 10, 50, 40]), "circle"))
    src = np.asarray(image)
    changed = np.any(out != src, axis=-1)
    ys, xs = np.nonzero(changed)
    assert xs.min() == 10 and xs.max() == 50 and ys.min() == 10 and ys.max() == 40
    assert np.all(out[changed] == (255, 0, 0))
    assert not changed[25, 30]          # the centre is untouched: an outline, not a disc
    assert changed[25, 10] and changed[25, 11]  # 2 px wide at the left extreme


def test_mask_grey_fills_outside_the_mask(image):
    p = masked_proposal()
    out = np.asarray(isolate(image, p, "mask_grey"))
    np.testing.assert_array_equal(out[p.mask], np.asarray(image)[p.mask])
    assert np.all(out[~p.mask] == GREY)


def test_mask_blur_blurs_outside_the_mask(image, blurred):
    p = masked_proposal()
    out = np.asarray(isolate(image, p, "mask_blur"))
    np.testing.assert_array_equal(out[p.mask], np.asarray(image)[p.mask])
    np.testing.assert_array_equal(out[~p.mask], blurred[~p.mask])


def test_isolate_many_matches_isolate(image):
    props = [Proposal([0, 0, 20, 20]), Proposal([30.5, 10, 70, 55.5])]
    for method in ("crop", "blur", "shade", "circle"):
        many = isolate_many(image, props, method)
        for p, got in zip(props, many):
            np.testing.assert_array_equal(np.asarray(got), np.asarray(isolate(image, p, method)))


@pytest.mark.parametrize("method", MASK_PIXEL_METHODS)
def test_mask_methods_need_masks(image, method):
    with pytest.raises(IsolationError, match="needs proposal masks"):
        isolate(image, Proposal([0, 0, 10, 10]), method)


def test_mask_of_the_wrong_size_is_a_clear_error(image):
    with pytest.raises(MaskError, match=r"mask has shape \(10, 10\)"):
        isolate(image, Proposal([0, 0, 5, 5], mask=np.ones((10, 10), bool)), "mask_grey")


def test_box_outside_the_image_is_a_clear_error(image):
    with pytest.raises(IsolationError, match="outside the 80x60 image"):
        isolate(image, Proposal([100, 100, 120, 120]), "crop")


def test_unknown_method_names_the_known_ones():
    with pytest.raises(ReclipError, match="unknown isolation method 'blurr'.*crop, blur"):
        check_methods("crop,blurr")
    assert check_methods("crop, blur") == ("crop", "blur")


def test_to_square_is_bicubic_and_ignores_aspect(image):
    out = to_square(image.crop((0, 0, 40, 10)), 32)
    assert out.size == (32, 32) and out.mode == "RGB"
    want = image.crop((0, 0, 40, 10)).resize((32, 32), Image.BICUBIC)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(want))


def test_isolation_accepts_non_rgb_images(image):
    out = isolate(image.convert("RGBA"), Proposal([0, 0, 10, 10]), "blur")
    assert out.mode == "RGB"
