"""``reclip eval refer|mdetr|reclip`` end to end on tiny datasets drawn with Pillow, with the
synthetic model: figures against ones computed here from the predictions and the gold."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from reclip.evaluation.config import EvalConfig
from reclip.evaluation.run import run_evaluation
from reclip.evaluation.summary import summarize
from refexp_data import build_refexp_data
from cli_capture import capture


def run_cli(*args: str) -> tuple[int, str, str]:
    return capture(["eval", *args, "--no-progress"])


def refer_args(data, *more: str) -> list[str]:
    return ["refer", "--root", str(data.refer_root), "--dataset", "refcocog", "--split-by", "umd",
            "--split", "val", "--images", str(data.images), *more]


def rows(out) -> list[dict]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]


def box_iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def decode(rle) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def expected_figures(data, predictions) -> dict:
    """Accuracy, mean IoU, mIoU and oIoU computed here from the rows' boxes/masks and the gold."""
    ious = [box_iou(r["box"], data.gold_box[r["sent_id"]]) if r["box"] else 0.0 for r in predictions]
    inter, union = [], []
    for r in predictions:
        gold = data.gold_mask[r["sent_id"]]
        pred = decode(r["mask"]) if r.get("mask") else np.zeros_like(gold)
        inter.append(int((gold & pred).sum()))
        union.append(int((gold | pred).sum()))
    return {"accuracy": np.mean([i > 0.5 for i in ious]), "mean_iou": np.mean(ious),
            "miou": np.mean([i / u for i, u in zip(inter, union)]), "oiou": sum(inter) / sum(union)}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_refexp_data(tmp_path_factory.mktemp("refexp"), scenes=3)


@pytest.fixture(scope="module")
def full_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "gt"
    code, stdout, stderr = run_cli(*refer_args(data, "--proposals", "gt", "--out", str(out)))
    assert code == 0, stderr
    return out, stdout, stderr


def test_refer_with_gt_boxes_scores_every_expression_and_says_it_used_gt(data, full_run):
    out, stdout, stderr = full_run
    summary = json.loads((out / "summary.json").read_text())
    predictions = rows(out)
    assert summary["n"] == len(predictions) == len(data.gold_box) == 21
    want = expected_figures(data, predictions)
    for key in ("accuracy", "mean_iou", "miou", "oiou"):
        assert summary[key] == pytest.approx(want[key], abs=1e-12), key
    assert (summary["iou_threshold"], summary["iou_rule"], summary["proposals"]) == (0.5, ">", "gt")
    assert summary["skipped"] == {"count": 0, "reasons": {}}
    assert set(summary["by_kind"]) == {"none", "relation", "superlative", "ordinal", "between", "nested"}
    assert sum(k["n"] for k in summary["by_kind"].values()) == 21
    assert sum(summary["causes"].values()) == 21
    assert "using ground-truth boxes as proposals: this is not a detector setting" in stderr
    assert "**proposals: ground-truth boxes (gt)**" in stdout
    assert "Acc@0.5 counts IoU > 0.5 (ReCLIP's rule)" in (out / "summary.md").read_text()
    for r in predictions:   # Result.mask: the chosen gt object's mask
        ann_id, box = data.objects[r["image_id"]][r["index"]]
        assert r["box"] == box and (r["cause"] == "correct") == r["correct"]


