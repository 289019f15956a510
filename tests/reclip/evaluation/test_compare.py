"""reclip eval compare: two runs side by side, flips joined by sent_id."""

from __future__ import annotations

from eval_outputs import prediction, random_predictions
from reclip.evaluation.compare import flat_counts, flips

A = random_predictions(30, seed=1)
B = [prediction(r["sent_id"], r["image_id"], iou, kind=r["kind"], cause="relate removed the gold")
     for r, iou in zip(A, [r["iou"] for r in random_predictions(30, seed=2)])]


def keyed(rows):
    return {r["sent_id"]: r for r in rows}


def test_flips_are_the_expressions_right_in_one_run_and_wrong_in_the_other():
    right_to_wrong, wrong_to_right = flips(keyed(A), keyed(B))
    expected_rw = [a["sent_id"] for a, b in zip(A, B) if a["iou"] > 0.5 and not b["iou"] > 0.5]
    expected_wr = [a["sent_id"] for a, b in zip(A, B) if not a["iou"] > 0.5 and b["iou"] > 0.5]
    assert expected_rw and expected_wr
    assert [f["sent_id"] for f in right_to_wrong] == expected_rw
    assert [f["sent_id"] for f in wrong_to_right] == expected_wr
    first = right_to_wrong[0]
    assert first["a"]["iou"] == keyed(A)[first["sent_id"]]["iou"]
    assert first["b"]["cause"] == "relate removed the gold"


def test_flips_join_by_sent_id_not_by_position():
    right_to_wrong, wrong_to_right = flips(keyed(A), keyed(list(reversed(B))))
    assert [f["sent_id"] for f in right_to_wrong] == [f["sent_id"] for f in flips(keyed(A), keyed(B))[0]]


def test_flat_counts_names_nested_causes():
    causes = {"no proposal overlaps": 3, "node removed the gold": {"relate": {"left_of": 2}, "superlative": 1},
              "find": {"n": 4, "accuracy": 0.0}}
    assert dict(flat_counts(causes)) == {"no proposal overlaps": 3, "node removed the gold / relate / left_of": 2,
                                         "node removed the gold / superlative": 1, "find": 4}
