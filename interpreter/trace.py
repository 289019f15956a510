"""The trace: every node's distribution, recorded as a by-product of evaluation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from grammar.ast import Node
from grammar.forms import node_label


@dataclass
class TraceStep:
    """One evaluated node.

    ``path`` locates the node in the tree (child indices from the root; the root is
    ``()``); ``inputs`` are the step numbers of its children; ``matrix`` is the
    relation or comparative matrix used (None where none was built: a ternary relation
    over more than LANDMARK_CAP proposals, a superlative or ordinal over more than
    TRACE_MATRIX_MAX); ``fallback`` says why the node returned its input unchanged (no
    proposal satisfied the relation, an ordinal position beyond the candidates), else None.
    """

    step: int
    node: Node
    path: tuple[int, ...]
    distribution: np.ndarray
    inputs: tuple[int, ...] = ()
    logits: np.ndarray | None = None
    matrix: np.ndarray | None = None
    fallback: str | None = None

    @property
    def kind(self) -> str:
        return type(self.node).__name__.lower()

    @property
    def label(self) -> str:
        """The node without its children (``node_label``): find("cup"), relate(left_of), ..."""
        return node_label(self.node)

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "label": self.label,
            "program": str(self.node),
            "path": list(self.path),
            "inputs": list(self.inputs),
            "distribution": self.distribution.tolist(),
            "logits": None if self.logits is None else self.logits.tolist(),
            "matrix": None if self.matrix is None else self.matrix.tolist(),
            "fallback": self.fallback,
        }


@dataclass
class Trace:
    steps: list[TraceStep] = field(default_factory=list)

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def root(self) -> TraceStep:
        return self.steps[-1]

    @property
    def fallbacks(self) -> list[TraceStep]:
        return [s for s in self.steps if s.fallback]

    def at(self, path: tuple[int, ...]) -> TraceStep:
        for s in self.steps:
            if s.path == tuple(path):
                return s
        raise KeyError(f"no node at path {path}")

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [s.to_dict() for s in self.steps]}

    def __str__(self) -> str:
        lines = []
        for s in self.steps:
            top = int(np.argmax(s.distribution))
            note = f"  FALLBACK: {s.fallback}" if s.fallback else ""
            lines.append(
                f"[{s.step}] {'  ' * len(s.path)}{s.label}  -> #{top} "
                f"(p={s.distribution[top]:.3f}){note}"
            )
        return "\n".join(lines)