def test_a_run_killed_mid_line_resumes_to_the_same_summary(data, full_run, tmp_path):
    out, _, _ = full_run
    resumed = tmp_path / "resumed"
    shutil.copytree(out, resumed)
    text = (resumed / "predictions.jsonl").read_text()
    cut = text.index("\n", len(text) // 3) + 40          # inside a line, a third of the way in
    (resumed / "predictions.jsonl").write_text(text[:cut])
    (resumed / "summary.json").unlink()
    config = EvalConfig("refer", {"root": str(data.refer_root), "dataset": "refcocog", "split_by": "umd"},
                        str(data.images), "gt", split="val")
    summary = run_evaluation(config, resumed, progress=False, log=lambda line: None)
    assert summary == json.loads((out / "summary.json").read_text())
    assert sorted(r["sent_id"] for r in rows(resumed)) == sorted(data.gold_box)
    rerun = run_evaluation(config, resumed, progress=False, log=lambda line: None)   # nothing left to do
    assert rerun == summary and len(rows(resumed)) == 21


def test_detections_with_masks_a_corrupt_image_and_an_image_without_detections(tmp_path):
    data = build_refexp_data(tmp_path / "data", scenes=4)
    ids = sorted(data.objects)
    no_dets, corrupt, missing = ids[1], ids[2], ids[3]
    dets = [d for d in json.loads(data.dets_coco.read_text()) if d["image_id"] != no_dets]
    data.dets_coco.write_text(json.dumps(dets))
    (data.images / f"COCO_train2014_{corrupt:012d}.jpg").write_bytes(b"not an image")
    (data.images / f"COCO_train2014_{missing:012d}.jpg").unlink()
    out = tmp_path / "out"
    code, stdout, stderr = run_cli(*refer_args(data, "--proposals", str(data.dets_coco), "--out", str(out)))
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    predictions = rows(out)
    per_image = {i: sum(data.image_of[s] == i for s in data.gold_box) for i in ids}
    assert summary["n"] == per_image[ids[0]] + per_image[no_dets]
    assert summary["skipped"] == {"count": per_image[corrupt] + per_image[missing],
                                  "reasons": {"missing_image": per_image[missing],
                                              "unreadable_image": per_image[corrupt]}}
    empty = [r for r in predictions if r["image_id"] == no_dets]
    assert len(empty) == per_image[no_dets]
    assert all(r["index"] is None and r["iou"] == 0 and r["cause"] == "no_overlap" and r["mask"] is None
               and r["mask_union"] == int(data.gold_mask[r["sent_id"]].sum()) for r in empty)
    want = expected_figures(data, predictions)
    for key in ("accuracy", "mean_iou", "miou", "oiou"):
        assert summary[key] == pytest.approx(want[key], abs=1e-12), key
    assert summary["causes"]["no_overlap"] >= per_image[no_dets]
    skipped = [json.loads(line) for line in (out / "skipped.jsonl").read_text().splitlines()]
    assert {s["reason"] for s in skipped} == {"missing_image", "unreadable_image"}


def test_mdetr_and_reclip_jsonl_with_detection_files_and_the_baseline(data, tmp_path):
    code, _, err = run_cli("mdetr", str(data.mdetr), "--images", str(data.images),
                           "--proposals", str(data.dets_list), "--out", str(tmp_path / "m"), "--limit", "8")
    assert code == 0, err
    code, _, err = run_cli("reclip", str(data.jsonl), "--images", str(data.images), "--baseline",
                           "--proposals", str(data.dets_dict), "--out", str(tmp_path / "r"), "--limit", "8")
    assert code == 0, err
    for name, baseline in (("m", False), ("r", True)):
        summary = summarize(tmp_path / name)
        predictions = rows(tmp_path / name)
        assert summary["n"] == 8 and summary["baseline"] is baseline and "miou" not in summary
        ious = [box_iou(r["box"], data.gold_box[r["sent_id"]]) for r in predictions]
        assert summary["accuracy"] == pytest.approx(np.mean([i > 0.5 for i in ious]))
        assert summary["mean_iou"] == pytest.approx(np.mean(ious))
    baseline = rows(tmp_path / "r")
    assert all(r["program"].startswith("find(") for r in baseline)
    assert {r["kind"] for r in baseline} != {"none"}     # the kind is the compiled structure's


def test_global_local_isolation_on_mask_proposals(data, tmp_path):
    code, _, err = run_cli(*refer_args(data, "--proposals", "gt", "--method", "global_local",
                                       "--limit", "4", "--out", str(tmp_path / "gl")))
    assert code == 0, err
    summary = summarize(tmp_path / "gl")
    assert summary["methods"] == ["global_local"] and summary["n"] == 4 and "oiou" in summary
    assert all(r["mask"] is not None for r in rows(tmp_path / "gl"))
