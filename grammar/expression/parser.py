"""Stage 5, parse: the LALR grammar ``expression.lark`` over the categorised chunks.

The parser is fed one token per chunk, its category, through Lark's public interactive
parser (``Lark.parse_interactive``: ``feed_token``, ``choices``, ``accepts``), and a spatial
chunk the parser cannot take where it stands is fed as a plain ``WORD``. Should even a word not fit, the parse is retried with that
chunk and the function words before it read as words, so every expression parses. The
tree is turned into Phrase/Tail records while it is built (Lark's ``transformer=``
option), so there is no second pass over a tree. The grammar sees only categories, so
a category sequence's reading is memoised and filled in with each expression's chunks.
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
from lark.parsers.lalr_analysis import Shift  # what choices() names a shift: the one name used from outside Lark's public API (tested)

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


class _Tables(Lexer):
    """Lark needs a lexer class to build the LALR tables; the compiler feeds the parser
    itself (``_attempt``), one category per chunk."""

    def __init__(self, lexer_conf=None):
        pass

    def lex(self, *args):
        raise NotImplementedError("the compiler feeds expression.lark itself: use parse()")


@lru_cache(maxsize=1)
def expression_parser() -> Lark:
    """The LALR tables of expression.lark, with callbacks building Phrase/Tail records."""
    text = resources.files("grammar.expression").joinpath("expression.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer=_Tables, transformer=_ToIR())


def parse(chunks: Sequence[Chunk]) -> Parsed:
    """Parse the chunks; a spatial chunk that does not fit where it stands is read as a
    plain word (with the function words just before it).

    The grammar sees categories, never words, so the reading of a category sequence is
    worked out once (``_reading``, memoised) with positions in place of chunks, and filled
    in with these chunks. The grammar takes WORD only repeated (``WORD*``, ``WORD+``), where
    a run of words leaves the parser in the state one word does, so each run is one position
    of the memo's key (fewer distinct keys: 114 instead of 376 on the dev file)."""
    key: list[str] = []
    groups: list[list[int]] = []  # key position -> the chunks it stands for
    for k, chunk in enumerate(chunks):
        if chunk.cat == "WORD" and key and key[-1] == "WORD":
            groups[-1].append(k)
        else:
            key.append(chunk.cat)
            groups.append([k])
    cats, target, tails = _reading(tuple(key))
    read = list(chunks)
    for cat, group in zip(cats, groups):
        if cat != read[group[0]].cat:
            for k in group:
                read[k] = read[k].with_cat(cat)
    fill = _Filler(tuple(read), groups)
    return Parsed(None if target is None else fill.phrase(target), tuple([fill.tail(t) for t in tails]), fill.read)


class _Filler:
    """A reading's positions -> this expression's chunks (a run of words expands to all of them)."""

    __slots__ = ("read", "groups")

    def __init__(self, read: tuple[Chunk, ...], groups: list[list[int]]):
        self.read, self.groups = read, groups

    def words(self, positions: tuple) -> tuple[Chunk, ...]:
        read, groups = self.read, self.groups
        return tuple([read[k] for p in positions for k in groups[p]])

    def one(self, position) -> Chunk:
        return self.read[self.groups[position][0]]

    def phrase(self, phrase: Phrase) -> Phrase:
        pre = phrase.pre
        if pre == _NO_PRE:
            return Phrase(self.words(phrase.words), _NO_PRE)
        ordinal = None if pre.ordinal is None else self.one(pre.ordinal)
        return Phrase(self.words(phrase.words), Pre(ordinal, tuple([self.one(p) for p in pre.dirs])))

    def tail(self, tail: Tail) -> Tail:
        return Tail(tail.kind, tuple([self.one(p) for p in tail.dirs]),
                    None if tail.relation is None else self.one(tail.relation),
                    None if tail.landmark is None else self.phrase(tail.landmark),
                    self.words(tail.words), tail.attach)


