"""What ``reclip eval refer|mdetr|reclip`` refuses, and how runs are sliced into shards."""

from __future__ import annotations

import contextlib
import io
import json
import pickle

import numpy as np
import pytest

from primitives import ReclipError
from reclip.cli.main import main
from reclip.datasets import image_key, load_dataset
from reclip.evaluation.config import EvalConfig, parse_shard
from reclip.evaluation.run import run_evaluation, select
from reclip.locator import Locator
from refexp_data import build_refexp_data


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_refexp_data(tmp_path_factory.mktemp("refexp"), scenes=5)


def run_cli(*args: str) -> tuple[int, str]:
    """The exit code and everything printed (stderr and stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stderr(out), contextlib.redirect_stdout(out):
        code = main(["eval", *args, "--no-progress"])
    return code, out.getvalue()


def jsonl_args(data, *more):
    return ["reclip", str(data.jsonl), "--images", str(data.images), *more]


def test_no_proposals_is_refused_with_the_choices(data, tmp_path):
    code, err = run_cli(*jsonl_args(data, "--out", str(tmp_path / "o")))
    assert code == 2
    assert "no proposals given" in err and "--proposals gt" in err and "--proposals FILE" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused(data, tmp_path):
    (tmp_path / "f").write_text("x")
    code, err = run_cli(*jsonl_args(data, "--proposals", "gt", "--out", str(tmp_path / "f")))
    assert code == 2 and "--out" in err and "is an existing file" in err


def test_a_resumed_run_with_other_options_is_refused(data, tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "run.json").write_text('{"dataset": "reclip", "proposals": "other"}')
    code, err = run_cli(*jsonl_args(data, "--proposals", "gt", "--out", str(tmp_path / "o")))
    assert code == 2 and "holds another run" in err


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_a_malicious_refs_pickle_stops_the_run(tmp_path):
    (tmp_path / "refcocog").mkdir()
    (tmp_path / "refcocog" / "refs(umd).p").write_bytes(pickle.dumps([_Evil()], protocol=2))
    code, err = run_cli("refer", "--root", str(tmp_path), "--dataset", "refcocog", "--split-by", "umd",
                        "--split", "val", "--images", str(tmp_path), "--proposals", "gt", "--out", str(tmp_path / "o"))
    assert code == 2 and "refused to load __builtin__.print" in err and "it was not run" in err
    assert "pwned" not in err


@pytest.mark.parametrize("text", ["0/2", "3/2", "1-2", "a/b", "1/0"])
def test_bad_shards_are_refused(text):
    with pytest.raises(ReclipError, match="--shard"):
        parse_shard(text)


def test_shards_slice_by_image_deterministically_and_cover_the_run(data):
    ds = load_dataset("reclip", {"annotations": str(data.jsonl)}, str(data.images))
    everything, _ = select(ds, None, None)
    images = sorted({r.image_id for r in everything})
    seen = []
    for k in (1, 2, 3):
        records, _ = select(ds, None, (k, 3))
        assert {r.image_id for r in records} == {i for pos, i in enumerate(images) if pos % 3 == k - 1}
        assert records == select(ds, None, (k, 3))[0]
        seen += records
    assert sorted(r.sent_id for r in seen) == sorted(r.sent_id for r in everything)
    limited, _ = select(ds, 7, (2, 2))
    assert all(image_key(r.image_id) in {image_key(i) for i in images[1::2]} for r in limited)
    assert {r.sent_id for r in limited} <= {r.sent_id for r in everything[:7]}


class ConstantScorer:
    """Every proposal alike (the answer is proposal #0): a fast stand-in for CLIP."""

    def score(self, image, proposals, texts):
        return np.zeros((len(texts), len(proposals)))


def test_duplicate_sent_ids_are_skipped_and_a_cut_run_resumes_to_the_same_figures(data, tmp_path):
    lines = data.jsonl.read_text().splitlines()
    dup = tmp_path / "dup_val.jsonl"
    dup.write_text("\n".join(lines + [lines[0]]) + "\n")
    config = EvalConfig("reclip", {"annotations": str(dup)}, str(data.images), "gt")
    assert pickle.loads(pickle.dumps(config)) == config     # shards travel to workers
    locator = Locator(ConstantScorer())
    quiet = {"progress": False, "locator": locator, "log": lambda line: None}
    whole = run_evaluation(config, tmp_path / "a", **quiet)
    repeated = len(json.loads(lines[0])["sentences"])
    assert whole["n"] == len(data.gold_box)
    assert whole["skipped"] == {"count": repeated, "reasons": {"duplicate_sent_id": repeated}}
    cut = tmp_path / "b"
    cut.mkdir()
    for name in ("run.json", "skipped.jsonl"):
        (cut / name).write_text((tmp_path / "a" / name).read_text())
    kept = (tmp_path / "a" / "predictions.jsonl").read_text().splitlines()[:2]
    (cut / "predictions.jsonl").write_text("\n".join(kept) + "\n")
    assert run_evaluation(config, cut, **quiet) == whole
