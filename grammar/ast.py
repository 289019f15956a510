"""The DSL's abstract syntax: five node types and the Program that holds a root.

Nodes are immutable values: equal when their fields are equal, hashable, and printed
by ``str()`` as canonical program text (double-quoted JSON strings, ", " between
arguments, no other whitespace) that ``parse_program`` reads back to an equal node.
A compiled node also records ``span``, the (start, end) characters of the words of
the expression it came from; it is not part of equality, hashing or printing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterator, Union

from grammar.errors import ProgramTooDeep


# Programs nest at most this many nodes deep (parser, printer and compiler all refuse deeper).
MAX_DEPTH = 200
Span = tuple[int, int]
_SPAN = dict(default=None, compare=False, repr=False)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class Find:
    """CLIP: which proposal is ``text``. ``head`` is the referent's head noun."""

    text: str
    head: str | None = None
    span: Span | None = field(**_SPAN)

    def __str__(self) -> str:
        if self.head is None:
            return f"find({_quote(self.text)})"
        return f"find({_quote(self.text)}, head={_quote(self.head)})"

    @property
    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True, init=False)
class Relate:
    """Proposals of ``target`` standing in ``relation`` to the landmark(s)."""

    target: "Node"
    relation: str
    landmarks: tuple["Node", ...]
    span: Span | None = field(**_SPAN)

    def __init__(self, target: "Node", relation: str, *landmarks: "Node", span: Span | None = None) -> None:
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "relation", relation)
        object.__setattr__(self, "landmarks", tuple(landmarks))
        object.__setattr__(self, "span", span)

    def __str__(self) -> str:
        args = ", ".join([str(self.target), self.relation, *map(str, self.landmarks)])
        return f"relate({args})"

    @property
    def children(self) -> tuple["Node", ...]:
        return (self.target, *self.landmarks)


@dataclass(frozen=True)
class Superlative:
    """The most ``kind`` (leftmost, largest, ...) of ``arg``."""

    kind: str
    arg: "Node"
    span: Span | None = field(**_SPAN)

    def __str__(self) -> str:
        return f"superlative({self.kind}, {self.arg})"

    @property
    def children(self) -> tuple["Node", ...]:
        return (self.arg,)


@dataclass(frozen=True)
class Ordinal:
    """The n-th (1-based) of ``arg`` along the order of superlative ``kind``."""

    n: int
    kind: str
    arg: "Node"
    span: Span | None = field(**_SPAN)

    def __str__(self) -> str:
        return f"ordinal({self.n}, {self.kind}, {self.arg})"

    @property
    def children(self) -> tuple["Node", ...]:
        return (self.arg,)


@dataclass(frozen=True, init=False)
class And:
    """Product of the arguments' distributions."""

    args: tuple["Node", ...]
    span: Span | None = field(**_SPAN)

    def __init__(self, *args: "Node", span: Span | None = None) -> None:
        object.__setattr__(self, "args", tuple(args))
        object.__setattr__(self, "span", span)

    def __str__(self) -> str:
        return f"and({', '.join(map(str, self.args))})"

    @property
    def children(self) -> tuple["Node", ...]:
        return self.args


Node = Union[Find, Relate, Superlative, Ordinal, And]
NODE_TYPES = (Find, Relate, Superlative, Ordinal, And)


def target_of(node: Node) -> Find:
    """The Find node naming the referent.

    Follow the referent through the tree: a relation's target, a superlative's or
    ordinal's argument, an ``and``'s last argument (a compiled root is
    ``and(find(<whole>), <structure>)``, and the structure names the referent).
    """
    while not isinstance(node, Find):
        if isinstance(node, Relate):
            node = node.target
        elif isinstance(node, (Superlative, Ordinal)):
            node = node.arg
        else:
            node = node.args[-1]
    return node


def depth(node: Node) -> int:
    """How many nodes deep the tree is (a lone find is 1), counted without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, d = stack.pop()
        if d > deepest:
            deepest = d
        children = node.children
        if children:  # a list, not a generator: the compiler measures every program it builds
            stack.extend([(c, d + 1) for c in children])
    return deepest


def too_deep_message(found: int) -> str:
    return f"program nests {found} nodes deep; the limit is {MAX_DEPTH}"


def walk(node: Node) -> Iterator[Node]:
    """Nodes in evaluation order: children before parents, left to right."""
    for child in node.children:
        yield from walk(child)
    yield node


@dataclass(frozen=True)
class Program:
    """A root node, plus what the compiler knew (not part of equality).

    ``source`` is the expression it was compiled from; ``notes`` say what the
    compiler could not structure ("no spatial structure found: ...").
    """

    root: Node
    source: str | None = field(default=None, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        found = depth(self.root)
        if found > MAX_DEPTH:  # the printer recurses once per level
            raise ProgramTooDeep(too_deep_message(found))
        return str(self.root)

    @property
    def target(self) -> Find:
        return target_of(self.root)

    @property
    def structured(self) -> bool:
        """False when the compiler found no spatial structure (a bare find)."""
        return not isinstance(self.root, Find)

    def nodes(self) -> list[Node]:
        return list(walk(self.root))
