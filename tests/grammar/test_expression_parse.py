"""The parse stage's memoised reading of category sequences equals Lark's own parse of
the chunks (through Lark's interactive parser, each token carrying its chunk, a spatial
chunk Lark does not accept read as a word, retries), and the parts of Lark's public
interface the compiler relies on behave as it assumes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Token
from lark.exceptions import UnexpectedToken

from grammar.expression import Chunk, Parsed, Tok, parse
from grammar.expression.parser import _LEADING_FUNCTION, clear_caches, expression_parser

CATEGORIES = ["WORD", "DET", "LOC", "FAR", "DIR", "PART", "SCENE", "OF", "REL", "TERN", "ORD", "FROM", "AND"]


def _reference_parse(chunks) -> Parsed:
    """The chunks parsed directly (each token's value the chunk itself), no memo."""
    cats = [c.cat for c in chunks]
    for _ in range(len(chunks) + 1):
        parser = expression_parser().parse_interactive()
        failed = None
        for k, chunk in enumerate(chunks):
            if cats[k] != "WORD" and cats[k] not in parser.accepts():
                cats[k] = "WORD"
            tok = Token(cats[k], chunk.lower)
            tok.value = chunk.with_cat(cats[k])
            try:
                parser.feed_token(tok)
            except UnexpectedToken:
                failed = k
                break
        if failed is None:
            try:
                target, tails = parser.feed_token(Token("$END", ""))
            except UnexpectedToken:
                spatial = [k for k, cat in enumerate(cats) if cat != "WORD"]
                failed = spatial[-1] if spatial else len(cats) - 1
            else:
                return Parsed(target, tails, tuple(c.with_cat(cat) for c, cat in zip(chunks, cats, strict=True)))
        j = failed
        cats[j] = "WORD"
        while j > 0 and cats[j - 1] in _LEADING_FUNCTION:
            j -= 1
            cats[j] = "WORD"
    raise AssertionError("did not converge")


def _chunks(cats):
    return [Chunk(cat, [Tok(k, f"w{k}", f"w{k}", " ", start=3 * k)], ("value", k)) for k, cat in enumerate(cats)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(CATEGORIES + ["WORD"] * 6), min_size=1, max_size=14))  # runs of words too
def test_memoised_parse_equals_lark_parse(cats):
    chunks = _chunks(cats)
    expected = _reference_parse(chunks)
    assert parse(chunks) == expected  # memoised or not, depending on earlier examples
    clear_caches()
    assert parse(chunks) == expected
    others = _chunks(cats)
    assert parse(others) == _reference_parse(others)  # from the memo, other chunks


def test_a_reading_is_filled_in_with_each_expressions_chunks():
    clear_caches()
    first, second = _chunks(["DET", "DIR", "WORD"]), _chunks(["DET", "DIR", "WORD"])
    a, b = parse(first), parse(second)
    assert a.target.words[0].toks[0] is first[2].toks[0]
    assert b.target.words[0].toks[0] is second[2].toks[0]
    assert [c.cat for c in b.chunks] == ["DET", "DIR", "WORD"]


# What grammar/expression/parser.py assumes of Lark's public interface (``parse_interactive``):
# each fails if a Lark release within the pinned range changes it.

def test_lark_interactive_parser_accepts_only_terminals_it_will_shift():
    parser = expression_parser().parse_interactive()
    parser.feed_token(Token("WORD", 0))
    accepted = parser.accepts()
    assert {"WORD", "REL", "TERN", "LOC", "DIR", "$END"} <= accepted
    assert "OF" not in accepted and "SCENE" not in accepted
    assert set(parser.choices()) >= accepted - {"$END"}  # choices: every terminal with an action
    before = parser.choices()
    parser.accepts()  # asking changes nothing
    assert parser.choices() == before


def test_lark_feed_token_raises_unexpected_token_and_end_returns_the_transformed_result():
    parser = expression_parser().parse_interactive()
    parser.feed_token(Token("WORD", 0))
    try:
        parser.copy().feed_token(Token("OF", 1))
    except UnexpectedToken:
        pass
    else:
        raise AssertionError("OF after a word must be refused")
    parser.feed_token(Token("REL", 1))
    parser.feed_token(Token("WORD", 2))
    target, tails = parser.feed_token(Token("$END", ""))  # the start rule's transformer result
    assert target.words == (0,) and tails[0].kind == "relation" and tails[0].relation == 1
    assert tails[0].landmark.words == (2,)


def test_lark_choices_name_a_shift_with_the_shift_action_the_compiler_imports():
    from lark.parsers.lalr_analysis import Shift

    parser = expression_parser().parse_interactive()
    for cat in ("DET", "DIR", "WORD"):
        shifts = {t for t, (action, _) in parser.choices().items() if action is Shift and t.isupper()}
        assert shifts and shifts <= parser.accepts()  # a shift is accepted with nothing to follow
        parser.feed_token(Token(cat, 0))
