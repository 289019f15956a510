"""The DSL: canonical printing, parsing, round trips and parse errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grammar import And, Find, Ordinal, Program, ProgramSyntaxError, Relate, Superlative, parse_program
from primitives import REGISTRY

RELATIONS = REGISTRY.names("relation")
TERNARIES = REGISTRY.names("ternary")
SUPERLATIVES = REGISTRY.names("superlative")

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
finds = st.builds(Find, texts, st.one_of(st.none(), texts))


def nodes(children):
    return st.one_of(
        st.builds(lambda t, r, l: Relate(t, r, l), children, st.sampled_from(RELATIONS), children),
        st.builds(lambda t, r, a, b: Relate(t, r, a, b), children, st.sampled_from(TERNARIES), children, children),
        st.builds(Superlative, st.sampled_from(SUPERLATIVES), children),
        st.builds(Ordinal, st.integers(1, 99), st.sampled_from(SUPERLATIVES), children),
        st.builds(lambda xs: And(*xs), st.lists(children, min_size=2, max_size=3)),
    )


programs = st.recursive(finds, nodes, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(programs)
def test_print_parse_round_trip(node):
    text = str(node)
    assert parse_program(text) == Program(node)
    assert str(parse_program(text)) == text


def test_canonical_text():
    p = And(
        Find("the second cup from the left", head="cup"),
        Ordinal(2, "leftmost", Relate(Find("cup"), "near", Find('a "red" plate'))),
    )
    assert str(p) == (
        'and(find("the second cup from the left", head="cup"), '
        'ordinal(2, leftmost, relate(find("cup"), near, find("a \\"red\\" plate"))))'
    )


def test_whitespace_newlines_and_comments_are_accepted():
    text = """
    # the edited program
    relate(
        find("dog"),   # the target
        between,
        find("man"), find("car")
    )
    """
    assert parse_program(text).root == Relate(Find("dog"), "between", Find("man"), Find("car"))


def test_hash_inside_string_is_not_a_comment():
    assert parse_program('find("cup # 2")').root == Find("cup # 2")


def test_target_follows_the_referent():
    p = parse_program('and(find("the cup left of the plate"), relate(find("cup", head="cup"), left_of, find("plate")))')
    assert p.target == Find("cup", head="cup")
    assert p.target.head == "cup"
    assert parse_program('ordinal(2, leftmost, superlative(topmost, find("man")))').target == Find("man")


def error_of(text: str) -> ProgramSyntaxError:
    with pytest.raises(ProgramSyntaxError) as info:
        parse_program(text)
    return info.value


def test_unknown_relation_names_position_caret_and_suggestions():
    err = error_of('relate(find("cup"),\n  lef_of, find("plate"))')
    assert (err.line, err.column) == (2, 3)
    assert "unknown relation 'lef_of'" in str(err)
    assert err.context.splitlines() == ["  lef_of, find(\"plate\"))", "  ^"]
    assert err.suggestions[0] == "left_of"
    assert "did you mean: left_of" in str(err)


def test_unknown_superlative_suggests_registered_ones():
    err = error_of('superlative(lefmost, find("man"))')
    assert "unknown superlative 'lefmost'" in str(err)
    assert "leftmost" in err.suggestions


def test_relation_used_as_superlative_is_an_error():
    err = error_of('superlative(left_of, find("man"))')
    assert "unknown superlative 'left_of'" in str(err)


def test_wrong_number_of_landmarks():
    err = error_of('relate(find("dog"), between, find("man"))')
    assert "'between' takes 2 landmarks, got 1" in str(err)
    err = error_of('relate(find("dog"), left_of, find("man"), find("car"))')
    assert "'left_of' takes 1 landmark, got 2" in str(err)


def test_wrong_number_of_arguments():
    err = error_of('superlative(leftmost, find("a"), find("b"))')
    assert "wrong number of arguments to superlative" in str(err)
    assert (err.line, err.column) == (1, 32)
    err = error_of('find("a", "b")')
    assert 'unexpected \'"b"\' in find(...): expected head="..."' in str(err)
    err = error_of('ordinal(leftmost, find("a"))')
    assert "in ordinal(...): expected a whole number" in str(err)


def test_unclosed_string():
    err = error_of('find("red cup)')
    assert "unclosed string" in str(err)
    assert (err.line, err.column) == (1, 6)


def test_empty_program():
    for text in ["", "   \n ", "# only a comment\n", "# a comment with \"quotes\"\n"]:
        assert "empty program" in str(error_of(text))


def test_unknown_call_suggests_a_call():
    err = error_of('fnd("x")')
    assert "unknown call 'fnd'" in str(err)
    assert "find" in err.suggestions


def test_truncated_program():
    assert "ends early" in str(error_of('ordinal(2, leftmost, find("x")'))


def test_ordinal_zero_is_rejected():
    assert "ordinal position must be 1 or more" in str(error_of('ordinal(0, leftmost, find("x"))'))


def test_error_is_a_value_error():
    with pytest.raises(ValueError):
        parse_program("relate(")
