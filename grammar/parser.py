"""Program text -> AST, with errors that show where and suggest what was meant.

The grammar (program.lark) is LALR(1); a Transformer whose methods carry the
grammar's alternative names builds the nodes. Names are checked against the
primitives registry here, so an unknown relation is an error with a position.
"""

from __future__ import annotations

import difflib
import json
from functools import lru_cache
from importlib import resources

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from lark import Tree

from grammar.ast import MAX_DEPTH, And, Find, Node, Ordinal, Program, Relate, Superlative, too_deep_message
from grammar.errors import ProgramSyntaxError
from primitives import REGISTRY, Registry
from foundation.errors import RegistryError

_CALLS = ("find", "relate", "superlative", "ordinal", "and")
_READABLE = {
    "HEAD": 'head="..."', "COMMA": "','", "RPAR": "')'", "LPAR": "'('", "EQUAL": "'='",
    "STRING": "a quoted string", "NAME": "a primitive name", "INT": "a whole number",
    "FIND": "find(...)", "RELATE": "relate(...)", "SUPERLATIVE": "superlative(...)",
    "ORDINAL": "ordinal(...)", "AND": "and(...)",
}


class _NameError(Exception):
    def __init__(self, problem: str, token: Token, suggestions: list[str]):
        self.problem, self.token, self.suggestions = problem, token, suggestions


@lru_cache(maxsize=1)
def _lark() -> Lark:
    text = resources.files("grammar").joinpath("program.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", maybe_placeholders=False)


@v_args(inline=True)
class _ToAst(Transformer):
    def __init__(self, registry: Registry):
        super().__init__()
        self.registry = registry

    def _name(self, token: Token, kinds: tuple[str, ...]) -> str:
        name = str(token)
        try:
            self.registry.get(name, kinds)
        except RegistryError:
            what = "superlative" if kinds == ("superlative",) else "relation"
            raise _NameError(f"unknown {what} {name!r}", token, self.registry.closest(name, kinds)) from None
        return name

    def find(self, text: Token, head: Token | None = None) -> Find:
        return Find(_string(text), None if head is None else _string(head))

    def relate(self, target: Node, relation: Token, *landmarks: Node) -> Relate:
        name = self._name(relation, ("relation", "ternary"))
        wanted = self.registry.get(name).landmarks
        if len(landmarks) != wanted:
            raise _NameError(
                f"wrong number of arguments: relation {name!r} takes {wanted} "
                f"landmark{'s' if wanted != 1 else ''}, got {len(landmarks)}",
                relation,
                [],
            )
        return Relate(target, name, *landmarks)

    def superlative(self, kind: Token, arg: Node) -> Superlative:
        return Superlative(self._name(kind, ("superlative",)), arg)

    def ordinal(self, n: Token, kind: Token, arg: Node) -> Ordinal:
        if int(n) < 1:
            raise _NameError("ordinal position must be 1 or more", n, [])
        return Ordinal(int(n), self._name(kind, ("superlative",)), arg)

    def and_(self, *args: Node) -> And:
        return And(*args)


def parse_program(text: str, registry: Registry = REGISTRY) -> Program:
    """Parse program text (whitespace, newlines and # comments allowed) into a Program."""
    if not isinstance(text, str):
        raise ProgramSyntaxError(f"program must be text, got {type(text).__name__}", "", 0)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, text) from None
    too_deep = _first_too_deep(tree)
    if too_deep is not None:
        raise ProgramSyntaxError(too_deep_message(too_deep[0]), text, too_deep[1])
    try:
        return Program(_ToAst(registry).transform(tree))
    except VisitError as exc:
        err = exc.orig_exc
        if isinstance(err, _NameError):
            raise ProgramSyntaxError(err.problem, text, err.token.start_pos, err.suggestions) from None
        raise


def _string(token: Token) -> str:
    """A STRING token's text; a lone surrogate escape ("\\ud800") is no character, and
    nothing could print or encode it later, so it is refused here."""
    value = json.loads(token)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise _NameError("string holds a lone surrogate escape (\\ud800-\\udfff), which is not a character",
                         token, []) from None
    return value


def _first_too_deep(tree: Tree) -> tuple[int, int] | None:
    """(depth, text offset) of the whole tree if it nests deeper than MAX_DEPTH, else None;
    walked without recursion, since the transformer that follows recurses per level."""
    deepest, where, stack = 0, 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        if d == MAX_DEPTH + 1 and deepest <= MAX_DEPTH:  # point at the first node past the limit
            where = next((c.start_pos for c in node.children if isinstance(c, Token)), where)
        deepest = max(deepest, d)
        stack.extend((c, d + 1) for c in node.children if isinstance(c, Tree))
    return (deepest, where) if deepest > MAX_DEPTH else None


def _syntax_error(exc: UnexpectedInput, text: str) -> ProgramSyntaxError:
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    if isinstance(exc, UnexpectedCharacters) and text[pos] == '"':
        return ProgramSyntaxError("unclosed string (or a bad escape in it)", text, pos)
    if isinstance(exc, UnexpectedCharacters):
        return ProgramSyntaxError(f"unexpected character {text[pos]!r}", text, pos)
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        if next(iter(_lark().lex(text)), None) is None:  # only whitespace and comments
            return ProgramSyntaxError("empty program: expected find(...), relate(...), ...", text, 0)
        return ProgramSyntaxError("program ends early: a ')' or an argument is missing", text, len(text))
    token = exc.token
    call = _enclosing_call(text, pos)
    if token.type == "NAME" and text[token.end_pos:].lstrip().startswith("("):
        near = difflib.get_close_matches(token.value, _CALLS, n=3, cutoff=0.5)
        return ProgramSyntaxError(
            f"unknown call {token.value!r}: programs are built from {', '.join(_CALLS)}", text, pos, near
        )
    if call is None:
        return ProgramSyntaxError("extra text after the end of the program", text, pos)
    if call and token.type in ("COMMA", "RPAR"):
        return ProgramSyntaxError(f"wrong number of arguments to {call}(...)", text, pos)
    expected = " or ".join(sorted(_READABLE.get(t, t) for t in getattr(exc, "expected", ()))) or "something else"
    return ProgramSyntaxError(f"unexpected {token.value!r} in {call}(...): expected {expected}", text, pos)


def _enclosing_call(text: str, pos: int) -> str | None:
    """Name of the innermost call whose '(' is still open at pos (strings skipped)."""
    stack: list[str] = []
    i, in_string = 0, False
    while i < pos:
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "(":
            j = i
            while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "_"):
                j -= 1
            stack.append(text[j:i])
        elif ch == ")" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None
