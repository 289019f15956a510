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
from interpreter.proposals import FindText, Scorer, ScorerError, check_masks
from interpreter.trace import Trace, TraceStep
from primitives import ReclipError
from primitives.support import mass_above, mass_below

# Ordinal membership: a proposal counts as "an x" by a smooth step of its
# probability relative to the most likely x (0.5 -> half a member, width 0.1).
ORDINAL_MEMBER_MID = 0.5
ORDINAL_MEMBER_WIDTH = 0.1
# Ordinal position: weight exp(-(rank - (n-1))^2 / (2 sigma^2)); sigma 0.3 makes a
# neighbour in the order ~250x less likely than the exact position.
ORDINAL_SIGMA = 0.3
# An ordinal asking for position n among fewer than n - ORDINAL_COUNT_SLACK candidates
# (counted softly by membership) falls back instead of crowning a non-candidate.
ORDINAL_COUNT_SLACK = 0.5
# Superlative and ordinal steps record their comparative matrix in the trace up to
# this many proposals (a page of 300 proposals still shows its rows).
TRACE_MATRIX_MAX = 300


@dataclass
class Result:
    """What a program chose: ``index`` into the proposals, its ``box`` (and ``mask``), the
    final distribution ``scores``, the ``program`` and its ``trace``."""

    index: int
    box: list[float]
    scores: np.ndarray
    program: Program
    trace: Trace
    graph: ProposalGraph

    @property
    def probability(self) -> float:
        return float(self.scores[self.index])

    @property
    def mask(self) -> np.ndarray | None:
        """The chosen proposal's mask (HxW bool), None when the proposals have no masks."""
        return self.graph.proposals[self.index].mask


def softmax(logits: np.ndarray) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


def find_texts(*roots: Node) -> list[FindText]:
    """The distinct (text, head) pairs of the programs' find nodes, in program order."""
    seen: dict[tuple[str, str | None], FindText] = {}
    for node in (n for root in roots for n in walk(root)):
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
    wanted = ev.graph.registry.get(node.relation, ("relation", "ternary")).landmarks
    if len(landmarks) != wanted:
        raise ReclipError(
            f"relation {node.relation!r} takes {wanted} landmark(s), got {len(landmarks)}"
        )
    support, m, _ = ev.graph.relation_support(node.relation, *landmarks)
    return _renormalise(x, x * support, m)


def _superlative(ev: _Evaluator, node: Superlative, x: np.ndarray) -> _Outcome:
    key = ev.graph.superlative_key(node.kind, x)
    return _renormalise(x, x * mass_below(key, x), _comparative(key))


def _ordinal(ev: _Evaluator, node: Ordinal, x: np.ndarray) -> _Outcome:
    if node.n < 1:
        raise ReclipError(f"ordinal position must be 1 or more, got {node.n}")
    key = ev.graph.superlative_key(node.kind, x)
    member = 1.0 / (1.0 + np.exp(-(x / x.max() - ORDINAL_MEMBER_MID) / ORDINAL_MEMBER_WIDTH))
    count = float(member.sum())     # how many x's there are, softly
    if node.n > count + ORDINAL_COUNT_SLACK:
        reason = (f"asks for number {node.n} but there are only about {count:.0f} candidates; "
                  "returned its input unchanged")
        return _Outcome(x.copy(), _comparative(key), reason)
    ahead = mass_above(key, member)  # expected number of x's more <kind> than i
    position = np.exp(-((ahead - (node.n - 1)) ** 2) / (2 * ORDINAL_SIGMA**2))
    return _renormalise(x, x * position, _comparative(key))


def _comparative(key: np.ndarray) -> np.ndarray | None:
    """The comparative matrix S[i, j] = key_i > key_j for the trace, up to TRACE_MATRIX_MAX
    proposals (the distributions never need it: primitives.support sorts instead)."""
    if len(key) > TRACE_MATRIX_MAX:
        return None
    m = (key[:, None] > key[None, :]).astype(np.float64)
    np.fill_diagonal(m, 0.0)
    return m


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
    return execute_many([program], graph, scorer, image)[0]


def execute_many(programs: Sequence[Program | Node], graph: ProposalGraph, scorer: Scorer,
                 image: Image.Image) -> list[Result]:
    """Run programs over one proposal graph, in order: the find texts of all of them go to
    the scorer in one call, and relation matrices are computed once for all."""
    programs = [p if isinstance(p, Program) else Program(p) for p in programs]
    if image is not None:  # the synthetic gold check runs programs without pixels
        check_masks(graph.proposals, image.size)
    texts = find_texts(*(p.root for p in programs))
    logits = score_texts(scorer, image, graph, texts) if texts else np.zeros((0, len(graph)))
    table = {(str(t), t.head): row for t, row in zip(texts, logits)}
    return [_run(program, graph, table) for program in programs]


def _run(program: Program, graph: ProposalGraph, logits: dict[tuple[str, str | None], np.ndarray]) -> Result:
    ev = _Evaluator(graph, logits)
    final = ev.eval(program.root, ())
    index = int(np.argmax(final.distribution))
    return Result(index, list(graph.proposals[index].box), final.distribution, program, ev.trace, graph)
