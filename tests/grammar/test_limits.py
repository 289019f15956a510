"""Stated limits answered with the project's errors, never RecursionError or a failed print."""

from __future__ import annotations

import pytest

from grammar import CompileError, Find, Program, ProgramSyntaxError, Relate, compile_expression, parse_program
from grammar.ast import MAX_DEPTH, depth
from grammar.errors import ProgramTooDeep
from grammar.expression import MAX_CHARS
from primitives import ReclipError


def _nested_program(levels: int) -> str:
    return 'relate(find("a"), left_of, ' * levels + 'find("b")' + ")" * levels


def _nested_node(levels: int):
    node = Find("b")
    for _ in range(levels):
        node = Relate(Find("a"), "left_of", node)
    return node


REFUSED = [
    # (what, call, error type, words the message must hold)
    ("parse 500 nested relate", lambda: parse_program(_nested_program(500)),
     ProgramSyntaxError, ["501 nodes deep", f"limit is {MAX_DEPTH}"]),
    ("parse a lone surrogate escape", lambda: parse_program('find("\\ud800")'),
     ProgramSyntaxError, ["lone surrogate", "column 6"]),
    ("parse a lone surrogate as head", lambda: parse_program('find("cup", head="\\udfff")'),
     ProgramSyntaxError, ["lone surrogate"]),
    ("compile then print 493 relations", lambda: str(compile_expression("the star " + "left of the circle " * 493)),
     CompileError, ["nests too deeply", f"limit is {MAX_DEPTH}"]),
    ("compile 600 relative clauses",
     lambda: compile_expression("the star " + "left of the circle that is " * 600 + "red"),
     CompileError, ["nests too deeply", f"limit is {MAX_DEPTH}"]),
    ("compile over the size limit", lambda: compile_expression("cup " * 5001),
     CompileError, ["20,004 characters", f"limit is {MAX_CHARS:,}"]),
    ("compile a lone surrogate", lambda: compile_expression("the cup \ud800 on the left"),
     CompileError, ["lone surrogate"]),
    ("print a hand-built deep program", lambda: str(Program(_nested_node(MAX_DEPTH))),
     ProgramTooDeep, [f"{MAX_DEPTH + 1} nodes deep", f"limit is {MAX_DEPTH}"]),
]


@pytest.mark.parametrize("what, call, error, words", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_with_a_clear_project_error(what, call, error, words):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, ReclipError)
    for w in words:
        assert w in str(info.value)


ACCEPTED = [
    ("parse at the limit", lambda: parse_program(_nested_program(MAX_DEPTH - 1)), MAX_DEPTH),
    ("print at the limit", lambda: parse_program(str(Program(_nested_node(MAX_DEPTH - 1)))), MAX_DEPTH),
    ("compile 40 relations", lambda: compile_expression("the star " + "left of the circle " * 40), 42),
    ("a surrogate pair is a character", lambda: parse_program('find("\\ud83d\\ude00")'), 1),
]


@pytest.mark.parametrize("what, call, levels", ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_up_to_the_limit_is_accepted(what, call, levels):
    program = call()
    assert depth(program.root) == levels
    assert parse_program(str(program)) == program
