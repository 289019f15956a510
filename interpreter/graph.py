"""The proposal graph: proposals as networkx nodes, relations as cached edge data."""

from __future__ import annotations

from typing import Any, Iterable

import networkx as nx
import numpy as np

from interpreter.proposals import Proposal, as_proposals
from primitives import REGISTRY, Registry
from primitives.boxes import areas, centres


class ProposalGraph:
    """A complete directed graph over proposals.

    Node i carries box, mask, label, area and centre. Each relation matrix is
    computed once per (graph, relation) from the registry and cached; binary
    relation values are also written onto the edges (``graph.edge(i, j)``) so a
    user can read why i is or is not left of j. Superlative matrices depend on the
    candidate weights and are not cached.
    """

    def __init__(self, proposals: Iterable[Any], registry: Registry = REGISTRY):
        self.proposals: list[Proposal] = as_proposals(proposals)
        self.registry = registry
        self.boxes = np.array([p.box for p in self.proposals], dtype=np.float64)
        self._matrices: dict[str, np.ndarray] = {}
        self.nx = nx.DiGraph()
        for i, (p, a, c) in enumerate(zip(self.proposals, areas(self.boxes), centres(self.boxes))):
            self.nx.add_node(i, box=list(p.box), label=p.label, mask=p.mask,
                             area=float(a), centre=[float(c[0]), float(c[1])])
        n = len(self.proposals)
        self.nx.add_edges_from((i, j) for i in range(n) for j in range(n) if i != j)

    def __len__(self) -> int:
        return len(self.proposals)

    def relation_matrix(self, name: str) -> np.ndarray:
        """(N, N) for a binary relation, (N, N, N) for a ternary one; cached."""
        if name not in self._matrices:
            m = self.registry.matrix(name, self.boxes)
            m.setflags(write=False)
            self._matrices[name] = m
            if m.ndim == 2:
                for i, j in self.nx.edges:
                    self.nx.edges[i, j][name] = float(m[i, j])
        return self._matrices[name]

    def superlative_matrix(self, name: str, weights: np.ndarray) -> np.ndarray:
        return self.registry.matrix(name, self.boxes, weights)

    def edge(self, i: int, j: int) -> dict[str, float]:
        """Relation values computed so far for the ordered pair (i, j)."""
        return dict(self.nx.edges[i, j])

    def node_link_data(self) -> dict[str, Any]:
        """JSON-ready node-link export (masks left out) for reports."""
        g = self.nx.copy()
        for _, data in g.nodes(data=True):
            data.pop("mask", None)
        return nx.node_link_data(g, edges="links")
