"""The interpreter on hand-built scenes with an oracle scorer: chosen index asserted."""

from __future__ import annotations

import json

import numpy as np
import pytest

from grammar import Find, Relate, parse_program
from interpreter import ProposalGraph, ScorerError, execute
from primitives import REGISTRY, BoxError, ReclipError
from reclip import Locator, Proposal

# A table scene (y grows downward):
#   0 red cup     1 blue cup    2 red cup      3 plate
#   4 small cup (under 1)                       5 big bowl (bottom right)
#   6 spoon inside the bowl
TABLE = [
    Proposal([10, 40, 30, 60], label="red cup"),
    Proposal([50, 40, 70, 60], label="blue cup"),
    Proposal([90, 40, 110, 60], label="red cup"),
    Proposal([130, 40, 170, 60], label="plate"),
    Proposal([55, 100, 65, 110], label="small cup"),
    Proposal([120, 120, 190, 190], label="bowl"),
    Proposal([140, 140, 150, 150], label="spoon"),
]


def run(program: str, oracle, image, proposals=TABLE):
    return Locator(scorer=oracle).run(program, image, proposals)


@pytest.mark.parametrize(
    "program, expected",
    [
        ('relate(find("cup"), left_of, find("blue"))', 0),                  # the cup left of the blue cup
        ('relate(find("red cup"), right_of, find("blue"))', 2),
        ('relate(find("bowl spoon"), above, find("bowl"))', 6),
        ('relate(find("cup"), below, find("blue"))', 4),
        ('relate(find("cup"), bigger_than, find("small"))', 0),
        ('relate(find("cup"), smaller_than, find("blue"))', 4),
        ('relate(find("spoon bowl"), within, find("bowl"))', 6),
        ('relate(find("cup"), near, find("plate"))', 2),
        ('relate(find("cup"), between, find("red"), find("red"))', 1),
        ('relate(find("cup"), between, find("blue"), find("plate"))', 2),
    ],
)
def test_relations(program, expected, oracle, blank_image):
    res = run(program, oracle, blank_image)
    assert res.index == expected, res.trace


@pytest.mark.parametrize(
    "program, expected",
    [
        ('superlative(leftmost, find("cup"))', 0),
        ('superlative(rightmost, find("cup"))', 2),
        ('superlative(topmost, find("bowl spoon"))', 6),
        ('superlative(bottommost, find("cup"))', 4),
        ('superlative(largest, find("cup plate bowl"))', 5),
        ('superlative(smallest, find("cup"))', 4),
        ('superlative(closest, find("plate bowl"))', 5),
        ('superlative(farthest, find("plate bowl"))', 3),
        ('superlative(middle, find("red blue cup"))', 1),
    ],
)
def test_superlatives(program, expected, oracle, blank_image):
    assert run(program, oracle, blank_image).index == expected


@pytest.mark.parametrize(
    "program, expected",
    [
        ('ordinal(1, leftmost, find("cup"))', 0),
        ('ordinal(2, leftmost, find("cup"))', 1),
        ('ordinal(3, leftmost, find("cup"))', 2),
        ('ordinal(2, rightmost, find("cup"))', 1),
        ('ordinal(2, leftmost, find("red cup"))', 2),   # the second *red* cup skips the blue one
        ('ordinal(2, bottommost, find("bowl spoon"))', 6),
    ],
)
def test_ordinals(program, expected, oracle, blank_image):
    assert run(program, oracle, blank_image).index == expected


def test_ordinal_is_stable_when_find_is_soft(blank_image):
    class Soft:
        def score(self, image, proposals, texts):
            # cups ~ 2.0, others ~ 0.0 with noise: a soft, realistic CLIP-like distribution
            rng = np.random.default_rng(0)
            base = np.array([2.0 if "cup" in (p.label or "") else 0.0 for p in proposals])
            return (base + rng.normal(0, 0.2, len(proposals)))[None, :]

    res = Locator(Soft()).run('ordinal(2, leftmost, find("cup"))', blank_image, TABLE[:4])
    assert res.index == 1


def test_nesting(oracle, blank_image):
    # the cup left of the cup that is left of the plate and right of the blue cup
    program = 'relate(find("cup"), left_of, relate(find("red cup"), right_of, find("blue")))'
    res = run(program, oracle, blank_image)
    assert res.index in (0, 1)  # both cups are left of cup 2; the red-cup text favours neither
    program = 'and(find("red"), relate(find("cup"), left_of, superlative(rightmost, find("red cup"))))'
    assert run(program, oracle, blank_image).index == 0


def test_and_multiplies(oracle, blank_image):
    res = run('and(find("cup"), find("blue"))', oracle, blank_image)
    assert res.index == 1
    assert res.trace.root.kind == "and"


def test_fallback_when_no_proposal_satisfies_a_relation(oracle, blank_image):
    props = [Proposal([0, 0, 10, 10], label="cup"), Proposal([20, 0, 30, 10], label="plate")]
    # Only one proposal: nothing can be left of anything else.
    res = run('relate(find("cup"), left_of, find("plate"))', oracle, blank_image, props[:1])
    assert res.index == 0
    assert len(res.trace.fallbacks) == 1
    assert "no proposal satisfies" in res.trace.fallbacks[0].fallback
    assert np.allclose(res.scores, [1.0])


