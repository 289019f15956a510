"""More real RefCOCOg phrasing (issue 13, second pass): one table per class, each row an
expression and the label skeleton its program must reduce to (see test_expression_language)."""

from __future__ import annotations

import pytest

from benchmarks.bench_structure import program_skeleton
from grammar import compile_expression

SIZE_WORDS_ON_PEOPLE = [  # size words are superlatives, as ReCLIP reads them, on people too
    ("the little boy wearing a plaid shirt", "superlative(smallest, boy)"),
    ("a large man sitting down in a plaid shirt", "superlative(largest, man)"),
    ("guy in green shirt , to the right of the little girl",
     "relate(guy, right_of, superlative(smallest, girl))"),
]

SURFACES = [  # "on the back of X" is on X's surface; "back of X" after a noun is behind X
    ("the tank on the back of a white toilet", "tank"),
    ("a sticker on the front of the bus", "sticker"),
    ("the man in front of the bus", "relate(man, below, bus)"),
    ("the cup on top of the box", "relate(cup, above, box)"),
    ("there is a grey colored car back of man", "relate(car, above, man)"),
    ("the back of a truck", "truck"),
]

INTRINSIC_SIDES = [  # a viewpoint or a paired part's own side is no place in the picture
    ("a front shot of an imac", "imac"),
    ("person on skateboard in center view", "superlative(middle, person)"),
    ("the rear view of a bus", "bus"),
    ("the right arm of the sleeping man", "man"),
    ("the man holding a cup in his right hand", "man"),
    ("the right hand of the man", "man"),
    # "right hand" as a side of something stays a place
    ("left hand side of the bench", "superlative(leftmost, bench)"),
    ("meatloaf in the right hand picture", "superlative(rightmost, meatloaf)"),
]

GROUPS = [  # the middle of the group the referent is one of; a counted pair is "between"
    ("dough that is in the middle of the other items", "superlative(middle, dough)"),
    ("the donut in the middle of all the others", "superlative(middle, donut)"),
    ("the small vase in the middle of the other 2 vases",
     "superlative(smallest, relate(vase, between, vase, vase))"),
    ("the cup in the middle of the two plates", "relate(cup, between, plate, plate)"),
    ("an elephant on the left side of a row of three elephants", "superlative(leftmost, elephant)"),
    # "the left of the men" opens the expression: the leftmost of them (a plural is a group)
    ("the left of all the men", "superlative(leftmost, man)"),
    ("the rightmost of the bananas on the plate", "superlative(rightmost, banana)"),
    ("the left of the man", "man"),  # one man: his left part, so the man
    ("the top of the trees", "tree"),  # a part word stays a part
    ("left of the men", "relate(object, left_of, man)"),  # no "the": a place left of them
]

ORDINAL_PLACES = [  # "at the second from the left": the referent's ordinal
    ("the tie at the second from the left", "ordinal(2, leftmost, tie)"),
    ("the man in the second from right", "ordinal(2, rightmost, man)"),
    ("the man in the second car", "relate(man, within, ordinal(2, leftmost, car))"),
]

NESTING = [  # superlatives as written; among directions the vertical one innermost
    ("large pieces of broccoli sitting to the right and front side of a plate",
     "superlative(rightmost, superlative(bottommost, superlative(largest, broccoli)))"),
    ("coffee cup on left side in the back", "superlative(leftmost, superlative(topmost, cup))"),
    ("the top left cup", "superlative(leftmost, superlative(topmost, cup))"),
    ("the big cup on the left", "superlative(leftmost, superlative(largest, cup))"),
    ("the man on the left and far right", "superlative(rightmost, superlative(leftmost, man))"),
]

HEADS = [  # what a phrase names: a picture of X is X; a material does not own its part
    ("blur image of the boy in the far end of the ground", "superlative(farthest, boy)"),
    ("the bed closest to the wood door", "relate(bed, near, door)"),
    ("the glass door of the fridge", "fridge"),
    ("the car door", "car"),
    ("a goat partially seen with a woman", "goat"),
]

CONTAINMENT_LOW = [  # "in X" right after a landmark locates the landmark
    ("the man behind the woman in the car", "relate(man, above, relate(woman, within, car))"),
    ("the two adults that are sitting behind the driver and the child in the carriage",
     "relate(relate(adult, above, driver), above, relate(child, within, carriage))"),
    ("the man in the car behind the woman", "relate(relate(man, within, car), above, woman)"),
    # only containment: "in front of" after a landmark still describes the referent
    ("a giraffe standing next to a giraffe with its neck down in front of a tree",
     "relate(relate(giraffe, near, giraffe), below, tree)"),
]

TABLES = {
    "size words on people": SIZE_WORDS_ON_PEOPLE, "surfaces": SURFACES,
    "intrinsic sides": INTRINSIC_SIDES, "groups": GROUPS, "ordinal places": ORDINAL_PLACES,
    "nesting": NESTING, "heads": HEADS, "containment low": CONTAINMENT_LOW,
}
CASES = [(name, e, s) for name, rows in TABLES.items() for e, s in rows]


@pytest.mark.parametrize("table, expression, expected", CASES, ids=[f"{c[0]}: {c[1][:40]}" for c in CASES])
def test_phrasing_compiles_to(table, expression, expected):
    assert program_skeleton(compile_expression(expression)) == expected


def test_structure_benchmark_scores_the_labels_as_first_written_too(tmp_path, capsys):
    import json

    from benchmarks.bench_structure import main

    rows = [{"sent_id": 1, "expression": "full face of a man", "structure": "man", "first_label": "face"},
            {"sent_id": 2, "expression": "the cup to the left of the plate",
             "structure": "relate(cup, left_of, plate)"}]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main([str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "on the labels as first written (1 referent heads since relabelled" in out
    assert "exact 50.0%" in out  # "face" is not what the compiler says; the relabelled "man" is
    assert "exact structure: 2/2 = 100.0%" in out


@pytest.mark.parametrize("expression, program", [
    ("left hand side of the bench", 'superlative(leftmost, find("bench", head="bench"))'),
    ("the right half of the table , which is divided by a line",
     'superlative(rightmost, find("table , which is divided by a line", head="table"))'),
    ("middle section of table containing 6 plates",
     'superlative(middle, find("table containing 6 plates", head="table"))'),
])
def test_a_part_leaves_no_of_in_the_referent_text(expression, program):
    compiled = compile_expression(expression)
    assert str(compiled) == f'and(find("{" ".join(expression.split())}"), {program})'
    found = compiled.target
    assert expression[found.span[0]:found.span[1]] == found.text  # the span covers the text shown


@pytest.mark.parametrize("expression, program", [
    ("in the middle of the picture", 'superlative(middle, find("object", head="object"))'),
    ("left side of the photo", 'superlative(leftmost, find("object", head="object"))'),
    ("the picture on the left", 'superlative(leftmost, find("picture", head="picture"))'),  # a picture named
    # a scene noun after the place, with no "of": the referent's words are empty, the picture named
    ("on left the picture", 'superlative(leftmost, find("picture", head="picture"))'),
    ("on middle the photo", 'superlative(middle, find("photo", head="photo"))'),
])
def test_the_frame_of_a_place_is_no_referent(expression, program):
    assert str(compile_expression(expression)) == f'and(find("{expression}"), {program})'
