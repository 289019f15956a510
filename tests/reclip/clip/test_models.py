"""Model specs, checkpoints and the missing-weights error (reclip/clip/)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from primitives import ReclipError
from reclip.clip import (
    CHECKPOINT_FORMAT, SYNTHETIC_PATH, ModelLoadError, load_model, load_models, model_from_config,
    parse_spec, save_checkpoint, wrap_model,
)

TINY_VIT_CFG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 2, "width": 64, "patch_size": 8, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
}


@pytest.fixture(autouse=True)
def no_hub(monkeypatch, tmp_path):
    """No test may reach a model hub, nor find weights a developer happens to have cached."""
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return model_from_config(TINY_VIT_CFG)


def test_parse_spec_forms(tmp_path):
    f = tmp_path / "w.pt"
    f.write_bytes(b"x")
    for text in ("ViT-B-32:openai", " ViT-B/32:openai ", "ViT-B/32"):
        s = parse_spec(text)
        assert (s.arch, s.path) == ("ViT-B-32", None)
    s = parse_spec("RN50x16:openai")
    assert (s.arch, s.tag, s.path) == ("RN50x16", "openai", None)
    s = parse_spec(f"ViT-B-32:{f}")
    assert (s.arch, s.tag, s.path) == ("ViT-B-32", None, f)
    s = parse_spec(str(f))
    assert (s.arch, s.path) == (None, f)
    assert parse_spec("synthetic").path == SYNTHETIC_PATH


def test_missing_weights_is_one_clear_error():
    with pytest.raises(ModelLoadError) as info:
        load_model("ViT-B-32:openai", "cpu")
    msg = str(info.value)
    assert isinstance(info.value, ReclipError)
    for part in ("'ViT-B-32'", "'openai'", "not available offline", "hf",
                 "timm/vit_base_patch32_clip_224.openai", "--model ViT-B-32:/path/to/weights.pt"):
        assert part in msg, part
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_unreachable_hub_fails_fast_without_trying_to_download(monkeypatch):
    import open_clip

    import reclip.clip.weights as models

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(models, "_reachable", lambda host, *a, **k: False)

    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(open_clip, "download_pretrained", no_download)
    with pytest.raises(ModelLoadError, match="cannot reach huggingface.co"):
        load_model("ViT-B-32:openai", "cpu")


def test_default_ensemble_names_its_first_missing_model():
    with pytest.raises(ModelLoadError, match="'RN50x16' with pretrained tag 'openai'"):
        load_models(None, "cpu")


@pytest.mark.parametrize("spec, message", [
    ("ViT-B-32:nope", "unknown pretrained tag 'nope' for 'ViT-B-32'; known tags: openai"),
    ("ViTB32:openai", "unknown open_clip architecture 'ViTB32'; did you mean ViT-B-32"),
    ("/no/such/file.pt", "weights file not found: /no/such/file.pt"),
    ("ViT-B-32:", "nothing after ':'"),
    ("", "non-empty string"),
])
def test_bad_specs(spec, message):
    with pytest.raises(ModelLoadError, match=message):
        load_model(spec, "cpu")


def test_synthetic_checkpoint_missing_or_loadable():
    if SYNTHETIC_PATH.is_file():
        assert load_model("synthetic", "cpu").image_size > 0
    else:
        with pytest.raises(ModelLoadError, match="synthetic checkpoint is missing"):
            load_model("synthetic", "cpu")


def test_checkpoint_round_trip(tiny, tmp_path):
    path = save_checkpoint(tiny, TINY_VIT_CFG, tmp_path / "tiny.pt", model_name="tiny-vit",
                           mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25))
    raw = torch.load(path, weights_only=True)
    assert raw["format"] == CHECKPOINT_FORMAT and raw["image_size"] == 32
    for spec in (str(path), f"ViT-B-32:{path}"):   # the checkpoint's own config wins
        loaded = load_model(spec, "cpu")
        assert loaded.image_size == 32
        assert loaded.mean == (0.5, 0.5, 0.5) and loaded.std == (0.25, 0.25, 0.25)
        assert loaded.family == "vit"
        for k, v in tiny.state_dict().items():
            assert torch.equal(loaded.model.state_dict()[k], v), k
    tokens = loaded.tokenizer(["a photo of a cat"])
    assert tokens.shape == (1, 77)


def test_a_state_dict_needs_an_architecture(tiny, tmp_path):
    path = tmp_path / "plain.bin"
    torch.save(tiny.state_dict(), path)
    with pytest.raises(ModelLoadError, match="not a reclip checkpoint.*ViT-B-32:"):
        load_model(str(path), "cpu")


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(ModelLoadError, match="cannot read weights file"):
        load_model(str(path), "cpu")


def test_wrap_model_defaults(tiny):
    m = wrap_model(tiny, "tiny", device="cpu")
    assert m.image_size == 32 and m.device.type == "cpu" and m.dtype == torch.float32
    assert not any(p.requires_grad for p in m.model.parameters())
    assert np.allclose(m.mean, (0.48145466, 0.4578275, 0.40821073))


@pytest.mark.filterwarnings("ignore::FutureWarning")   # torch.jit.script's deprecation
def test_torchscript_archives_are_refused_clearly(tmp_path):
    path = tmp_path / "ViT-B-32.pt"
    torch.jit.script(torch.nn.Linear(2, 2)).save(str(path))
    with pytest.raises(ModelLoadError, match="TorchScript archive.*open_clip_pytorch_model.bin"):
        load_model(f"ViT-B-32:{path}", "cpu")


def test_open_clip_state_dict_with_a_named_architecture(tiny, tmp_path):
    """'NAME:/path' loads an open_clip state dict into a registered architecture."""
    import json

    import open_clip

    cfg_path = tmp_path / "reclip-test-tiny.json"
    cfg_path.write_text(json.dumps(TINY_VIT_CFG))
    open_clip.add_model_config(cfg_path)
    weights = tmp_path / "weights.bin"
    torch.save(tiny.state_dict(), weights)
    loaded = load_model(f"reclip-test-tiny:{weights}", "cpu")
    assert loaded.image_size == 32 and loaded.name == f"reclip-test-tiny:{weights}"
    for k, v in tiny.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[k], v), k
    wrong = tmp_path / "wrong.bin"
    torch.save({"visual.proj": torch.zeros(3)}, wrong)
    with pytest.raises(ModelLoadError, match="does not load into open_clip architecture 'reclip-test-tiny'"):
        load_model(f"reclip-test-tiny:{wrong}", "cpu")