_NO_PRE = Pre()  # immutable: every phrase without an ordinal or directions in front shares it


@lru_cache(maxsize=4096)
def _reading(cats: tuple[str, ...]) -> tuple[tuple[str, ...], Phrase | None, tuple[Tail, ...]]:
    """How the grammar reads a category sequence: the category each chunk ends up read as,
    and the referent's phrase and the tails, their chunks given as indices. A spatial
    category the parser has no action for where it stands is read as ``WORD``; should even
    a word not fit, the parse is retried with that chunk and the function words before it
    read as words. Each retry parses the whole sequence again, so after ``MAX_RETRIES``
    (dev expressions need at most 2) every chunk is read as a word: the time stays linear in
    the text's length. Raises RuntimeError only if all-words does not parse (the grammar
    makes that unreachable)."""
    reading = list(cats)
    for _ in range(min(len(reading), MAX_RETRIES) + 1):
        result = _attempt(reading)
        if not isinstance(result, int):
            target, tails = result
            return tuple(reading), target, tails
        j = result
        reading[j] = "WORD"
        while j > 0 and reading[j - 1] in _LEADING_FUNCTION:
            j -= 1
            reading[j] = "WORD"
    reading = ["WORD"] * len(cats)
    result = _attempt(reading)
    if isinstance(result, int):
        raise RuntimeError("expression grammar did not converge")  # unreachable: all-WORD parses
    return tuple(reading), result[0], result[1]


MAX_RETRIES = 32


def _attempt(cats: list[str]):
    """One LALR pass over the categories, through Lark's public interactive parser (one
    token per chunk, its value the chunk's index): the parse result, or the index of the
    chunk to read as a word. A spatial category the parser would not accept where it stands
    (``accepts()``: after the reductions it implies, LALR tables may reduce on a lookahead
    they then cannot shift) is fed as a word."""
    parser = expression_parser().parse_interactive()
    node = _ACCEPTS
    for k, cat in enumerate(cats):
        if cat != "WORD" and not _shifts(parser, node, cat):
            cat = cats[k] = "WORD"
        try:
            parser.feed_token(Token(cat, k))
        except UnexpectedToken:
            return k
        node = _child(node, cat)
    try:
        return parser.feed_token(Token("$END", ""))
    except UnexpectedToken:
        spatial = [k for k, cat in enumerate(cats) if cat != "WORD"]
        return spatial[-1] if spatial else len(cats) - 1


# What the parser accepts after each sequence of categories fed to it (LALR is deterministic,
# so the sequence decides it): a trie walked in step with the feeding, category -> the node
# after it, key None -> the terminals accepted there (``accepts()`` copies the parser once per
# terminal: the costliest call of a parse, asked again by every retry and every expression
# that starts alike). Forgotten when it grows past _MAX_NODES.
_ACCEPTS: dict = {}
_MAX_NODES = 50_000
_nodes = [0]


def _shifts(parser, node: dict, cat: str) -> bool:
    """Would the parser, where it stands, shift ``cat``? No action: no; a shift: yes; a
    reduction: ask ``accepts()`` (LALR tables may reduce on a lookahead they then cannot shift)."""
    action = parser.choices().get(cat)
    if action is None:
        return False
    return action[0] is Shift or cat in _accepted(node, parser)


def _accepted(node: dict, parser) -> frozenset[str]:
    accepted = node.get(None)
    if accepted is None:
        accepted = node[None] = frozenset(parser.accepts())
    return accepted


def _child(node: dict, cat: str) -> dict:
    child = node.get(cat)
    if child is None:
        if _nodes[0] >= _MAX_NODES:
            _ACCEPTS.clear()  # a walk under way keeps its own branch
            _nodes[0] = 0
        child = node[cat] = {}
        _nodes[0] += 1
    return child


def clear_caches() -> None:
    """Forget the memoised readings (benchmarks time a cold pass)."""
    _reading.cache_clear()
    _ACCEPTS.clear()
    _nodes[0] = 0
