"""A superlative's opposite, comparative and axis come from its registry entry, so a
plugin's superlative is counted, compared and nested as the built-ins are."""

from __future__ import annotations

import numpy as np
import pytest

from grammar import compile_expression
from grammar.errors import CompileError
from grammar.expression import tokens
from primitives import REGISTRY, Registry


def _registry() -> Registry:
    mine = Registry()

    @mine.superlative("eastmost", words=["eastern"], opposite="westmost", comparative="east_of", axis="x")
    def eastmost(boxes, weights):
        return boxes[..., 0]

    @mine.superlative("westmost", words=["western"], opposite="eastmost", comparative="west_of", axis="x")
    def westmost(boxes, weights):
        return -boxes[..., 0]

    @mine.superlative("highmost", words=["high"], opposite="lowmost", axis="y")
    def highmost(boxes, weights):
        return -boxes[..., 1]

    @mine.relation("east_of", words=["east of"])
    def east_of(a, b):
        return (a[..., 0] > b[..., 0]).astype(float)

    return mine


@pytest.mark.parametrize("text, expected", [
    # "last from the east" is the first from the other end: the entry's opposite
    ("the last cup from the eastern side", "ordinal(1, westmost, find(\"cup\", head=\"cup\"))"),
    # "at the eastern side of the vase": the entry's comparative relation (a vase is an
    # object beside the cup; a table would be the area it lies in, a superlative)
    ("the cup at the eastern side of the vase", 'relate(find("cup", head="cup"), east_of, find("vase", head="vase"))'),
    # the vertical axis nests innermost, whatever order the words come in
    ("the eastern high cup", 'superlative(eastmost, superlative(highmost, find("cup", head="cup")))'),
])
def test_plugin_superlatives_use_their_registry_entries(text, expected):
    program = compile_expression(text, registry=_registry())
    assert str(program.root.args[1]) == expected


def test_built_in_superlatives_carry_their_entries():
    left = REGISTRY.get("leftmost")
    assert (left.opposite, left.comparative, left.axis) == ("rightmost", "left_of", "x")
    assert REGISTRY.get("topmost").axis == "y" and REGISTRY.get("middle").axis is None
    assert all(REGISTRY.get(p.opposite).opposite == p.name for p in REGISTRY.items("superlative"))
    assert np.all([REGISTRY.get(p.comparative).kind == "relation" for p in REGISTRY.items("superlative")])


def test_missing_lookups_data_is_a_clear_error(monkeypatch):
    import spacy

    class NoLookups:
        def add_pipe(self, *a, **k):
            raise ValueError("[E1004] lookups not found")

    monkeypatch.setattr(spacy, "blank", lambda lang: NoLookups())
    tokens.blank_nlp.cache_clear()
    try:
        with pytest.raises(CompileError, match="spacy-lookups-data is not installed"):
            tokens.blank_nlp()
    finally:
        monkeypatch.undo()
        tokens.blank_nlp.cache_clear()
