"""Shards of a real run (the refer fixture, the synthetic model): merged, on a local Ray
cluster, and compared, give the figures of one process and of the files themselves."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

import pytest

from refexp_data import build_refexp_data
from reclip import Locator, cli
from reclip.evaluation.compare import compare_runs, format_comparison
from reclip.evaluation.config import EvalConfig
from reclip.evaluation.merge import merge_runs
from reclip.evaluation.run import run_evaluation

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The fixture dataset, a locator, and one whole run (gt boxes)."""
    tmp = tmp_path_factory.mktemp("shards")
    data = build_refexp_data(tmp / "data", scenes=4)
    config = EvalConfig(dataset="refer", files={"root": str(data.refer_root), "dataset": "refcocog",
                                                "split_by": "umd"},
                        images=str(data.images), proposals="gt", split="val", methods=("crop",))
    locator = Locator.from_pretrained("synthetic", methods=["crop"])
    whole = run_evaluation(config, tmp / "whole", progress=False, locator=locator)
    return {"tmp": tmp, "data": data, "config": config, "locator": locator, "whole": whole}


def predictions(out: Path) -> dict:
    return {r["sent_id"]: r for r in map(json.loads, (out / "predictions.jsonl").read_text().splitlines())}


def test_two_shards_merged_give_the_summary_of_one_process(runs):
    tmp, config = runs["tmp"], runs["config"]
    shards = [run_evaluation(config, tmp / f"s{k}", (k, 2), progress=False, locator=runs["locator"])
              for k in (1, 2)]
    assert all(0 < s["n"] < runs["whole"]["n"] for s in shards)
    merged = merge_runs([tmp / "s2", tmp / "s1"], tmp / "merged")
    assert merged == runs["whole"]
    assert predictions(tmp / "merged") == predictions(tmp / "whole")
    assert json.loads((tmp / "merged" / "summary.json").read_text()) == runs["whole"]


def test_cli_merge_prints_the_merged_figures(runs, capsys):
    tmp = runs["tmp"]
    for k in (1, 2):
        if not (tmp / f"s{k}" / "summary.json").is_file():
            run_evaluation(runs["config"], tmp / f"s{k}", (k, 2), progress=False, locator=runs["locator"])
    assert cli.main(["eval", "merge", str(tmp / "s1"), str(tmp / "s2"), "--out", str(tmp / "cli")]) == 0
    assert f"n={runs['whole']['n']}" in capsys.readouterr().out
    assert json.loads((tmp / "cli" / "summary.json").read_text()) == runs["whole"]


def test_compare_against_the_baseline_lists_the_flips_the_files_hold(runs):
    tmp = runs["tmp"]
    baseline = EvalConfig(**{**runs["config"].__dict__, "baseline": True})
    run_evaluation(baseline, tmp / "baseline", progress=False, locator=runs["locator"])
    a, b = predictions(tmp / "whole"), predictions(tmp / "baseline")
    c = compare_runs(tmp / "whole", tmp / "baseline")
    assert [f["sent_id"] for f in c.right_to_wrong] == [s for s in a if a[s]["correct"] and not b[s]["correct"]]
    assert [f["sent_id"] for f in c.wrong_to_right] == [s for s in a if not a[s]["correct"] and b[s]["correct"]]
    assert c.right_to_wrong or c.wrong_to_right
    overall = {k: (va, vb) for k, va, vb in c.overall}
    assert overall["accuracy"] == pytest.approx((sum(r["correct"] for r in a.values()) / len(a),
                                                 sum(r["correct"] for r in b.values()) / len(b)))
    assert overall["n"] == (len(a), len(b))
    causes = {k: (na, nb) for k, na, nb in c.by_cause}
    for cause in {r["cause"] for r in a.values()}:
        assert causes[cause][0] == sum(r["cause"] == cause for r in a.values())
    text = format_comparison(c)
    assert "baseline" in text and "DIFFERENT PROPOSALS" not in text


def test_compare_says_loudly_when_the_proposals_differ(runs, capsys):
    tmp, data = runs["tmp"], runs["data"]
    dets = EvalConfig(**{**runs["config"].__dict__, "proposals": str(data.dets_dict)})
    run_evaluation(dets, tmp / "dets", progress=False, locator=runs["locator"])
    assert cli.main(["eval", "compare", str(tmp / "whole"), str(tmp / "dets")]) == 0
    out = capsys.readouterr().out
    assert f"WARNING: THE RUNS USE DIFFERENT PROPOSALS (A: gt, B: {data.dets_dict})" in out


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """One local Ray cluster for this module (starting one takes ~30 s here); tests
    that use it run their shards on it, and it is shut down even when they fail."""
    ray = pytest.importorskip("ray")
    started, print_before = not ray.is_initialized(), builtins.print
    if started:
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level="ERROR",
                 object_store_memory=80 * 2**20, _temp_dir=str(tmp_path_factory.mktemp("ray")),
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}})
    yield ray
    if started:
        ray.shutdown()
        builtins.print = print_before      # ray.shutdown() leaves its own print in builtins


def test_two_shards_on_a_local_ray_cluster_give_the_summary_of_one_process(runs, local_ray, capsys):
    data, out = runs["data"], runs["tmp"] / "ray"
    assert cli.main(["eval", "refer", "--root", str(data.refer_root), "--dataset", "refcocog",
                     "--split-by", "umd", "--split", "val", "--images", str(data.images), "--proposals", "gt",
                     "--model", "synthetic", "--method", "crop", "--out", str(out), "--no-progress",
                     "--ray", "--shards", "2"]) == 0
    assert "ray: shard 2/2 done" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text()) == runs["whole"]
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["1-of-2", "2-of-2"]

