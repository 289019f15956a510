"""At scale: restricted ternaries against the exact sum, sorting against the comparative
matrix, lazy edges, ordinal counts, mask sizes, and many programs per scorer call."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_scale import scene as scattered_boxes
from interpreter import ProposalGraph
from primitives import REGISTRY, BoxError
from primitives.support import LANDMARK_CAP, carrying_mass, mass_above, mass_below, ternary_support
from reclip import Locator, Proposal


def peaked(n: int, hot: list[int], seed: int) -> np.ndarray:
    """A CLIP-like landmark distribution: a few proposals hold nearly all the mass."""
    logits = np.random.default_rng(seed).normal(0, 1, n)
    logits[hot] += 12
    p = np.exp(logits - logits.max())
    return p / p.sum()


def test_carrying_mass_is_the_smallest_set_holding_the_mass():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    assert carrying_mass(p, mass=0.9, cap=2).tolist() == [0, 1]       # capped
    assert carrying_mass(p, mass=0.9, cap=3).tolist() == [0, 1, 2]
    assert carrying_mass(p, mass=0.9, cap=4).tolist() == [0, 1, 2, 3]  # small: every index
    big = np.full(200, 1 / 200)
    assert len(carrying_mass(big)) == LANDMARK_CAP


@pytest.mark.parametrize("flat", [False, True])
def test_restricted_between_is_within_the_left_out_mass_of_the_exact_sum(flat):
    n = 120
    boxes = scattered_boxes(n)
    if flat:   # the cap binds: the bound is then the mass the cap leaves out
        y, z = np.full(n, 1 / n), np.random.default_rng(3).dirichlet(np.ones(n))
    else:
        y, z = peaked(n, [3, 40], 1), peaked(n, [77], 2)
    exact = np.einsum("ijk,j,k->i", REGISTRY.matrix("between", boxes), y, z)
    support, left_out = ternary_support(REGISTRY, "between", boxes, y, z)
    assert np.all(support <= exact + 1e-12)
    assert np.max(exact - support) <= left_out + 1e-12
    if not flat:
        assert left_out <= 0.002 and np.argmax(support) == np.argmax(exact)


def test_interpreter_between_at_scale_matches_the_exact_answer(blank_image):
    n = 100
    boxes = scattered_boxes(n, seed=5)
    labels = ["thing"] * n
    labels[10], labels[20] = "cup", "plate"

    class Peaked:
        def score(self, image, proposals, texts):
            return np.array([[12.0 if p.label == t else 0.0 for p in proposals] for t in texts])

    props = [Proposal(b, label=label) for b, label in zip(boxes, labels)]
    res = Locator(Peaked()).run('relate(find("thing"), between, find("cup"), find("plate"))', blank_image, props)
    x, y, z = (res.trace.steps[k].distribution for k in range(3))
    exact = x * np.einsum("ijk,j,k->i", REGISTRY.matrix("between", boxes), y, z)
    exact /= exact.sum()
    assert res.trace.root.matrix is None   # beyond LANDMARK_CAP: no N^3 matrix was built
    assert res.index == int(np.argmax(exact))
    assert np.abs(res.scores - exact).sum() < 0.01


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_sorting_equals_the_comparative_matrix(keys, rnd):
    key = np.array(keys, dtype=float)          # small integers: plenty of ties
    w = np.array([rnd.random() for _ in keys])
    s = (key[:, None] > key[None, :]).astype(float)
    assert np.allclose(mass_below(key, w), s @ w)
    assert np.allclose(mass_above(key, w), s.T @ w)


def test_graph_builds_edges_only_when_asked():
    graph = ProposalGraph(scattered_boxes(300))
    graph.relation_matrix("left_of")
    assert graph.edge(0, 1) == {"left_of": float(graph.relation_matrix("left_of")[0, 1])}
    near = graph.relation_matrix("near")
    g = graph.to_networkx(threshold=0.9)
    want = int(((near >= 0.9) | (graph.relation_matrix("left_of") >= 0.9)).sum() - 0)
    assert g.number_of_nodes() == 300 and g.number_of_edges() == want
    with pytest.raises(KeyError):
        graph.edge(3, 3)


def test_ternary_matrix_is_refused_where_it_would_not_fit():
    from primitives import RegistryError

    with pytest.raises(RegistryError, match="ternary_support"):
        REGISTRY.matrix("between", scattered_boxes(400))


def test_an_ordinal_beyond_the_candidates_falls_back_and_says_so(oracle, blank_image):
    props = [Proposal([0, 0, 10, 10], label="cup"), Proposal([20, 0, 30, 10], label="cup"),
             Proposal([40, 0, 50, 10], label="plate")]
    res = Locator(oracle).run('ordinal(5, leftmost, find("cup"))', blank_image, props)
    (step,) = res.trace.fallbacks
    assert step.kind == "ordinal" and "number 5 but there are only about 2 candidates" in step.fallback
    assert np.allclose(res.scores, res.trace.steps[0].distribution)   # its input, unchanged
    assert "FALLBACK" in str(res.trace)
    ok = Locator(oracle).run('ordinal(2, leftmost, find("cup"))', blank_image, props)
    assert ok.index == 1 and not ok.trace.fallbacks


def test_a_mask_of_the_wrong_size_is_refused(oracle, blank_image):
    props = [Proposal([0, 0, 10, 10], mask=np.ones((50, 60), bool), label="cup")]
    with pytest.raises(BoxError, match=r"proposal 0's mask has shape \(50, 60\) but the image is 200x200"):
        Locator(oracle).run('find("cup")', blank_image, props)


class Counting:
    """Scores texts by shared words with the label, counting calls and texts."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def score(self, image, proposals, texts):
        self.calls.append([str(t) for t in texts])
        return np.array([[10.0 * len(set(t.split()) & set((p.label or "").split())) for p in proposals]
                         for t in texts])


