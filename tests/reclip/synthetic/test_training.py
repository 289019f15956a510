"""Training the synthetic CLIP: batches, a few steps that reduce the loss, the checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from reclip.clip.text import PROMPT_PREFIX
from reclip.synthetic import training as tr

TINY_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="module")
def tiny_data():
    return tr.build_training_set(seed=4, scenes=6, image_size=32)


def test_training_set_holds_crop_and_blur_of_every_object(tiny_data):
    assert tiny_data.pixels.dtype == torch.uint8
    assert tuple(tiny_data.pixels.shape[1:]) == (3, 32, 32)
    assert len(tiny_data.pixels) == 2 * len(tiny_data.objects)
    assert all(len(o.images) == 2 for o in tiny_data.objects)
    assert any(o.expressions for o in tiny_data.objects)


def test_batches_have_no_false_negatives(tiny_data):
    """No image in a batch fits another pair's caption (ClipLoss would push them apart)."""
    rng = np.random.default_rng(0)
    row_object = {r: o for o in tiny_data.objects for r in o.images}
    for _ in range(20):
        rows, texts = tr.draw_batch(tiny_data, rng, 16)
        assert len(rows) == len(texts) >= 2
        codes = [tr.caption_code(t[len(PROMPT_PREFIX):]) for t in texts]
        for i, r in enumerate(rows):
            assert tr.fits(codes[i], row_object[r].code)
            for j, c in enumerate(codes):
                if j != i:
                    assert not tr.fits(c, row_object[r].code), (texts[j], row_object[r].code)


def test_captions_name_attributes_like_compiled_finds():
    assert tr.caption_code("red circle") == (tr.ANY, 0, 0)
    assert tr.caption_code("the small blue star left of the red circle") == (0, 2, 3)
    phrases = tr.caption_phrases("small", "red", "circle")
    assert {"small red circle", "red circle", "circle", "red"} <= set(phrases)


def test_a_few_steps_reduce_the_loss(tiny_data):
    rng = np.random.default_rng(1)
    held = [tr.draw_batch(tiny_data, rng, 12) for _ in range(4)]

    def held_loss(model):
        with torch.no_grad():
            return float(np.mean([tr.batch_loss(model, tiny_data, r, t).item() for r, t in held]))

    before = held_loss(tr.build_model(TINY_CFG, seed=3))
    cfg = tr.TrainConfig(seed=3, steps=60, batch=12, lr=3e-3, warmup=5)
    model, losses = tr.train(cfg, model_cfg=TINY_CFG, data=tiny_data, log=lambda s: None)
    assert len(losses) == 60
    assert held_loss(model) < before - 0.2
    assert np.mean(losses[-10:]) < np.mean(losses[:10])


def test_training_is_reproducible_from_the_seed(tiny_data):
    cfg = tr.TrainConfig(seed=5, steps=3, batch=8, warmup=1)
    _, a = tr.train(cfg, model_cfg=TINY_CFG, data=tiny_data, log=lambda s: None)
    _, b = tr.train(cfg, model_cfg=TINY_CFG, data=tiny_data, log=lambda s: None)
    assert a == b


def test_half_checkpoint_loads_through_load_model(tmp_path, tiny_data):
    from reclip.clip import load_model

    model = tr.build_model(TINY_CFG, seed=0).eval()
    path = tr.save_half_checkpoint(model, tmp_path / "tiny.pt", model_cfg=TINY_CFG)
    loaded = load_model(str(path), device="cpu")
    assert loaded.image_size == 32
    x = tr.normalise(tiny_data.pixels[:4])
    with torch.no_grad():
        want = model.encode_image(x, normalize=True)
        got = loaded.model.encode_image(x, normalize=True)
    assert torch.allclose(want, got, atol=2e-2)


def test_a_short_training_run_gives_identical_tensors_from_one_seed(tmp_path, monkeypatch, capsys):
    """The command line's own path (its data built from the seed, the shipped model's config,
    the half-precision checkpoint): the same seed twice -> every tensor identical; another
    seed -> different weights. The default output is a new path, never the shipped model."""
    from reclip import cli

    def tensors(path):
        return torch.load(path, map_location="cpu", weights_only=True)["state_dict"]

    monkeypatch.chdir(tmp_path)
    shipped_path = Path(tr.__file__).resolve().parents[1] / "assets" / "synthetic.pt"
    shipped = shipped_path.read_bytes()
    short = ["train-synthetic", "--steps", "2", "--scenes", "2", "--batch", "4"]
    assert cli.main([*short, "--seed", "7"]) == 0
    assert cli.main([*short, "--seed", "7", "--out", "again.pt"]) == 0
    assert cli.main([*short, "--seed", "8", "--out", "other.pt"]) == 0
    first = tensors(tmp_path / "out" / "train-synthetic" / "synthetic-seed7.pt")
    again, other = tensors(tmp_path / "again.pt"), tensors(tmp_path / "other.pt")
    assert first.keys() == again.keys() and all(torch.equal(first[k], again[k]) for k in first)
    assert sum(not torch.equal(first[k], other[k]) for k in first) > len(first) // 2
    assert cli.main([*short, "--seed", "7"]) == 2          # the default path exists now: --overwrite
    assert "pass --overwrite" in capsys.readouterr().err
    assert shipped_path.read_bytes() == shipped
