"""Relations contracted with distributions, without building N^2 or N^3 arrays.

The interpreter needs, for a relation R and landmark distributions y (and z),
the support s[i] = Σ_j R[i, j] y[j] (or Σ_jk R[i, j, k] y[j] z[k]); for a
superlative with key κ and candidates x, s[i] = Σ_j [κ_i > κ_j] x[j]. These
functions compute exactly those sums in blocks, by sorting, or over the landmark
proposals that carry the landmarks' probability mass.

Tolerance of the landmark restriction: a landmark distribution is restricted to the
smallest set of proposals holding LANDMARK_MASS of it, at most LANDMARK_CAP of them
(all proposals when there are no more than LANDMARK_CAP). For a relation with values in
[0, 1], each s[i] then falls short of the exact value by at most the mass left out,
Σ_(j left out) y[j] + Σ_(k left out) z[k], which ``ternary_support`` returns: at most
0.002 when the cap does not bind.
"""

from __future__ import annotations

import numpy as np

from primitives.registry import Registry, row_chunks

LANDMARK_MASS = 0.999
LANDMARK_CAP = 64


def carrying_mass(p: np.ndarray, mass: float = LANDMARK_MASS, cap: int = LANDMARK_CAP) -> np.ndarray:
    """Sorted indices of the smallest set of entries holding ``mass`` of p, at most ``cap``;
    every index when p has no more than ``cap`` entries (so small scenes stay exact)."""
    p = np.asarray(p, dtype=np.float64)
    if len(p) <= cap:
        return np.arange(len(p))
    order = np.argsort(-p, kind="stable")
    held = np.cumsum(p[order])
    count = int(np.searchsorted(held, mass * held[-1])) + 1
    return np.sort(order[:min(count, cap, len(p))])


def ternary_support(registry: Registry, name: str, boxes: np.ndarray, y: np.ndarray,
                    z: np.ndarray, mass: float = LANDMARK_MASS,
                    cap: int = LANDMARK_CAP) -> tuple[np.ndarray, float]:
    """s[i] = Σ_jk R[i, j, k] y[j] z[k] over the landmark proposals carrying the mass,
    in blocks of rows; and the landmark mass left out (the bound on the shortfall)."""
    y, z = np.asarray(y, dtype=np.float64), np.asarray(z, dtype=np.float64)
    js, ks = carrying_mass(y, mass, cap), carrying_mass(z, mass, cap)
    n = len(boxes)
    support = np.empty(n)
    for rows in row_chunks(n, len(js) * len(ks)):
        block = registry.block(name, boxes, rows, js, ks)
        support[rows] = np.einsum("ijk,j,k->i", block, y[js], z[ks])
    left_out = _share_left_out(y, js) + _share_left_out(z, ks)
    return support, left_out


def _share_left_out(p: np.ndarray, kept: np.ndarray) -> float:
    total = p.sum()
    return float(max(0.0, 1.0 - p[kept].sum() / total)) if total > 0 else 0.0


def mass_below(key: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_j [key_i > key_j] w[j] for every i, by sorting: the comparative matrix's
    product with w without the N x N matrix."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    before = np.concatenate([[0.0], np.cumsum(weights[order])])
    return before[np.searchsorted(sorted_key, key, side="left")]


def mass_above(key: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Σ_j [key_j > key_i] w[j] for every i (the comparative matrix's transpose times w)."""
    return mass_below(-key, weights)