SCENE = [Proposal([10, 40, 30, 60], label="red cup"), Proposal([50, 40, 70, 60], label="blue cup"),
         Proposal([90, 40, 110, 60], label="red cup"), Proposal([130, 40, 170, 60], label="plate")]


def test_run_many_makes_one_scorer_call_and_keeps_order(blank_image):
    programs = ['relate(find("cup"), near, find("plate"))', 'superlative(leftmost, find("red cup"))',
                'ordinal(2, leftmost, find("cup"))', 'relate(find("cup"), between, find("blue"), find("plate"))']
    scorer = Counting()
    many = Locator(scorer).run_many(programs, blank_image, SCENE)
    assert scorer.calls == [["cup", "plate", "red cup", "blue"]]
    one_by_one = [Locator(Counting()).run(p, blank_image, SCENE) for p in programs]
    assert [r.index for r in many] == [r.index for r in one_by_one] == [2, 0, 1, 2]
    for a, b in zip(many, one_by_one):
        assert np.allclose(a.scores, b.scores) and str(a.program) == str(b.program)


def test_locate_many_compiles_each_and_scores_once(blank_image):
    scorer = Counting()
    results = Locator(scorer).locate_many(blank_image, ["the leftmost red cup", "the blue cup"], SCENE)
    assert len(scorer.calls) == 1
    assert [r.index for r in results] == [0, 1]


def test_an_ordinal_one_past_hard_candidates_falls_back_but_a_soft_count_does_not(oracle, blank_image):
    props = [Proposal([0, 0, 10, 10], label="cup"), Proposal([20, 0, 30, 10], label="cup")]
    props += [Proposal([40 + 3 * k, 50, 42 + 3 * k, 52], label="crumb") for k in range(300)]
    res = Locator(oracle).run('ordinal(3, leftmost, find("cup"))', blank_image, props)
    assert [s.kind for s in res.trace.fallbacks] == ["ordinal"]   # 300 non-cups do not add up to a cup

    class Soft:   # three triangles, the third only softly one (a count of about 2.4)
        def score(self, image, proposals, texts):
            return np.array([[3.0, 3.0, 2.2, 0.0, 0.0]])

    boxes = [[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [0, 50, 10, 60], [20, 50, 30, 60]]
    res = Locator(Soft()).run('ordinal(3, leftmost, find("triangle"))', blank_image, boxes)
    assert not res.trace.fallbacks and res.index == 2
