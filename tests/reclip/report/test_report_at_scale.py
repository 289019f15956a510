"""The trace page and the drawing stay readable with 1,000 proposals: only the boxes that
matter are numbered, the rest drawn faintly, and the page's size is bounded."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from reclip import Locator
from reclip.report import draw as draw_module
from reclip.report.diagnose import TOP_PER_NODE, diagnose, salient
from reclip.report.draw import draw_result
from reclip.report.trace import trace_html

N = 1000
PAGE_LIMIT = 1_000_000      # bytes, image included
PROGRAM = 'and(find("a red cup"), relate(find("cup"), left_of, find("plate")))'


class FixedScorer:
    """Seeded logits, a different row per text: a cheap stand-in for CLIP."""

    def score(self, image, proposals, texts):
        return np.stack([np.random.default_rng(len(t)).normal(0, 3, len(proposals)) for t in texts])


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 560, (N, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(10, 80, (N, 2))], axis=1).tolist()
    image = Image.new("RGB", (640, 640), (200, 200, 190))
    result = Locator(FixedScorer()).run(PROGRAM, image, boxes)
    gold = boxes[int(np.argsort(-result.scores)[7])]     # a proposal the answer is not
    return image, boxes, result, gold


def expected_labels(result, gold_box) -> set[int]:
    steps = result.trace.steps
    keep = {result.index, diagnose(result, gold_box).gold_index}
    for s in steps:
        keep |= set(np.argsort(-s.distribution)[:TOP_PER_NODE].tolist())
    return keep


def test_the_trace_page_numbers_only_the_boxes_that_matter_and_stays_small(scene):
    image, boxes, result, gold = scene
    html = trace_html(result, image, gold_box=gold)
    tagged = {int(i) for i in re.findall(r'data-index="(\d+)"><rect class="proposal-box"[^>]*>.*?</rect><g class="tag"',
                                           html)}
    assert tagged == expected_labels(result, gold) == salient(result, diagnose(result, gold).gold_index)
    assert html.count('class="proposal-box"') == N and html.count("faint") >= N - len(tagged)
    assert len(html.encode("utf-8")) < PAGE_LIMIT
    assert html.count('class="bar-row') <= len(result.trace.steps) * 42


def test_the_drawing_numbers_only_the_boxes_that_matter(scene, monkeypatch):
    image, boxes, result, gold = scene
    drawn = []
    real = draw_module._label
    monkeypatch.setattr(draw_module, "_label", lambda draw, box, text, *a: drawn.append(int(text)) or
                        real(draw, box, text, *a))
    labelled = salient(result, diagnose(result, gold).gold_index)
    draw_result(image, boxes, chosen=result.index, gold_box=gold, labelled=labelled)
    assert set(drawn) == expected_labels(result, gold) and len(drawn) == len(set(drawn)) <= 2 + len(result.trace.steps) * TOP_PER_NODE
