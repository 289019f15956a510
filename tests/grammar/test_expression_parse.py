"""The parse stage's memoised reading of category sequences equals Lark's own parse of
the chunks (driven the way the compiler drove it before the memo: a Lark lexer class
over the chunks, a spatial chunk that does not fit read as a word, retries)."""

from __future__ import annotations

from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st
from lark import Lark, Token
from lark.exceptions import UnexpectedToken
from lark.lexer import Lexer
from lark.parsers.lalr_analysis import Shift

from grammar.expression import Chunk, Parsed, Tok, parse
from grammar.expression.parser import _LEADING_FUNCTION, _ToIR, clear_caches, expression_parser

CATEGORIES = ["WORD", "DET", "LOC", "FAR", "DIR", "PART", "SCENE", "OF", "REL", "TERN", "ORD", "FROM", "AND"]


class _Reading:
    def __init__(self, chunks, cats):
        self.chunks, self.cats, self.at = chunks, cats, -1


def _shifts(states, stack, terminal):
    stack = list(stack)
    while True:
        action = states[stack[-1]].get(terminal)
        if action is None:
            return False
        kind, arg = action
        if kind is Shift:
            return True
        if arg.expansion:
            del stack[-len(arg.expansion):]
        stack.append(states[stack[-1]][arg.origin.name][1])


class _ChunkLexer(Lexer):
    __future_interface__ = 2

    def __init__(self, lexer_conf=None):
        pass

    def lex(self, lexer_state, parser_state):
        reading = lexer_state.text
        states, stack = parser_state.parse_conf.states, parser_state.state_stack
        for k, chunk in enumerate(reading.chunks):
            reading.at = k
            cat = reading.cats[k]
            if cat != "WORD" and not _shifts(states, stack, cat):
                cat = reading.cats[k] = "WORD"
            tok = Token(cat, chunk.lower)
            tok.value = chunk if cat == chunk.cat else chunk.with_cat(cat)
            yield tok


@lru_cache(maxsize=1)
def _reference_parser() -> Lark:
    return Lark(expression_parser().source_grammar, parser="lalr", lexer=_ChunkLexer, transformer=_ToIR())


def _reference_parse(chunks) -> Parsed:
    parser = _reference_parser()
    cats = [c.cat for c in chunks]
    for _ in range(len(chunks) + 1):
        reading = _Reading(chunks, cats)
        try:
            target, tails = parser.parse(reading)
        except UnexpectedToken as exc:
            if exc.token.type != "$END":
                j = reading.at
            else:
                spatial = [k for k, cat in enumerate(cats) if cat != "WORD"]
                j = spatial[-1] if spatial else len(cats) - 1
            cats[j] = "WORD"
            while j > 0 and cats[j - 1] in _LEADING_FUNCTION:
                j -= 1
                cats[j] = "WORD"
            continue
        return Parsed(target, tails, tuple(c.with_cat(cat) for c, cat in zip(chunks, cats)))
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
