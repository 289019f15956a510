"""The interpreter: Program x ProposalGraph x Scorer -> Result, with a Trace.

A small recursive evaluator (one function per node type, dispatched by ``NODE_FUNCTIONS``) following DESIGN.md's
semantics; every node's distribution is appended to the trace as it is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import numpy as np
from PIL import Image

from grammar.ast import And, Find, Node, Ordinal, Program, Relate, Superlative, walk
from interpreter.graph import ProposalGraph
from interpreter.proposals import FindText, Scorer, ScorerError
from interpreter.trace import Trace, TraceStep
from primitives import ReclipError

# Ordinal membership: a proposal counts as "an x" by a smooth step of its
# probability relative to the most likely x (0.5 -> half a member, width 0.1).
ORDINAL_MEMBER_MID = 0.5
ORDINAL_MEMBER_WIDTH = 0.1
# Ordinal position: weight exp(-(rank - (n-1))^2 / (2 sigma^2)); sigma 0.3 makes a
# neighbour in the order ~250x less likely than the exact position.
ORDINAL_SIGMA = 0.3


@dataclass
class Result:
    """What a program chose: ``index`` into the proposals, its ``box``, the final
    distribution ``scores``, the ``program`` and its ``trace``."""

    index: int
    box: list[float]
    scores: np.ndarray
    program: Program
    trace: Trace
    graph: ProposalGraph

    @property
    def probability(self) -> float:
        return float(self.scores[self.index])


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


def find_texts(root: Node) -> list[FindText]:
    """The distinct (text, head) pairs of a program's find nodes, in program order."""
    seen: dict[tuple[str, str | None], FindText] = {}
    for node in walk(root):
        if isinstance(node, Find):
            seen.setdefault((node.text, node.head), FindText(node.text, node.head))
    return list(seen.values())


def score_texts(scorer: Scorer, image: Image.Image, graph: ProposalGraph,
                texts: Sequence[FindText]) -> np.ndarray:
    """One scorer call for all texts, with its output checked against the contract."""
    logits = np.asarray(scorer.score(image, graph.proposals, list(texts)), dtype=np.float64)
    want = (len(texts), len(graph))
    if logits.shape != want:
        raise ScorerError(
            f"scorer {type(scorer).__name__} returned logits of shape {logits.shape}; "
            f"expected (texts, proposals) = {want}"
        )
    if not np.all(np.isfinite(logits)):
        bad = sorted({str(texts[i]) for i in np.argwhere(~np.isfinite(logits))[:, 0]})
        raise ScorerError(
            f"scorer {type(scorer).__name__} returned NaN or infinite logits for {bad}"
        )
    return logits


class _Outcome(NamedTuple):
    """What a node function computes; ``_Evaluator.eval`` makes it a TraceStep once."""

    distribution: np.ndarray
    matrix: np.ndarray | None = None
    fallback: str | None = None
    logits: np.ndarray | None = None


class _Evaluator:
    def __init__(self, graph: ProposalGraph, logits: dict[tuple[str, str | None], np.ndarray]):
        self.graph = graph
        self.logits = logits
        self.trace = Trace()

    def eval(self, node: Node, path: tuple[int, ...]) -> TraceStep:
        children = [self.eval(c, path + (k,)) for k, c in enumerate(node.children)]
        evaluate = NODE_FUNCTIONS.get(type(node))
        if evaluate is None:
            raise ReclipError(f"the interpreter cannot evaluate a {type(node).__name__} node")
        out = evaluate(self, node, *[c.distribution for c in children])
        step = TraceStep(len(self.trace), node, path, out.distribution, tuple(c.step for c in children),
                         logits=out.logits, matrix=out.matrix, fallback=out.fallback)
        self.trace.steps.append(step)
        return step


def _find(ev: _Evaluator, node: Find) -> _Outcome:
    logits = ev.logits[(node.text, node.head)]
    return _Outcome(softmax(logits), logits=logits)


def _relate(ev: _Evaluator, node: Relate, x: np.ndarray, *landmarks: np.ndarray) -> _Outcome:
    m = ev.graph.relation_matrix(node.relation)
    if len(landmarks) != m.ndim - 1:
        raise ReclipError(
            f"relation {node.relation!r} takes {m.ndim - 1} landmark(s), got {len(landmarks)}"
        )
    support = m @ landmarks[0] if m.ndim == 2 else np.einsum("ijk,j,k->i", m, *landmarks)
    return _renormalise(x, x * support, m)


def _superlative(ev: _Evaluator, node: Superlative, x: np.ndarray) -> _Outcome:
    s = ev.graph.superlative_matrix(node.kind, x)
    return _renormalise(x, x * (s @ x), s)


def _ordinal(ev: _Evaluator, node: Ordinal, x: np.ndarray) -> _Outcome:
    if node.n < 1:
        raise ReclipError(f"ordinal position must be 1 or more, got {node.n}")
    s = ev.graph.superlative_matrix(node.kind, x)
    member = 1.0 / (1.0 + np.exp(-(x / x.max() - ORDINAL_MEMBER_MID) / ORDINAL_MEMBER_WIDTH))
    ahead = s.T @ member            # expected number of x's more <kind> than i
    position = np.exp(-((ahead - (node.n - 1)) ** 2) / (2 * ORDINAL_SIGMA**2))
    return _renormalise(x, x * position, s)


def _and(ev: _Evaluator, node: And, *args: np.ndarray) -> _Outcome:
    return _renormalise(args[0], np.prod(np.stack(args), axis=0), None)


def _renormalise(fallback: np.ndarray, p: np.ndarray, matrix: np.ndarray | None) -> _Outcome:
    total = p.sum()
    if not total > 0 or not np.isfinite(total):
        reason = "no proposal satisfies it; returned its first input unchanged"
        return _Outcome(fallback.copy(), matrix, reason)
    return _Outcome(p / total, matrix)


# The interpreter's one dispatch: node type -> the function computing its distribution.
NODE_FUNCTIONS: dict[type[Node], Callable[..., _Outcome]] = {
    Find: _find, Relate: _relate, Superlative: _superlative, Ordinal: _ordinal, And: _and,
}


def execute(program: Program | Node, graph: ProposalGraph, scorer: Scorer,
            image: Image.Image) -> Result:
    """Run a program over a proposal graph; all find texts go to the scorer in one call."""
    if not isinstance(program, Program):
        program = Program(program)
    texts = find_texts(program.root)
    logits = score_texts(scorer, image, graph, texts)
    ev = _Evaluator(graph, {(str(t), t.head): row for t, row in zip(texts, logits)})
    final = ev.eval(program.root, ())
    index = int(np.argmax(final.distribution))
    return Result(index, list(graph.proposals[index].box), final.distribution, program, ev.trace, graph)
