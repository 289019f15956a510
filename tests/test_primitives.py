"""Primitives: matrix shapes and invariants (property tests) and the registry."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primitives import REGISTRY, BoxError, Registry, RegistryError, validate_boxes
from primitives.boxes import iou


@st.composite
def box_arrays(draw, min_size=1, max_size=7):
    n = draw(st.integers(min_size, max_size))
    coords = st.floats(0, 500, allow_nan=False, width=32)
    sizes = st.floats(1, 200, allow_nan=False, width=32)
    boxes = []
    for _ in range(n):
        x, y, w, h = draw(coords), draw(coords), draw(sizes), draw(sizes)
        boxes.append([x, y, x + w, y + h])
    return np.array(boxes, dtype=np.float64)


@settings(max_examples=60, deadline=None)
@given(box_arrays())
def test_every_primitive_has_the_right_shape_and_zero_diagonal(boxes):
    n = len(boxes)
    for name in REGISTRY.names():
        m = REGISTRY.matrix(name, boxes)
        kind = REGISTRY.get(name).kind
        assert m.shape == ((n, n, n) if kind == "ternary" else (n, n)), name
        assert np.all(np.isfinite(m)) and np.all(m >= 0), name
        idx = np.arange(n)
        if kind == "ternary":
            assert np.all(m[idx, idx, :] == 0) and np.all(m[idx, :, idx] == 0) and np.all(m[:, idx, idx] == 0)
        else:
            assert np.all(np.diag(m) == 0), name


@settings(max_examples=60, deadline=None)
@given(box_arrays())
def test_opposite_relations_are_transposes(boxes):
    m = lambda name: REGISTRY.matrix(name, boxes)
    assert np.array_equal(m("left_of"), m("right_of").T)
    assert np.array_equal(m("above"), m("below").T)
    assert np.array_equal(m("bigger_than"), m("smaller_than").T)
    assert np.allclose(m("near"), m("near").T)
    assert np.array_equal(m("leftmost"), m("left_of"))  # ReCLIP: leftmost uses left_of


@settings(max_examples=40, deadline=None)
@given(box_arrays(min_size=3))
def test_soft_relations_are_shares(boxes):
    for name in ("within", "near", "between"):
        m = REGISTRY.matrix(name, boxes)
        assert np.all(m <= 1.0 + 1e-12), name
    b = REGISTRY.matrix("between", boxes)
    assert np.allclose(b, b.transpose(0, 2, 1))  # between a and b == between b and a


def test_within_is_reclip_soft_overlap():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 105, 100]], dtype=float)
    m = REGISTRY.matrix("within", boxes)
    assert m[0, 1] == pytest.approx(0.5)        # half of box 0 lies in box 1
    assert m[1, 0] == pytest.approx(50 / 10000)


def test_between_uses_the_convex_hull_not_the_bounding_box():
    boxes = np.array([
        [0, 0, 10, 10],      # landmark top-left
        [90, 90, 100, 100],  # landmark bottom-right
        [45, 45, 55, 55],    # on the diagonal: between
        [90, 0, 100, 10],    # top-right corner of the bounding box: not between
    ], dtype=float)
    m = REGISTRY.matrix("between", boxes)
    assert m[2, 0, 1] == pytest.approx(1.0)
    assert m[3, 0, 1] == 0.0


def test_near_decays_with_distance():
    boxes = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [50, 0, 60, 10]], dtype=float)
    m = REGISTRY.matrix("near", boxes)
    assert m[0, 1] == pytest.approx(1.0)
    assert m[0, 2] < 0.01


def test_middle_is_relative_to_the_candidates():
    boxes = np.array([[0, 0, 10, 10], [40, 0, 50, 10], [80, 0, 90, 10], [300, 0, 310, 10]], dtype=float)
    only_first_three = np.array([1, 1, 1, 0.0])
    key_matrix = REGISTRY.matrix("middle", boxes, only_first_three)
    assert key_matrix[1].sum() == 3  # box 1 is more central than every other box


def test_primitives_work_on_single_boxes_too():
    left_of = REGISTRY.get("left_of").fn
    assert left_of(np.array([0, 0, 10, 10.0]), np.array([20, 0, 30, 10.0])) == 1.0


def test_registry_rejects_duplicates_and_bad_names():
    reg = Registry()
    reg.relation("touching", words=["touching"])(lambda a, b: a[..., 0] * 0)
    with pytest.raises(RegistryError, match="already registered"):
        reg.relation("touching")(lambda a, b: a[..., 0] * 0)
    with pytest.raises(RegistryError, match="ASCII identifier"):
        reg.relation("left of")(lambda a, b: a)
    with pytest.raises(RegistryError, match="unknown relation 'touchng'; did you mean touching"):
        reg.get("touchng", "relation")


def test_a_broken_user_relation_names_itself():
    reg = Registry()
    reg.relation("scalar_only")(lambda a, b: 1.0 if a[0] < b[0] else 0.0)
    with pytest.raises(RegistryError, match="relation 'scalar_only' failed"):
        reg.matrix("scalar_only", np.array([[0, 0, 1, 1], [2, 2, 3, 3.0]]))
    reg.relation("wrong_shape")(lambda a, b: np.zeros(5))
    with pytest.raises(RegistryError, match="returned shape"):
        reg.matrix("wrong_shape", np.array([[0, 0, 1, 1], [2, 2, 3, 3.0]]))


@pytest.mark.parametrize(
    "boxes, message",
    [
        ([], "no proposals"),
        ([[0, 0, 10]], "shape"),
        ([[10, 0, 0, 10]], "reversed"),
        ([[0, 0, float("nan"), 10]], "NaN or infinite"),
        ([[0, 0, float("inf"), 10]], "NaN or infinite"),
        ([[5, 5, 5, 10]], "zero area"),
        ([["a", 0, 1, 1]], "must be numbers"),
    ],
)
def test_validate_boxes_names_the_problem(boxes, message):
    with pytest.raises(BoxError, match=message):
        validate_boxes(boxes)


def test_iou():
    assert iou(np.array([0, 0, 10, 10.0]), np.array([5, 0, 15, 10.0])) == pytest.approx(1 / 3)


def test_registry_entries_live_in_the_catalog_and_its_version_follows_them():
    import catalogue

    before = REGISTRY.version
    saved = {k: v for k, v in catalogue.REGISTRY.items() if k[0] == "reclip"}

    @REGISTRY.relation("touching_x", words=["touching x"])
    def touching_x(a, b):
        return a[..., 0] * 0.0

    assert REGISTRY.catalog.get("touching_x").fn is touching_x
    changed = REGISTRY.version
    assert changed != before and REGISTRY.words("relation")["touching x"] == "touching_x"
    # Put the catalogue back behind the registry's back (the conftest fixture also calls touch()).
    for key in [k for k in catalogue.REGISTRY if k[0] == "reclip"]:
        del catalogue.REGISTRY[key]
    catalogue.REGISTRY.update(saved)
    assert REGISTRY.version not in (before, changed)
    assert "touching_x" not in REGISTRY and "touching x" not in REGISTRY.words("relation")


def test_a_private_registry_does_not_see_the_global_one():
    reg = Registry()
    assert reg.names() == [] and "left_of" in REGISTRY
    reg.relation("left_of")(lambda a, b: a[..., 0] * 0.0)
    assert REGISTRY.get("left_of").fn is not reg.get("left_of").fn


def _sampled_hull_share(a: np.ndarray, b: np.ndarray, c: np.ndarray, per_side: int) -> np.ndarray:
    """The old definition of between's hull term: the share of a per_side² grid of cell
    centres in a that lies in hull(b, c) (a point is inside iff some t in [0, 1] puts it
    in the box t·b + (1-t)·c). It converges to the exact share as the grid refines."""
    t = (np.arange(per_side) + 0.5) / per_side
    xs = a[:, 0, None] + t * (a[:, 2] - a[:, 0])[:, None]
    ys = a[:, 1, None] + t * (a[:, 3] - a[:, 1])[:, None]
    px = np.repeat(xs[:, :, None], per_side, axis=2).reshape(len(a), -1)
    py = np.repeat(ys[:, None, :], per_side, axis=1).reshape(len(a), -1)
    lo, hi = np.zeros(px.shape), np.ones(px.shape)
    for p, lower, upper in ((px, 0, 2), (py, 1, 3)):
        for edge, sign in ((lower, 1.0), (upper, -1.0)):
            d = sign * (b[:, edge, None] - c[:, edge, None])    # constraint: t·d <= r
            r = sign * (p - c[:, edge, None])
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = np.where(d != 0, r / np.where(d != 0, d, 1), 0.0)
            hi = np.where(d > 0, np.minimum(hi, bound), hi)
            lo = np.where(d < 0, np.maximum(lo, bound), lo)
            hi = np.where((d == 0) & (r < 0), -1.0, hi)
    return (lo <= hi).mean(axis=1)


def test_between_hull_share_is_exact():
    """The analytic hull area matches a 200x200 sampling of the same definition within
    the sampling's own error (about one grid row: 1/200), on 2,000 random triples."""
    from primitives.boxes import areas, hull_areas

    rng = np.random.default_rng(0)

    def boxes(n):
        xy, wh = rng.uniform(0, 100, (n, 2)), rng.uniform(1, 60, (n, 2))
        return np.concatenate([xy, xy + wh], axis=1)

    a, b, c = boxes(2000), boxes(2000), boxes(2000)
    exact = hull_areas(a, b, c) / areas(a)
    assert np.abs(exact - _sampled_hull_share(a, b, c, 200)).max() < 0.006
    # and the old 8x8 sampling stays within its coarser error of the exact value
    assert np.abs(exact - _sampled_hull_share(a, b, c, 8)).mean() < 0.01


