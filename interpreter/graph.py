"""The proposal graph: proposals as networkx nodes, relations as cached matrices whose
values become edges on request."""

from __future__ import annotations

from typing import Any, Iterable

import networkx as nx
import numpy as np

from interpreter.proposals import Proposal, as_proposals
from primitives import REGISTRY, Registry
from primitives.boxes import areas, centres
from primitives.support import LANDMARK_CAP, ternary_support


class ProposalGraph:
    """A complete directed graph over proposals.

    Node i carries box, mask, label, area and centre. Each relation matrix is
    computed once per (graph, relation) from the registry and cached as an array;
    ``edge(i, j)`` reads the binary relation values computed so far for one pair, and
    ``to_networkx`` writes them onto networkx edges only when asked (all N(N-1) pairs,
    or those where some relation reaches a threshold), so a graph of 1,000 proposals
    never holds a million Python edge objects unless a caller wants them. Superlative
    matrices depend on the candidate weights and are not cached.
    """

    def __init__(self, proposals: Iterable[Any], registry: Registry = REGISTRY):
        self.proposals: list[Proposal] = as_proposals(proposals)
        self.registry = registry
        self.boxes = np.array([p.box for p in self.proposals], dtype=np.float64)
        self._matrices: dict[str, np.ndarray] = {}
        self._nx: tuple[tuple[str, ...], nx.DiGraph] | None = None

    def __len__(self) -> int:
        return len(self.proposals)

    # -- relations -----------------------------------------------------------------
    def relation_matrix(self, name: str) -> np.ndarray:
        """(N, N) for a binary relation, (N, N, N) for a ternary one; cached (a ternary
        matrix is refused for large N: use ``relation_support``)."""
        if name not in self._matrices:
            m = self.registry.matrix(name, self.boxes)
            m.setflags(write=False)
            self._matrices[name] = m
        return self._matrices[name]

    def relation_support(self, name: str, *landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, float]:
        """s[i] = Σ_j R[i, j] y[j] (binary) or Σ_jk R[i, j, k] y[j] z[k] (ternary).

        Returns (support, the matrix used or None, landmark mass left out). Up to
        LANDMARK_CAP proposals a ternary relation uses its full cached matrix, exactly;
        beyond, only the landmark proposals carrying the mass (primitives.support).
        """
        kind = self.registry.get(name, ("relation", "ternary")).kind
        if kind == "relation":
            m = self.relation_matrix(name)
            return m @ landmarks[0], m, 0.0
        if len(self) <= LANDMARK_CAP:
            m = self.relation_matrix(name)
            return np.einsum("ijk,j,k->i", m, *landmarks), m, 0.0
        support, left_out = ternary_support(self.registry, name, self.boxes, *landmarks)
        return support, None, left_out

    def superlative_key(self, name: str, weights: np.ndarray) -> np.ndarray:
        return self.registry.key(name, self.boxes, weights)

    # -- edges, on request -----------------------------------------------------------
    def edge(self, i: int, j: int) -> dict[str, float]:
        """Relation values computed so far for the ordered pair (i, j)."""
        if i == j or not (0 <= i < len(self) and 0 <= j < len(self)):
            raise KeyError(f"no edge ({i}, {j}) among {len(self)} proposals")
        return {name: float(m[i, j]) for name, m in self._binary().items()}

    def to_networkx(self, threshold: float | None = None) -> nx.DiGraph:
        """A networkx DiGraph of the proposals, its edges carrying the binary relation
        values computed so far: every ordered pair, or only pairs where some relation
        is at least ``threshold``."""
        g = nx.DiGraph()
        g.add_nodes_from(self._nodes())
        binary = self._binary()
        keep = ~np.eye(len(self), dtype=bool)
        if threshold is not None:
            keep &= np.any([m >= threshold for m in binary.values()], axis=0) if binary else False
        rows, cols = np.nonzero(keep)
        values = {name: m[rows, cols].tolist() for name, m in binary.items()}
        g.add_edges_from(
            (i, j, {name: v[e] for name, v in values.items()})
            for e, (i, j) in enumerate(zip(rows.tolist(), cols.tolist()))
        )
        return g

    @property
    def nx(self) -> nx.DiGraph:
        """``to_networkx()``, kept until another relation is computed (N(N-1) edges: for
        large N prefer ``to_networkx(threshold)``)."""
        computed = tuple(self._binary())
        if self._nx is None or self._nx[0] != computed:
            self._nx = (computed, self.to_networkx())
        return self._nx[1]

    def node_link_data(self, threshold: float | None = None) -> dict[str, Any]:
        """JSON-ready node-link export (masks left out) for reports."""
        g = self.to_networkx(threshold)
        for _, data in g.nodes(data=True):
            data.pop("mask", None)
        return nx.node_link_data(g, edges="links")

    def _binary(self) -> dict[str, np.ndarray]:
        return {name: m for name, m in self._matrices.items() if m.ndim == 2}

    def _nodes(self) -> list[tuple[int, dict[str, Any]]]:
        area, centre = areas(self.boxes).tolist(), centres(self.boxes).tolist()
        return [(i, {"box": list(p.box), "label": p.label, "mask": p.mask, "area": area[i], "centre": centre[i]})
                for i, p in enumerate(self.proposals)]