def test_trace_records_every_node_in_program_order(oracle, blank_image):
    program = parse_program('and(find("cup"), relate(find("cup"), near, find("plate")))')
    res = Locator(oracle).run(program, blank_image, TABLE)
    kinds = [s.kind for s in res.trace]
    assert kinds == ["find", "find", "find", "relate", "and"]
    assert [s.path for s in res.trace] == [(0,), (1, 0), (1, 1), (1,), ()]
    relate = res.trace.at((1,))
    assert relate.matrix.shape == (7, 7) and relate.inputs == (1, 2)
    for step in res.trace:
        assert step.distribution.shape == (7,)
        assert step.distribution.sum() == pytest.approx(1.0)
    json.dumps(res.trace.to_dict())  # reports need it as JSON
    assert res.program == program and res.box == [90.0, 40.0, 110.0, 60.0]


def test_all_find_texts_go_to_the_scorer_in_one_call(oracle, blank_image):
    run('and(find("cup"), relate(find("cup"), between, find("red"), find("plate")))', oracle, blank_image)
    assert oracle.calls == [["cup", "red", "plate"]]


def test_single_proposal_works(oracle, blank_image):
    res = run('superlative(leftmost, find("cup"))', oracle, blank_image, [[0, 0, 5, 5]])
    assert res.index == 0 and res.box == [0.0, 0.0, 5.0, 5.0]


def test_plain_boxes_and_dicts_are_proposals(oracle, blank_image):
    res = run('superlative(rightmost, find("x"))', oracle, blank_image,
              [[0, 0, 5, 5], {"box": [10, 0, 15, 5], "label": "x"}])
    assert res.index == 1


@pytest.mark.parametrize(
    "proposals, message",
    [
        ([], "no proposals"),
        ([[10, 0, 0, 10]], "proposal 0: is reversed"),
        ([[0, 0, 5, 5], [0, 0, float("nan"), 10]], "proposal 1: has a NaN or infinite coordinate"),
        ([[0, 0, float("inf"), 10]], "NaN or infinite"),
        ([[0, 0, 0, 10]], "zero area"),
        ([{"label": "cup"}], "has no 'box' key"),
    ],
)
def test_bad_proposals_raise_clear_errors(proposals, message, oracle, blank_image):
    with pytest.raises(BoxError, match=message.replace("(", r"\(")):
        run('find("cup")', oracle, blank_image, proposals)


class Broken:
    def __init__(self, out):
        self.out = out

    def score(self, image, proposals, texts):
        return self.out


def test_scorer_wrong_shape(blank_image):
    with pytest.raises(ScorerError, match=r"shape \(1, 3\); expected \(texts, proposals\) = \(1, 2\)"):
        Locator(Broken(np.zeros((1, 3)))).run('find("x")', blank_image, [[0, 0, 1, 1], [1, 1, 2, 2]])


def test_scorer_nan(blank_image):
    with pytest.raises(ScorerError, match=r"NaN or infinite logits for \['x'\]"):
        Locator(Broken(np.array([[0.0, np.nan]]))).run('find("x")', blank_image, [[0, 0, 1, 1], [1, 1, 2, 2]])


def test_scorer_errors_are_reclip_errors():
    assert issubclass(ScorerError, ReclipError) and issubclass(ScorerError, ValueError)


def test_object_without_score_is_rejected():
    with pytest.raises(ReclipError, match="score"):
        Locator(scorer=object())


def test_image_path_errors(oracle, tmp_path):
    with pytest.raises(ReclipError, match="image file not found"):
        Locator(oracle).run('find("x")', tmp_path / "missing.png", [[0, 0, 1, 1]])
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    with pytest.raises(ReclipError, match="cannot read image"):
        Locator(oracle).run('find("x")', bad, [[0, 0, 1, 1]])


def test_image_from_path(oracle, blank_image, tmp_path):
    path = tmp_path / "scene.png"
    blank_image.save(path)
    assert Locator(oracle).run('superlative(leftmost, find("cup"))', str(path), TABLE).index == 0


def test_adding_a_relation_is_one_decorated_function(oracle, blank_image):
    @REGISTRY.relation("same_row", words=["in the same row as"])
    def same_row(a, b):
        """Vertical extents overlap."""
        return ((a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])).astype(float)

    try:
        # find("small cup") prefers the small cup, but it is not in the plate's row
        assert run('find("small cup")', oracle, blank_image).index == 4
        res = run('relate(find("small cup"), same_row, find("plate"))', oracle, blank_image)
        assert res.index in (0, 1, 2) and res.scores[4] == 0.0
        assert "same_row" in REGISTRY.names("relation")
        assert parse_program('relate(find("a"), same_row, find("b"))').root.relation == "same_row"
    finally:
        REGISTRY.unregister("same_row")


def test_a_program_built_in_python_runs(oracle, blank_image):
    program = Relate(Find("cup"), "left_of", Find("plate"))
    graph = ProposalGraph(TABLE)
    res = execute(program, graph, oracle, blank_image)
    assert res.index in (0, 1, 2)


def test_graph_caches_matrices_and_exposes_edges():
    graph = ProposalGraph(TABLE)
    m = graph.relation_matrix("left_of")
    assert graph.relation_matrix("left_of") is m
    assert graph.edge(0, 1) == {"left_of": 1.0}
    assert graph.nx.nodes[3]["area"] == 800.0 and graph.nx.nodes[3]["centre"] == [150.0, 50.0]
    data = graph.node_link_data()
    assert len(data["nodes"]) == 7 and len(data["links"]) == 42
    json.dumps(data)
