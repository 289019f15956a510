"""The shipped synthetic checkpoint and the offline demo."""

from __future__ import annotations

import argparse

import pytest
import torch

from grammar import parse_program
from reclip.cli import synthetic as cli_synthetic
from reclip.synthetic import demo
from reclip.clip import SYNTHETIC_PATH, load_model

MAX_CHECKPOINT_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def locator():
    from reclip.locator import Locator

    return Locator.from_pretrained("synthetic", methods=("crop", "blur"), device="cpu")


@pytest.fixture(scope="module")
def scene():
    return demo.demo_scene()


def test_shipped_checkpoint_is_small_and_loads_like_real_weights():
    assert SYNTHETIC_PATH.is_file()
    assert SYNTHETIC_PATH.stat().st_size <= MAX_CHECKPOINT_BYTES
    ckpt = torch.load(SYNTHETIC_PATH, map_location="cpu", weights_only=True)
    assert ckpt["format"] == "reclip-clip-v1"
    assert ckpt["model_cfg"]["text_cfg"]["vocab_size"] == 49408      # CLIP's own tokenizer
    model = load_model("synthetic", device="cpu")
    assert model.image_size == ckpt["image_size"]
    assert model.family == "vit"


def test_shipped_checkpoint_picks_the_right_object_with_hand_written_programs(locator, scene):
    image, proposals, expressions = scene
    for item in expressions:
        result = locator.run(parse_program(item["program"]), image, proposals)
        assert result.index == item["gold"], (item["expression"], item["program"])


def test_clip_alone_recognises_attributes(locator, scene):
    """The model has learned colours and shapes: each unique attribute phrase finds its object."""
    image, proposals, _ = scene
    labels = [p.label.split(maxsplit=1)[1] for p in proposals]   # "red circle"
    for i, label in enumerate(labels):
        if labels.count(label) == 1:
            result = locator.run(f'find("{label}")', image, proposals)
            assert result.index == i, label


def test_demo_prints_programs_and_writes_pngs(tmp_path):
    lines: list[str] = []
    right = demo.run_demo(tmp_path, print_fn=lines.append)
    _, _, expressions = demo.demo_scene()
    text = "\n".join(lines)
    for k, item in enumerate(expressions, 1):
        assert item["expression"] in text
        assert (tmp_path / f"demo-{k}.png").is_file()
    assert text.count("program: ") == len(expressions)
    assert text.count("chosen:  #") == len(expressions)
    assert right >= len(expressions) - 1


def test_demo_command_is_registered(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_synthetic.register(parser.add_subparsers())
    args = parser.parse_args(["demo", "--out", str(tmp_path)])
    assert args.func(args) == 0
    assert "correct in" in capsys.readouterr().out
