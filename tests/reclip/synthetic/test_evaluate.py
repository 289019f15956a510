"""Evaluation on the synthetic benchmark: per-kind table, resume, bad records, gallery."""

from __future__ import annotations

import argparse
import json

import pytest

from grammar import parse_program
from reclip.cli import evaluation as cli_evaluation
from reclip.synthetic import dataset as synth
from reclip.synthetic.evaluate import Tally, evaluate_synthetic
from reclip.synthetic.oracle import GoldAttributeScorer


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    synth.write_dataset(root, scenes=3, seed=21)
    return root


def gold_compiler(dataset_dir):
    """The gold programs as a 'compiler', so the test does not depend on the real one."""
    programs = {r["expression"]: parse_program(r["program"]) for r in synth.read_records(dataset_dir)}
    return programs.__getitem__


def test_gold_programs_with_gold_attributes_score_everything(dataset, tmp_path):
    tally = evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=gold_compiler(dataset),
                               out=tmp_path, progress=False, log=lambda s: None)
    n = len(synth.read_records(dataset))
    assert sum(tally.total.values()) == n
    assert tally.accuracy("full") == 1.0 and tally.accuracy("oracle") == 1.0
    table = (tmp_path / "table.md").read_text()
    assert table.splitlines()[0].startswith("| kind | n | chance | chance among look-alikes | CLIP alone |")
    for kind in tally.kinds():
        assert f"| {kind} |" in table
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert len(rows) == n and all(r["full_correct"] for r in rows)


def test_resume_skips_records_already_done(dataset, tmp_path):
    compile_fn = gold_compiler(dataset)
    evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=compile_fn, out=tmp_path,
                       limit=5, progress=False, log=lambda s: None)
    calls = []

    class Counting(GoldAttributeScorer):
        def score(self, image, proposals, texts):
            calls.append(1)
            return super().score(image, proposals, texts)

    messages = []
    tally = evaluate_synthetic(dataset, scorer=Counting(), compile_fn=compile_fn, out=tmp_path,
                               progress=False, log=messages.append)
    n = len(synth.read_records(dataset))
    assert sum(tally.total.values()) == n
    assert len(calls) == 2 * (n - 5)          # CLIP alone and full; none for the 5 done
    assert any("resuming: 5 of" in m for m in messages)
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    assert len(lines) == n


def test_a_bad_record_is_skipped_and_recorded(dataset, tmp_path):
    records = [json.loads(line) for line in (dataset / "expressions.jsonl").read_text().splitlines()]
    records[1]["image"] = "images/missing.png"
    records[2]["gold"] = 99
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "images").symlink_to(dataset / "images")
    (bad / "expressions.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    messages = []
    tally = evaluate_synthetic(bad, scorer=GoldAttributeScorer(), compile_fn=gold_compiler(dataset),
                               out=tmp_path / "out", progress=False, log=messages.append)
    assert tally.errors == 2
    assert sum(tally.total.values()) == len(records) - 2
    rows = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    errors = {r["id"]: r["error"] for r in rows if "error" in r}
    assert "image file not found" in errors[records[1]["id"]]
    assert "gold index 99" in errors[records[2]["id"]]
    assert any("2 record(s) could not be evaluated" in m for m in messages)


def test_compile_errors_count_as_full_system_failures(dataset, tmp_path):
    from grammar import CompileError

    def failing(text):
        raise CompileError(f"cannot compile {text!r}")

    tally = evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=failing, out=None,
                               progress=False, log=lambda s: None)
    assert tally.errors == 0 and tally.accuracy("full") == 0.0


def test_failure_gallery_is_written(dataset, tmp_path):
    wrong = lambda text: parse_program('find("nothing at all")')  # noqa: E731
    messages = []
    evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=wrong, out=None,
                       gallery=tmp_path / "gallery", progress=False, log=messages.append, limit=4)
    assert (tmp_path / "gallery" / "index.html").is_file()
    assert any("failure gallery" in m for m in messages)


def test_markdown_table_reports_each_kind():
    t = Tally()
    for kind, ok, alike in [("relation", True, 2), ("relation", False, 2), ("attribute", True, 1)]:
        t.add({"kind": kind, "proposals": 4, "lookalikes": alike, "clip_correct": False,
               "full_correct": ok, "oracle_correct": True})
    md = t.markdown()
    assert "| attribute | 1 | 25.0% | 100.0% | 0.0% | 100.0% | 100.0% |" in md
    assert "| relation | 2 | 25.0% | 50.0% | 0.0% | 50.0% | 100.0% |" in md
    assert "**66.7%**" in md


def test_eval_command_prints_the_table_with_the_shipped_model(dataset, tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_evaluation.register(parser.add_subparsers())
    args = parser.parse_args(["eval", "synthetic", str(dataset), "--limit", "6", "--out", str(tmp_path),
                              "--no-progress"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "| kind | n | chance | chance among look-alikes | CLIP alone | full system |" in out
    assert "| **all** | 6 |" in out
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 6
    # run again: everything is resumed, nothing re-evaluated, same table
    assert args.func(args) == 0
    assert "| **all** | 6 |" in capsys.readouterr().out
    assert len((tmp_path / "results.jsonl").read_text().splitlines()) == 6


def test_eval_command_rejects_unknown_dataset(capsys):
    parser = argparse.ArgumentParser()
    cli_evaluation.register(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "refcoco", "somewhere"])
    assert "invalid choice" in capsys.readouterr().err
