"""README's "Adding a proposal source" block, run as written: registering the factory and its
facts is the whole act — --proposals takes it, its declared option is checked, the help lists it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from PIL import Image

from reclip.cli.main import main
from reclip.proposals import PROPOSAL_SOURCES, facts_of, spec_usage

ROOT = Path(__file__).resolve().parents[3]


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Adding a proposal source"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_source_is_registered_with_its_facts_and_runs(tmp_path, monkeypatch, capsys):
    exec(compile(readme_block(), "README.md", "exec"), {})     # registers "strips"
    assert "masks" not in facts_of(PROPOSAL_SOURCES.get("strips")).gives
    assert "strips[:N]" in spec_usage()
    Image.new("RGB", (200, 100), "white").save(tmp_path / "scene.png")
    monkeypatch.chdir(tmp_path)
    argv = ["locate", "scene.png", "the left strip", "--proposals", "strips:4?overlap=0.1", "--json"]
    assert main(argv) == 0
    answer = json.loads(capsys.readouterr().out)
    strips = ([0, 0, 55, 100], [45, 0, 105, 100], [95, 0, 155, 100], [145, 0, 200, 100])   # 4 strips, 10% overlap
    assert any(answer["box"] == pytest.approx(strip) for strip in strips)
    assert main(["locate", "scene.png", "x", "--proposals", "strips:4?overlap=2"]) == 2
    assert "option 'overlap' must be a number from 0 to 1, got 2" in capsys.readouterr().err
