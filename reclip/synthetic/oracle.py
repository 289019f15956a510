"""The gold-attribute oracle: a Scorer that knows every object's attributes, and the check
that a gold program picks its referent clearly with it."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image

from grammar.ast import Node, Program
from interpreter import Proposal, ProposalGraph, execute
from reclip.synthetic.scenes import COLOURS, SHAPES

CLEAR_RATIO = 1.5   # the gold object's probability over the runner-up's, gold attributes

# -- the gold-attribute oracle ----------------------------------------------------------
_PLURALS = {f"{s}s": s for s in SHAPES}
_SIZE_WORDS = {"small": "small", "little": "small", "tiny": "small",
               "big": "big", "large": "big"}


def phrase_attributes(text: str) -> dict[str, str]:
    """Attributes named by a find text's first noun phrase: words up to the first shape.

    "small red circle" -> {size, colour, shape}; "the circle left of the blue square"
    -> {shape: circle} (the landmark belongs to another phrase).
    """
    out: dict[str, str] = {}
    for word in text.lower().replace(",", " ").split():
        word = _PLURALS.get(word, word)
        if word in COLOURS:
            out.setdefault("colour", word)
        elif word in _SIZE_WORDS:
            out.setdefault("size", _SIZE_WORDS[word])
        elif word in SHAPES:
            out["shape"] = word
            break
    return out


def matches(attributes: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(attributes.get(k) == v for k, v in wanted.items())


class GoldAttributeScorer:
    """A Scorer that knows each proposal's attributes (from its label): high logits
    where the find text's attributes all match, low elsewhere."""

    def __init__(self, high: float = 20.0, low: float = 0.0):
        self.high, self.low = high, low

    def score(self, image: Image.Image, proposals: Sequence[Proposal],
              texts: Sequence[str]) -> np.ndarray:
        attrs = [label_attributes(p.label or "") for p in proposals]
        out = np.full((len(texts), len(proposals)), self.low)
        for t, text in enumerate(texts):
            wanted = phrase_attributes(str(text))
            for i, a in enumerate(attrs):
                if wanted and matches(a, wanted):
                    out[t, i] = self.high
        return out


def label_attributes(label: str) -> dict[str, str]:
    size, colour, shape = (label.split() + ["", "", ""])[:3]
    return {"size": size, "colour": colour, "shape": shape}


def gold_check(scene_proposals: Sequence[Proposal], program: Node, gold: int,
               ratio: float = CLEAR_RATIO) -> tuple[bool, np.ndarray]:
    """Run ``program`` with gold attributes; True when ``gold`` wins by ``ratio``."""
    graph = ProposalGraph(scene_proposals)
    res = execute(Program(program), graph, GoldAttributeScorer(), None)  # type: ignore[arg-type]
    p = res.scores
    others = np.delete(p, gold)
    ok = res.index == gold and (others.size == 0 or p[gold] >= ratio * others.max())
    return bool(ok), p
