"""Hostile inputs to `reclip eval`, a row each: the one line on stderr and exit status 2, or, for
what used to pass silently, the right result (issue 24's evaluation items)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PIL import Image

from refexp_data import build_refexp_data
from reclip.evaluation.lock import LOCK
from reclip.synthetic import dataset as synth
from cli_capture import capture


def run_cli(*argv: str) -> tuple[int, str, str]:
    return capture(["eval", *argv, "--no-progress"])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    synth.write_dataset(root, scenes=2, seed=5)
    return root


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_refexp_data(tmp_path_factory.mktemp("refexp"), scenes=2)


def one_line(err: str) -> str:
    """The one error line (a gt run's warning may stand before it)."""
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith(("note: ", "using ground-truth"))]
    assert len(lines) == 1 and lines[0].startswith("reclip eval: ") and "Traceback" not in err, err
    return lines[0]


def test_a_rerun_with_another_model_into_the_same_out_stops_naming_the_setting(synthetic, tmp_path):
    out = str(tmp_path / "o")
    code, first, err = run_cli("synthetic", str(synthetic), "--limit", "3", "--out", out)
    assert code == 0, err
    code, _, err = run_cli("synthetic", str(synthetic), "--limit", "3", "--out", out, "--model", "ViT-B-32:openai")
    assert code == 2
    line = one_line(err)
    assert "holds another run" in line and 'models (["synthetic"] vs ["ViT-B-32:openai"])' in line
    code, again, err = run_cli("synthetic", str(synthetic), "--limit", "3", "--out", out)   # same settings
    assert code == 0 and again == first
    assert len((tmp_path / "o" / "predictions.jsonl").read_text().splitlines()) == 3


def test_an_out_in_use_by_a_running_evaluation_is_locked_and_a_dead_ones_lock_taken_over(synthetic, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK).write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename}))
        code, _, err = run_cli("synthetic", str(synthetic), "--limit", "2", "--out", str(out))
        assert code == 2
        assert f"is in use by another evaluation (pid {holder.pid}" in one_line(err)
        assert not (out / "predictions.jsonl").exists()
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale, taken over, and released at the end
    code, _, err = run_cli("synthetic", str(synthetic), "--limit", "2", "--out", str(out))
    assert code == 0, err
    assert not (out / LOCK).exists()
    assert len((out / "predictions.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("case, argv, message", [
    ("empty split", lambda d, t: ["refer", "--root", str(d.refer_root), "--dataset", "refcocog", "--split-by", "umd",
                                  "--split", "testB", "--images", str(d.images), "--proposals", "gt"],
     "no expressions to evaluate of split 'testB'"),
    ("images folder that does not exist", lambda d, t: ["reclip", str(d.jsonl), "--images", str(t / "nowhere"),
                                                        "--proposals", "gt"],
     "does not exist"),
    ("detections that match no image", lambda d, t: ["reclip", str(d.jsonl), "--images", str(d.images),
                                                     "--proposals", str(_foreign_dets(t))],
     "match none of the dataset's"),
    ("every image missing", lambda d, t: ["reclip", str(d.jsonl), "--images", str(_empty_dir(t)),
                                          "--proposals", "gt"],
     "nothing was scored: every expression was skipped"),
])
def test_an_evaluation_that_scores_nothing_stops_saying_why(data, tmp_path, case, argv, message):
    code, stdout, err = run_cli(*argv(data, tmp_path), "--out", str(tmp_path / "o"))
    assert code == 2, case
    assert message in one_line(err) and "Acc" not in stdout


def _foreign_dets(tmp) -> object:
    path = tmp / "dets.json"
    path.write_text(json.dumps({"999999": [[0, 0, 5, 5]]}))
    return path


def _empty_dir(tmp) -> object:
    (tmp / "empty").mkdir()
    return tmp / "empty"


def test_a_file_that_is_not_a_synthetic_dataset_is_one_line(tmp_path):
    Image.new("RGB", (8, 8), "red").save(tmp_path / "photo.png")
    code, _, err = run_cli("synthetic", str(tmp_path / "photo.png"), "--out", str(tmp_path / "o"))
    assert code == 2 and "photo.png is not a synthetic dataset" in one_line(err)


@pytest.mark.parametrize("fmt", ["synthetic", "reclip"])
def test_an_empty_out_is_refused(synthetic, data, tmp_path, fmt, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [str(synthetic)] if fmt == "synthetic" else [str(data.jsonl), "--images", str(data.images),
                                                         "--proposals", "gt"]
    code, _, err = run_cli(fmt, *argv, "--out", "")
    assert code == 2 and "--out is empty" in one_line(err)
    assert os.listdir(tmp_path) == []


def test_two_evaluations_started_together_on_one_out_never_write_a_row_twice(synthetic, tmp_path):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    env = {**os.environ, "PYTHONPATH": root, "OMP_NUM_THREADS": "1"}
    argv = [sys.executable, "-m", "reclip", "eval", "synthetic", str(synthetic), "--limit", "6",
            "--out", str(tmp_path / "o"), "--no-progress"]
    runs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert sorted(code for code, _ in results) in ([0, 0], [0, 2])
    for code, err in results:
        if code == 2:
            assert "is in use by another evaluation" in err
    ids = [json.loads(line)["sent_id"] for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 6


def test_a_run_refused_for_scoring_nothing_leaves_no_record_a_corrected_rerun_trips_on(data, tmp_path):
    out = str(tmp_path / "o")
    code, _, _ = run_cli("reclip", str(data.jsonl), "--images", str(data.images), "--limit", "3",
                         "--proposals", str(_foreign_dets(tmp_path)), "--out", out)
    assert code == 2
    code, _, err = run_cli("reclip", str(data.jsonl), "--images", str(data.images), "--limit", "3",
                           "--proposals", str(data.dets_dict), "--out", out)
    assert code == 0, err
