"""Isolating on the device (``ClipScorer(isolate="device")``): the same isolated pixels as the CPU
path, a resize that differs only slightly, and the option refused where it cannot run."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from interpreter import as_proposals
from primitives import ReclipError
from reclip.clip.pixels import square_uint8
from reclip.isolation import isolate_many
from reclip.scoring import ClipScorer
from reclip.scoring.device_isolation import device_squares
from reclip.synthetic.expressions import generate

BOXES = [(3.7, 5.2, 40.5, 33.9), (0, 0, 64, 64), (20, 10, 21, 11), (50.9, 40.1, 64, 63.5)]


def picture(size: int = 64) -> Image.Image:
    rng = np.random.default_rng(3)
    return Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8))


def test_blur_pastes_the_same_pixels_as_the_cpu_path():
    image = picture()        # square, resized to its own size: the resize is the identity
    cpu = square_uint8(isolate_many(image, as_proposals(BOXES), "blur"), 64)
    dev = device_squares(image, as_proposals(BOXES), "blur", 64, "cpu")
    assert dev.dtype == cpu.dtype and dev.shape == cpu.shape
    assert np.array_equal(dev.numpy(), cpu.numpy())


def test_crops_differ_from_pils_resize_by_rounding_only():
    image = picture(96)
    cpu = square_uint8(isolate_many(image, as_proposals(BOXES), "crop"), 32).float()
    dev = device_squares(image, as_proposals(BOXES), "crop", 32, "cpu").float()
    assert dev.shape == cpu.shape == (4, 3, 32, 32)
    assert (dev - cpu).abs().mean() < 1.0           # of 255: the same crops, a near-equal resize
    assert (dev[1] - cpu[1]).abs().max() <= 2         # the whole image


def test_device_isolation_keeps_the_choice_and_the_logits_near():
    cpu = ClipScorer.from_pretrained("synthetic", ("crop", "blur"))
    dev = ClipScorer(cpu.models, ("crop", "blur"), isolate="device")
    for _, scene, _ in generate(0, 4):     # the scenes the shipped model knows, their objects
        boxes = [o.box for o in scene.objects]
        texts = sorted({f"{o.colour} {o.shape}" for o in scene.objects})
        x, y = cpu.score(scene.image, boxes, texts), dev.score(scene.image, boxes, texts)
        spread = x.max(1) - x.min(1)
        assert (np.abs(x - y).max(1) <= 0.01 * spread).all()     # within 1% of each text's spread
        assert (x.argmax(1) == y.argmax(1)).all()
        assert not np.array_equal(x, y)                           # not the CPU path in disguise
    assert dev.prepare(scene.image, boxes).squares == {}         # nothing made ahead: the device isolates


def test_device_isolation_is_refused_for_methods_it_cannot_run():
    cpu = ClipScorer.from_pretrained("synthetic", ("crop",))
    with pytest.raises(ReclipError, match="supports crop, blur only; got circle"):
        ClipScorer(cpu.models, ("crop", "circle"), isolate="device")
    with pytest.raises(ReclipError, match="isolate must be one of cpu, device; got 'gpu'"):
        ClipScorer(cpu.models, ("crop",), isolate="gpu")
