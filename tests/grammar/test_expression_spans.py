"""Every node the compiler builds records the characters of the words it came from."""

from __future__ import annotations

import pytest

from grammar import Find, Relate, compile_expression, parse_program, walk


@pytest.mark.parametrize("text, node_words", [
    ("the cup left of the plate", {"cup": "cup", "plate": "plate", "left_of": "left"}),
    ("the cup   left of  the   plate", {"cup": "cup", "plate": "plate", "left_of": "left"}),
    ("top left cat between the dog and the tree",
     {"cat": "cat", "dog": "dog", "tree": "tree", "between": "between", "topmost": "top", "leftmost": "left"}),
    ("the woman who is on the left", {"woman": "woman", "leftmost": "left"}),
])
def test_each_node_spans_its_words(text, node_words):
    program = compile_expression(text)
    seen = {}
    for node in walk(program.root):
        assert node.span is not None, f"{node} has no span"
        a, b = node.span
        key = getattr(node, "head", None) or getattr(node, "relation", None) or getattr(node, "kind", None)
        if isinstance(node, Find) and node.head is None:
            assert text[a:b] == text.strip()  # the whole expression
        elif key:
            seen[key] = text[a:b]
    assert {k: v for k, v in seen.items() if k in node_words} == node_words


def test_span_is_not_part_of_equality_hashing_or_printing():
    with_span = Relate(Find("cup", span=(4, 7)), "near", Find("plate", span=(20, 25)), span=(8, 12))
    without = Relate(Find("cup"), "near", Find("plate"))
    assert with_span == without and hash(with_span) == hash(without)
    assert str(with_span) == str(without) and "span" not in repr(with_span)


@pytest.mark.parametrize("text", ["the cup left of the plate", "second dog from the right", "a  red   car"])
def test_compiled_programs_still_read_back_equal(text):
    program = compile_expression(text)
    assert parse_program(str(program)) == program