def test_hull_of_two_boxes_by_hand():
    from primitives.boxes import hull_areas

    b, c = np.array([0, 0, 10, 10.0]), np.array([20, 20, 30, 30.0])
    # hull = 30x30 square less two triangles with legs 20: 900 - 2 * 200 = 500
    assert hull_areas(np.array([0, 0, 30, 30.0]), b, c) == pytest.approx(500.0)
    assert hull_areas(np.array([20, 0, 30, 10.0]), b, c) == pytest.approx(0.0)      # off the diagonal
    assert hull_areas(np.array([10, 10, 20, 20.0]), b, c) == pytest.approx(100.0)   # on it
    assert hull_areas(np.array([10, 0, 20, 10.0]), b, c) == pytest.approx(50.0)     # half of it


def test_primitives_from_an_installed_distribution_join_the_registry(installed_entry_points):
    """A distribution on the path offers a Primitive object; another offers something else."""
    from foundation import CATALOGS, failures
    from foundation.plugins import PluginWarning

    installed_entry_points("touchy", {"reclip_primitives_ep": {"touch": "touchy_prims:TOUCH",
                                                               "oops": "touchy_prims:OOPS"}},
                           "from primitives import Primitive\n"
                           "TOUCH = Primitive('touch', 'relation', lambda a, b: a[..., 0] * 0.0, ('touch',))\n"
                           "OOPS = len\n")
    reg = Registry("primitives_ep")
    try:
        assert reg.catalog.entry_point_group == "reclip_primitives_ep"
        with pytest.warns(PluginWarning, match="failed to load"):
            reg.names()
        assert reg.get("touch", "relation").words == ("touch",) and reg.words("relation") == {"touch": "touch"}
        assert reg.catalog.origins["touch"].name == "touchy 0.1"
        (failure,) = failures(["reclip_primitives_ep"])
        assert "'oops' is a builtin_function_or_method, not a primitives.Primitive" in failure.cause
        assert "oops" not in reg
    finally:
        CATALOGS.pop("primitives_ep")


def test_a_private_registry_loads_no_plugins(installed_entry_points):
    installed_entry_points("touchy2", {"reclip_primitives_1": {"touch": "touchy2_prims:TOUCH"}}, "TOUCH = 1\n")
    assert Registry().names() == []
