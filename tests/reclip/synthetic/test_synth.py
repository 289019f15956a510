"""The synthetic benchmark generator: unique gold answers, determinism, JSONL round trip."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from grammar import And, Find, Ordinal, Relate, Superlative, parse_program
from primitives import REGISTRY
from reclip.cli import synthetic as cli_synthetic
from reclip.masks import decode_mask
from interpreter import Proposal
from reclip.synthetic import expressions as synth
from reclip.synthetic.dataset import read_records, record_proposals, write_dataset
from reclip.synthetic.expressions import EXPRESSION_KINDS as KINDS
from reclip.synthetic.oracle import GoldAttributeScorer, gold_check, label_attributes, matches, phrase_attributes
from reclip.synthetic.scenes import MAX_OBJECTS, MIN_OBJECTS


@pytest.fixture(scope="module")
def generated():
    return list(synth.generate(seed=11, scenes=12))


def _satisfying(node, scene) -> set[int]:
    """Which objects satisfy a gold program under crisp set semantics (independent of the
    interpreter's soft arithmetic): finds match attributes, relations need some landmark."""
    boxes = scene.boxes
    if isinstance(node, Find):
        want = phrase_attributes(node.text)
        return {i for i, o in enumerate(scene.objects) if matches(o.attributes, want)}
    if isinstance(node, Relate):
        targets = _satisfying(node.target, scene)
        landmarks = [_satisfying(lm, scene) for lm in node.landmarks]
        m = REGISTRY.matrix(node.relation, boxes)
        if m.ndim == 2:
            return {i for i in targets if any(m[i, j] > 0.5 for j in landmarks[0])}
        return {i for i in targets
                if any(m[i, j, k] > 0.5 for j in landmarks[0] for k in landmarks[1])}
    if isinstance(node, (Superlative, Ordinal)):
        members = sorted(_satisfying(node.arg, scene))
        key = REGISTRY.get(node.kind).fn(boxes, np.ones(len(boxes)))
        order = sorted(members, key=lambda i: -key[i])
        n = node.n if isinstance(node, Ordinal) else 1
        return {order[n - 1]} if len(order) >= n else set()
    if isinstance(node, And):
        sets = [_satisfying(a, scene) for a in node.args]
        return set.intersection(*sets)
    raise AssertionError(f"unexpected node {node}")


def test_every_kind_is_generated(generated):
    kinds = {e.kind for _, _, exprs in generated for e in exprs}
    assert kinds == set(KINDS)


def test_gold_answer_is_the_only_object_satisfying_the_program(generated):
    checked = 0
    for _, scene, exprs in generated:
        for e in exprs:
            assert _satisfying(e.program, scene) == {e.gold}, (e.text, str(e.program))
            checked += 1
    assert checked >= 60


def test_gold_program_run_with_gold_attributes_picks_gold_clearly(generated):
    for _, scene, exprs in generated:
        proposals = scene.proposals()
        for e in exprs:
            ok, p = gold_check(proposals, e.program, e.gold)
            assert ok, (e.text, str(e.program), p.round(3).tolist())
            assert int(np.argmax(p)) == e.gold


def test_relational_kinds_need_their_structure(generated):
    """The target's own description fits several objects: CLIP alone cannot know which."""
    for _, scene, exprs in generated:
        for e in exprs:
            if e.kind in ("relation", "between", "nested", "superlative", "ordinal", "compound"):
                assert len(_satisfying(_target_find(e.program), scene)) >= 2, e.text


def _target_find(node):
    while not isinstance(node, Find):
        node = node.target if isinstance(node, Relate) else node.arg
    return node


def test_generation_is_deterministic_in_the_seed():
    a = [(s.image.tobytes(), [e.text for e in ex]) for _, s, ex in synth.generate(5, 3)]
    b = [(s.image.tobytes(), [e.text for e in ex]) for _, s, ex in synth.generate(5, 3)]
    c = [(s.image.tobytes(), [e.text for e in ex]) for _, s, ex in synth.generate(6, 3)]
    assert a == b
    assert a != c
    # scene i does not depend on how many scenes come before it
    d = [(s.image.tobytes(), [e.text for e in ex]) for _, s, ex in synth.generate(5, 1, start=2)]
    assert d[0] == a[2]


def test_scenes_respect_object_counts_and_overlap(generated):
    for _, scene, _ in generated:
        assert MIN_OBJECTS <= len(scene.objects) <= MAX_OBJECTS
        boxes = scene.boxes
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                w = min(boxes[i, 2], boxes[j, 2]) - max(boxes[i, 0], boxes[j, 0])
                h = min(boxes[i, 3], boxes[j, 3]) - max(boxes[i, 1], boxes[j, 1])
                assert w <= 0 or h <= 0, "boxes overlap"
    shapes = {o.shape for _, s, _ in generated for o in s.objects}
    colours = {o.colour for _, s, _ in generated for o in s.objects}
    sizes = {o.size for _, s, _ in generated for o in s.objects}
    assert len(shapes) >= 3 and len(colours) >= 5 and sizes == {"small", "big"}


def test_dataset_round_trips_through_jsonl(tmp_path):
    path = write_dataset(tmp_path, scenes=2, seed=3)
    scenes = list(synth.generate(3, 2))
    records = read_records(tmp_path)
    assert [r["expression"] for r in records] == [e.text for _, _, ex in scenes for e in ex]
    k = 0
    for _, scene, exprs in scenes:
        for e in exprs:
            r = records[k]
            k += 1
            assert r["kind"] == e.kind and r["gold"] == e.gold
            assert parse_program(r["program"]).root == e.program
            assert r["gold_box"] == list(scene.objects[e.gold].box)
            props = record_proposals(r)
            assert [list(p.box) for p in props] == [list(map(float, o.box)) for o in scene.objects]
            for p, o in zip(props, scene.objects):
                assert np.array_equal(p.mask, o.mask)
                assert label_attributes(p.label) == o.attributes
            assert np.array_equal(decode_mask(r["gold_mask"]), scene.objects[e.gold].mask)
            with Image.open(r["image_path"]) as im:
                assert im.tobytes() == scene.image.tobytes()
    # every line is plain JSON
    for line in path.read_text().splitlines():
        json.loads(line)


def test_oracle_scorer_reads_attributes_of_the_first_phrase():
    props = [Proposal((0, 0, 10, 10), label="small red circle"),
             Proposal((20, 0, 30, 10), label="big blue square")]
    logits = GoldAttributeScorer().score(None, props, ["red circle", "square", "circle left of the blue square"])
    assert logits.argmax(axis=1).tolist() == [0, 1, 0]


def test_cli_writes_a_dataset(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    cli_synthetic.register(parser.add_subparsers())
    args = parser.parse_args(["synth", "--out", str(tmp_path), "--scenes", "2", "--seed", "1"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "expressions on 2 scenes" in out
    assert len(list((tmp_path / "images").glob("*.png"))) == 2
