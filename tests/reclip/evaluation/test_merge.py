"""reclip eval merge: shard outputs joined into one run; runs that cannot be merged refused."""

from __future__ import annotations

import json

import pytest

from eval_outputs import random_predictions, read_jsonl, write_run
from reclip import cli
from primitives import ReclipError
from reclip.evaluation.merge import MergeError, merge_files, merge_runs

ROWS = random_predictions(12)
SKIPS = [{"sent_id": 50, "image_id": 7, "reason": "missing_image"},
         {"sent_id": 51, "image_id": 8, "reason": "empty_sentence"}]


def shards(tmp_path, n=3, **config):
    """ROWS and SKIPS split by image into n shards, as K/N folders."""
    images = sorted({r["image_id"] for r in ROWS})
    folders = []
    for k in range(1, n + 1):
        mine = set(images[(k - 1) * len(images) // n: k * len(images) // n])
        rows = [r for r in ROWS if r["image_id"] in mine]
        folders.append(write_run(tmp_path / f"s{k}", rows, SKIPS[k - 1:k], shard=(k, n), **config))
    return folders


@pytest.mark.parametrize("value", [[0, 3], [4, 3], ["1", "3"], "1/3"])
def test_a_bad_shard_field_is_refused(tmp_path, value):
    folder = write_run(tmp_path / "s", ROWS)
    run = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**run, "shard": value}))
    with pytest.raises(ReclipError, match="shard"):
        merge_files([folder], tmp_path / "all")


def test_shards_given_out_of_order_merge_into_one_row_per_sent_id_in_order(tmp_path):
    s1, s2, s3 = shards(tmp_path)
    write_run(tmp_path / "s2", read_jsonl(s2 / "predictions.jsonl") + ROWS[:2],  # a duplicate sent_id
              SKIPS[1:2], shard=(2, 3))
    merge_files([s3, s1, s2], tmp_path / "all")
    assert read_jsonl(tmp_path / "all" / "predictions.jsonl") == ROWS
    assert read_jsonl(tmp_path / "all" / "skipped.jsonl") == SKIPS
    assert json.loads((tmp_path / "all" / "run.json").read_text())["shard"] is None


def test_missing_shard_is_refused(tmp_path):
    s1, _, s3 = shards(tmp_path)
    with pytest.raises(MergeError, match="shards missing: 2/3"):
        merge_runs([s1, s3], tmp_path / "all")


def test_a_shard_given_twice_is_refused(tmp_path):
    s1, s2, s3 = shards(tmp_path)
    copy = write_run(tmp_path / "copy", [], shard=(2, 3))
    with pytest.raises(MergeError, match="shard 2/3 given twice"):
        merge_runs([s1, s2, copy, s3], tmp_path / "all")


def test_shards_of_different_splits_are_refused(tmp_path):
    s1, s2, _ = shards(tmp_path)
    other = write_run(tmp_path / "other", [], shard=(3, 4))
    with pytest.raises(MergeError, match="different splits"):
        merge_runs([s1, s2, other], tmp_path / "all")


def test_a_whole_run_overlaps_shards(tmp_path):
    s1, s2, s3 = shards(tmp_path)
    whole = write_run(tmp_path / "whole", ROWS)
    with pytest.raises(MergeError, match="whole run; it overlaps"):
        merge_runs([s1, s2, s3, whole], tmp_path / "all")


def test_shards_of_different_runs_are_refused_naming_the_difference(tmp_path):
    s1, s2, _ = shards(tmp_path)
    s3 = write_run(tmp_path / "s3x", [], shard=(3, 3), proposals="dets.json")
    with pytest.raises(MergeError, match=r"different runs \(proposals: 'gt' vs 'dets.json'\)"):
        merge_runs([s1, s2, s3], tmp_path / "all")


def test_an_unfinished_shard_is_refused(tmp_path):
    s1, s2, _ = shards(tmp_path)
    s3 = write_run(tmp_path / "s3x", ROWS[-1:], shard=(3, 3), finished=False)
    with pytest.raises(MergeError, match="no summary.json: that run did not finish"):
        merge_runs([s1, s2, s3], tmp_path / "all")


def test_a_folder_that_is_no_output_is_refused(tmp_path):
    with pytest.raises(MergeError, match="not an evaluation output"):
        merge_runs([tmp_path], tmp_path / "all")


def test_cli_merge_error_is_one_line_and_exit_2(tmp_path, capsys):
    s1, _, s3 = shards(tmp_path)
    assert cli.main(["eval", "merge", str(s1), str(s3), "--out", str(tmp_path / "all")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "reclip eval: error: shards missing: 2/3"
