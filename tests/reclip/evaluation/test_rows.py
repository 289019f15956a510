"""A prediction row's structure kind and failure cause (the trace diagnosis, by node)."""

from __future__ import annotations

import numpy as np
import pytest

from grammar import parse_program
from reclip.datasets import RefRecord
from reclip.evaluation.rows import result_row, structure_kind
from reclip.locator import Locator
from report_scene import SCENE, make_scene


class TableScorer:
    """Logits looked up by find text."""

    def __init__(self, table):
        self.table = table

    def score(self, image, proposals, texts):
        return np.array([self.table[str(t)] for t in texts], dtype=float)


@pytest.mark.parametrize("program, kind", [
    ('find("cup")', "none"),
    ('and(find("x"), relate(find("cup"), left_of, find("plate")))', "relation"),
    ('superlative(leftmost, find("cup"))', "superlative"),
    ('ordinal(2, leftmost, find("cup"))', "ordinal"),
    ('relate(find("cup"), between, find("plate"), find("plate"))', "between"),
    ('relate(find("cup"), left_of, superlative(leftmost, find("plate")))', "nested"),
])
def test_structure_kind(program, kind):
    assert structure_kind(parse_program(program).root) == kind


def cause(program: str, table: dict, gold_box) -> dict:
    img, proposals = make_scene()
    result = Locator(TableScorer(table)).run(program, img, proposals)
    record = RefRecord("img.png", "e", tuple(gold_box), 0, 1)
    boxes = np.array([p.box for p in proposals], dtype=float)
    return result_row(record, structure_kind(result.program.root), result, boxes, masks=False)


def test_causes_name_the_node_that_removed_the_gold():
    gold = SCENE[2][0]      # the right-hand red cup, #2
    row = cause('ordinal(2, leftmost, find("cup"))', {"cup": [3, 3, 3, -9, -9]}, gold)
    assert (row["index"], row["correct"], row["cause"]) == (1, False, "ordinal:leftmost")
    row = cause('and(find("whole"), relate(find("cup"), right_of, find("thing")))',
                {"whole": [0, 5, 0, 0, 0], "cup": [-9, 2, 2, -9, -9], "thing": [0, 0, 0, 0, 0]}, gold)
    assert row["cause"] == "and"
    row = cause('find("cup")', {"cup": [5, 0, 0, 0, 0]}, gold)
    assert row["cause"] == "find"
    row = cause('find("cup")', {"cup": [0, 0, 5, 0, 0]}, gold)
    assert (row["cause"], row["correct"], row["iou"]) == ("correct", True, 1.0)
    row = cause('find("cup")', {"cup": [0, 0, 5, 0, 0]}, [0, 0, 20, 20])
    assert row["cause"] == "no_overlap" and row["iou"] == 0.0
