"""The referent's find: the whole expression at the root, modifiers kept, owners of parts."""

from __future__ import annotations

from grammar import And, Find, Program, compile_expression


def test_root_is_and_of_whole_expression_and_structure():
    program = compile_expression("the man on the left in a red shirt")
    assert isinstance(program.root, And)
    assert program.root.args[0] == Find("the man on the left in a red shirt")
    assert program.structured and program.notes == ()
    assert program.target == Find("man in a red shirt", head="man")
    assert isinstance(program, Program)


def test_modifiers_after_a_place_stay_with_the_target():
    assert compile_expression("man on left with blue shirt").target.text == "man with blue shirt"


def test_part_words_lead_to_the_owner():
    assert compile_expression("the back of a blue truck").target.head == "truck"
    assert compile_expression("gray pants of person standing to the back left").target.head == "person"
