"""``reclip locate IMAGE -e EXPR -e EXPR`` and ``--expressions FILE``: many expressions, one
model load, one scoring pass, results in order."""

from __future__ import annotations

import json

import pytest

from reclip import Locator, cli
from reclip.cli import locate as cli_locate
from report_scene import LabelScorer, make_scene


class CountingScorer(LabelScorer):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def score(self, image, proposals, texts):
        self.calls += 1
        return super().score(image, proposals, texts)


@pytest.fixture
def scene(tmp_path, monkeypatch):
    img, proposals = make_scene()
    img.save(tmp_path / "scene.png")
    (tmp_path / "p.json").write_text(json.dumps([{"box": list(p.box), "label": p.label} for p in proposals]))
    scorer, loads = CountingScorer(), []
    monkeypatch.setattr(cli_locate, "load_locator", lambda args: loads.append(1) or Locator(scorer))
    monkeypatch.chdir(tmp_path)
    return tmp_path, scorer, loads


def expected(expressions):
    img, proposals = make_scene()
    return [r.index for r in Locator(LabelScorer()).locate_many(img, expressions, proposals)]


def test_each_e_gives_one_json_line_in_order_from_one_scoring_pass(scene, capsys):
    _, scorer, loads = scene
    exprs = ["the red cup left of the plate", "the rightmost cup", "the plate"]
    argv = ["locate", "scene.png", "-e", exprs[0], "-e", exprs[1], "-e", exprs[2], "--proposals", "p.json", "--json"]
    assert cli.main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["expression"] for r in rows] == exprs
    assert [r["index"] for r in rows] == expected(exprs)
    assert loads == [1] and scorer.calls == 1


@pytest.mark.parametrize("name, text", [
    ("e.txt", "the rightmost cup\n\nthe plate\n"),
    ("e.jsonl", '{"expression": "the rightmost cup", "id": 1}\n{"expression": "the plate"}\n'),
])
def test_an_expressions_file_after_the_positional_expression(scene, capsys, name, text):
    folder, scorer, _ = scene
    (folder / name).write_text(text)
    argv = ["locate", "scene.png", "the red cup", "--expressions", name, "--proposals", "p.json",
            "--draw", "d.png"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    exprs = ["the red cup", "the rightmost cup", "the plate"]
    blocks = out.split("expression ")[1:]
    for k, (e, index) in enumerate(zip(exprs, expected(exprs))):
        assert blocks[k].startswith(f"{k + 1}: {e}\n") and f"answer:  #{index} " in blocks[k]
        assert (folder / f"d-{k}.png").is_file()
    assert scorer.calls == 1


def test_one_expression_keeps_its_old_output(scene, capsys):
    assert cli.main(["locate", "scene.png", "the plate", "--proposals", "p.json", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "expression" not in out and out["index"] == expected(["the plate"])[0]
