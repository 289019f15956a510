"""A hand-built scene shared by the report, browser and CLI tests: cups and plates with
labels, a scorer that reads the labels, and a program run over it."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from reclip import Locator, Proposal

# A scene where the program goes wrong in a known place: two red cups, both left of
# the green plate (#3), and the expression's "left of the plate" also matches the
# yellow plate (#4), which only cup #0 is left of; so relate(left_of) drops #2.
SCENE = [([30, 200, 110, 280], "red cup", (220, 40, 40)),
         ([150, 190, 230, 290], "blue cup", (40, 60, 220)),
         ([280, 210, 340, 280], "red cup", (220, 40, 40)),
         ([360, 120, 460, 300], "green plate", (40, 170, 60)),
         ([180, 30, 300, 120], "yellow plate", (230, 200, 40))]
GOLD = [282, 212, 338, 281]   # cup #2
PROGRAM = 'and(find("red cup left of the plate"), relate(find("red cup", head="cup"), left_of, find("plate")))'
EXPRESSION = "the red cup left of the green plate"


class LabelScorer:
    """Logits = scale x (words a proposal's label shares with the text): a CLIP stand-in."""

    def __init__(self, scale: float = 4.0):
        self.scale = scale

    def score(self, image, proposals, texts):
        return np.array([[self.scale * len(set(str(t).lower().split()) & set((p.label or "").split()))
                          for p in proposals] for t in texts])


def make_scene() -> tuple[Image.Image, list[Proposal]]:
    img = Image.new("RGB", (480, 320), (235, 232, 220))
    draw = ImageDraw.Draw(img)
    for box, _, colour in SCENE:
        draw.ellipse(box, fill=colour)
    return img, [Proposal(box, label=label) for box, label, _ in SCENE]


def run_scene(program: str = PROGRAM, scale: float = 4.0):
    img, proposals = make_scene()
    return img, Locator(LabelScorer(scale)).run(program, img, proposals)
