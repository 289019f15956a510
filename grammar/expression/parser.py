"""Stage 5, parse: the LALR grammar ``expression.lark`` over the categorised chunks.

``ChunkLexer`` is Lark's lexer for this grammar: it hands the parser one token per chunk,
and a spatial chunk the parser cannot take where it stands (asked of the parse table,
as Lark's contextual lexer does) is handed over as a plain ``WORD``. Should even a word
not fit, the parse is retried with that chunk and the function words before it read as
words, so every expression parses. The tree is turned into Phrase/Tail records while
it is built (Lark's ``transformer=`` option), so there is no second pass over a tree.
LALR was chosen by measurement (``benchmarks/bench_compile.py``: same grammar, same
dev token streams; Earley is two orders of magnitude slower).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Sequence

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedToken
from lark.lexer import Lexer
from lark.parsers.lalr_analysis import Shift

from grammar.expression.lexer import Chunk

# Categories read as plain words together with a spatial chunk that does not fit.
_LEADING_FUNCTION = ("DET", "LOC", "FAR", "FROM", "ORD", "DIR", "PART", "AND")


@dataclass(frozen=True)
class Pre:
    """The ordinal and directions written in front of a noun phrase."""

    ordinal: Chunk | None = None
    dirs: tuple[Chunk, ...] = ()


@dataclass(frozen=True)
class Phrase:
    """A noun phrase: its words and the directions/ordinal written in front of it."""

    words: tuple[Chunk, ...]
    pre: Pre = field(default_factory=Pre)


@dataclass(frozen=True)
class Tail:
    """What follows the referent's phrase: a place, a counting direction or a relation."""

    kind: str  # "place", "from", "relation", "between"
    dirs: tuple[Chunk, ...] = ()
    relation: Chunk | None = None
    landmark: Phrase | None = None
    words: tuple[Chunk, ...] = ()  # modifiers that continue the target
    attach: int = -1  # -1: the referent; k >= 0: the landmark of tail k


@dataclass(frozen=True)
class Parsed:
    """The parse stage's result: the referent's phrase (None when the expression opens
    with its structure), the tails after it, and the chunks as the grammar read them."""

    target: Phrase | None
    tails: tuple[Tail, ...]
    chunks: tuple[Chunk, ...]


class _ToIR(Transformer):
    """Parse tree -> Phrase/Tail records; each token's ``value`` is its chunk."""

    @staticmethod
    def _words(items) -> tuple[Chunk, ...]:
        return tuple(t.value for t in items if isinstance(t, Token) and t.type == "WORD")

    @staticmethod
    def _dirs(items) -> tuple[Chunk, ...]:
        out: list[Chunk] = []
        for t in items:
            if isinstance(t, tuple):
                out.extend(t)
            elif isinstance(t, Pre):
                out.extend(t.dirs)
        return tuple(out)

    def expression(self, items):
        return items[0], tuple(items[1:])

    def headless(self, items):
        return None, tuple(items)

    def target(self, items):
        pre = next((t for t in items if isinstance(t, Pre)), Pre())
        return Phrase(self._words(items), pre)

    landmark = target

    def pre(self, items):
        ordinal = next((t.value for t in items if isinstance(t, Token) and t.type == "ORD"), None)
        return Pre(ordinal, self._dirs(items))

    def directions(self, items):
        return tuple(t.value for t in items if t.type == "DIR")

    def place(self, items):
        return self._dirs(items)

    def place_tail(self, items):
        return Tail("place", dirs=self._dirs(items), words=self._words(items))

    def from_direction(self, items):
        return Tail("from", dirs=self._dirs(items), words=self._words(items))

    def direction_relation(self, items):
        return Tail("relation", dirs=self._dirs(items), landmark=items[-1])

    def relation(self, items):
        return Tail("relation", relation=items[0].value, landmark=items[1])

    def between(self, items):
        return Tail("between", relation=items[0].value, landmark=items[1])


class _Reading:
    """One attempt's input: the chunks, the category each is read as, and where the lexer is."""

    __slots__ = ("chunks", "cats", "at")

    def __init__(self, chunks: Sequence[Chunk], cats: list[str]):
        self.chunks, self.cats, self.at = chunks, cats, -1


class ChunkLexer(Lexer):
    """Lark lexer over already categorised chunks: one token per chunk, its value the chunk.

    A spatial category the parser has no action for in its current state is read as
    ``WORD`` (recorded in the reading, so a retry keeps it)."""

    __future_interface__ = 2

    def __init__(self, lexer_conf=None):
        pass

    def lex(self, lexer_state, parser_state):
        reading: _Reading = lexer_state.text
        chunks, cats = reading.chunks, reading.cats
        states = parser_state.parse_conf.states
        stack = parser_state.state_stack
        for k, chunk in enumerate(chunks):
            reading.at = k
            cat = cats[k]
            if cat != "WORD" and not _shifts(states, stack, cat):
                cat = cats[k] = "WORD"
            tok = Token(cat, chunk.lower)
            tok.value = chunk if cat == chunk.cat else chunk.with_cat(cat)
            yield tok


def _shifts(states, stack: list, terminal: str) -> bool:
    """Would the parser, in this state, shift ``terminal`` (after the reductions it implies)?
    LALR tables may reduce on a lookahead that then cannot be shifted, so the reductions
    are followed on a copy of the state stack."""
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


@lru_cache(maxsize=1)
def expression_parser() -> Lark:
    """The LALR parser of expression.lark, driven by ChunkLexer, building Phrase/Tail records."""
    text = resources.files("grammar.expression").joinpath("expression.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer=ChunkLexer, transformer=_ToIR())


def parse(chunks: Sequence[Chunk]) -> Parsed:
    """Parse the chunks; a spatial chunk that does not fit where it stands is read as a
    plain word (with the function words just before it). Raises lark's errors only if
    even all-words does not parse (the grammar makes that unreachable)."""
    cats = [c.cat for c in chunks]
    parser = expression_parser()
    for _ in range(len(chunks) + 1):
        reading = _Reading(chunks, cats)
        try:
            target, tails = parser.parse(reading)
        except UnexpectedToken as exc:
            j = _failed_at(reading, exc)
            cats[j] = "WORD"
            while j > 0 and cats[j - 1] in _LEADING_FUNCTION:
                j -= 1
                cats[j] = "WORD"
            continue
        read = tuple(c.with_cat(cat) for c, cat in zip(chunks, cats))
        return Parsed(target, tails, read)
    raise RuntimeError("expression grammar did not converge")  # unreachable: all-WORD parses


def _failed_at(reading: _Reading, exc: UnexpectedToken) -> int:
    """The chunk to read as a word: where the parse stopped, or at the end the last spatial one."""
    if exc.token.type != "$END":
        return reading.at
    spatial = [k for k, cat in enumerate(reading.cats) if cat != "WORD"]
    return spatial[-1] if spatial else len(reading.cats) - 1
