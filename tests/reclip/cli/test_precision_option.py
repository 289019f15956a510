"""``--precision`` on the commands that take ``--device``: it reaches the CLIP models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reclip import cli
from reclip.cli import locate as cli_locate
from reclip.cli.main import build_parser
from reclip.cli.formats import config_from_args
from reclip.datasets import FORMATS

DEMO = Path(__file__).resolve().parents[3] / "reclip" / "assets" / "demo"


def test_locate_runs_the_model_in_the_precision_asked(monkeypatch, capsys):
    built = []

    def load(args):
        locator = real(args)
        built.append(locator.scorer.models[0].precision)
        return locator

    real = cli_locate.load_locator
    monkeypatch.setattr(cli_locate, "load_locator", load)
    code = cli.main(["locate", str(DEMO / "scene.png"), "the red ball", "--proposals",
                     str(DEMO / "proposals.json"), "--device", "cpu", "--precision", "bf16", "--json"])
    assert code == 0 and built == ["bf16"]
    assert json.loads(capsys.readouterr().out)["index"] == 5


def test_an_unknown_precision_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["locate", str(DEMO / "scene.png"), "x", "--precision", "fp8"])
    assert exc.value.code == 2 and "invalid choice: 'fp8'" in capsys.readouterr().err


def test_eval_records_the_precision(tmp_path):
    args = build_parser("eval").parse_args(["eval", "reclip", str(tmp_path / "x.jsonl"), "--images", str(tmp_path),
                              "--proposals", "gt", "--out", str(tmp_path / "o"), "--precision", "fp16"])
    config = config_from_args(args, "reclip", FORMATS.get("reclip"))
    assert config.precision == "fp16" and config.to_dict()["precision"] == "fp16"
