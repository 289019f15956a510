"""Evaluation on the synthetic benchmark through the one loop: per-kind table, resume, bad records, gallery."""

from __future__ import annotations

import argparse
import json

import pytest

from grammar import parse_program
from reclip.cli import evaluation as cli_evaluation
from reclip.synthetic import dataset as synth
from reclip.synthetic.evaluate import SyntheticTable, evaluate_synthetic
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
    summary = (tmp_path / "summary.md").read_text()
    assert "| kind | n | chance | chance among look-alikes | CLIP alone | full system |" in summary
    for kind in tally.kinds():
        assert f"| {kind} |" in summary
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    assert len(rows) == n and all(r["correct"] and r["oracle_correct"] for r in rows)
    # one row format: the fields of every dataset's rows, and the benchmark's own beside them
    assert {"sent_id", "image_id", "expression", "program", "kind", "index", "box", "iou", "correct",
            "cause", "clip", "clip_correct", "oracle", "oracle_correct", "lookalikes", "proposals"} <= set(rows[0])
    records = {r["id"]: r for r in synth.read_records(dataset)}
    assert all(r["index"] == records[r["sent_id"]]["gold"] == r["ann_id"] for r in rows)


def test_resume_skips_records_already_done(dataset, tmp_path):
    compile_fn = gold_compiler(dataset)
    evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=compile_fn, out=tmp_path,
                       limit=5, progress=False, log=lambda s: None)
    texts = []

    class Counting(GoldAttributeScorer):
        def score(self, image, proposals, texts_):
            texts.extend(texts_)
            return super().score(image, proposals, texts_)

    messages = []
    tally = evaluate_synthetic(dataset, scorer=Counting(), compile_fn=compile_fn, out=tmp_path,
                               progress=False, log=messages.append)
    n = len(synth.read_records(dataset))
    assert sum(tally.total.values()) == n
    done = [r["expression"] for r in synth.read_records(dataset)][:5]
    assert texts and not set(done) & set(texts)        # nothing of the 5 done is scored again
    assert any("resuming: 5 expressions already in" in m for m in messages)
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == n


def test_a_bad_record_is_skipped_and_recorded(dataset, tmp_path):
    records = [json.loads(line) for line in (dataset / "expressions.jsonl").read_text().splitlines()]
    last_scene = records[-1]["scene"]
    missing = [r["id"] for r in records if r["scene"] == last_scene]
    for r in records:
        if r["scene"] == last_scene:
            r["image"] = "images/missing.png"
    records[2]["gold"] = 99
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "images").symlink_to(dataset / "images")
    (bad / "expressions.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    messages = []
    tally = evaluate_synthetic(bad, scorer=GoldAttributeScorer(), compile_fn=gold_compiler(dataset),
                               out=tmp_path / "out", progress=False, log=messages.append)
    assert tally.skipped == len(missing) + 1
    assert sum(tally.total.values()) == len(records) - len(missing) - 1
    skipped = [json.loads(line) for line in (tmp_path / "out" / "skipped.jsonl").read_text().splitlines()]
    reasons = {s["sent_id"]: (s["reason"], s["detail"]) for s in skipped}
    assert all(reasons[i][0] == "missing_image" and "image file not found" in reasons[i][1] for i in missing)
    assert reasons[records[2]["id"]][0] == "malformed_record" and "gold index 99" in reasons[records[2]["id"]][1]
    assert any(f"{len(missing) + 1} record(s) could not be evaluated" in m for m in messages)


def test_compile_errors_count_as_full_system_failures(dataset, tmp_path):
    from grammar import CompileError

    def failing(text):
        raise CompileError(f"cannot compile {text!r}")

    tally = evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=failing, out=None,
                               progress=False, log=lambda s: None)
    assert tally.skipped == 0 and tally.accuracy("full") == 0.0
    assert tally.accuracy("clip") > 0 and tally.accuracy("oracle") == 0.0   # CLIP alone still answers


def test_failure_gallery_is_written(dataset, tmp_path):
    wrong = lambda text: parse_program('find("nothing at all")')  # noqa: E731
    messages = []
    evaluate_synthetic(dataset, scorer=GoldAttributeScorer(), compile_fn=wrong, out=None,
                       gallery=tmp_path / "gallery", progress=False, log=messages.append, limit=4)
    assert (tmp_path / "gallery" / "index.html").is_file()
    assert any("failure gallery" in m for m in messages)


def test_markdown_table_reports_each_kind():
    t = SyntheticTable()
    t.reset()
    t.process([{"kind": kind, "proposals": 4, "lookalikes": alike, "clip_correct": False,
                "correct": ok, "oracle_correct": True}
               for kind, ok, alike in [("relation", True, 2), ("relation", False, 2), ("attribute", True, 1)]])
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
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 6
    # run again: everything is resumed, nothing re-evaluated, same table
    assert args.func(args) == 0
    assert "| **all** | 6 |" in capsys.readouterr().out
    assert len((tmp_path / "predictions.jsonl").read_text().splitlines()) == 6


def test_eval_command_rejects_unknown_dataset(capsys):
    parser = argparse.ArgumentParser()
    cli_evaluation.register(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["eval", "refcoco", "somewhere"])
    assert "invalid choice" in capsys.readouterr().err
