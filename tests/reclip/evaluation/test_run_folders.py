"""A run's folder holds one run: a resume onto a dataset changed in place, rows without their
run.json, and a merge onto a folder that is not an earlier merge of the same run are refused."""

from __future__ import annotations

import pytest

from reclip import cli


@pytest.fixture()
def dataset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["synth", "--out", "ds", "--scenes", "2", "--seed", "1"]) == 0
    return tmp_path / "ds"


def run(*args: str) -> int:
    return cli.main(["eval", "synthetic", "ds", "--no-progress", *args])


def test_a_resume_onto_a_dataset_changed_in_place_is_refused(dataset, capsys):
    assert run("--out", "r", "--limit", "3") == 0
    assert cli.main(["synth", "--out", "ds", "--scenes", "2", "--seed", "2", "--overwrite"]) == 0
    capsys.readouterr()
    assert run("--out", "r") == 2
    err = capsys.readouterr().err
    assert "r holds another run" in err and "resolved.data.data.expressions.jsonl" in err


def test_rows_without_their_run_json_are_not_resumed(dataset, capsys):
    assert run("--out", "r", "--limit", "3") == 0
    (dataset.parent / "r" / "run.json").unlink()
    capsys.readouterr()
    assert run("--out", "r") == 2
    assert "r holds predictions.jsonl but no run.json" in capsys.readouterr().err


def test_merge_writes_only_into_a_new_folder_or_an_earlier_merge_of_the_same_run(dataset, capsys):
    assert run("--out", "s1", "--shard", "1/2") == 0 and run("--out", "s2", "--shard", "2/2") == 0
    assert run("--out", "other", "--limit", "2") == 0
    (dataset.parent / "mine").mkdir()
    (dataset.parent / "mine" / "summary.md").write_text("my notes")
    capsys.readouterr()
    for out in ("mine", "other"):
        assert cli.main(["eval", "merge", "s1", "s2", "--out", out]) == 2
        assert f"--out {out} is not empty and holds no earlier merge of this run" in capsys.readouterr().err
    assert (dataset.parent / "mine" / "summary.md").read_text() == "my notes"
    assert cli.main(["eval", "merge", "s1", "s2", "--out", "merged"]) == 0
    assert cli.main(["eval", "merge", "s1", "s2", "--out", "merged"]) == 0      # again: the same merge


def test_a_lock_just_created_and_not_yet_written_is_not_taken_over(tmp_path):
    """Its taker is between creating the file and writing its pid: a second run must wait and
    then see it held, not read the empty file as a dead run's lock."""
    import json
    import os
    import socket
    import threading
    import time

    from reclip.evaluation.lock import LOCK, FolderLockedError, locked

    lock = tmp_path / LOCK
    lock.touch()

    def write_holder():
        time.sleep(0.3)
        lock.write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname()}))

    writer = threading.Thread(target=write_holder)
    writer.start()
    with pytest.raises(FolderLockedError, match=f"is in use by another evaluation \\(pid {os.getppid()}"):
        with locked(tmp_path):
            pass
    writer.join()
