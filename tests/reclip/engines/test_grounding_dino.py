"""Grounding DINO through its spec: the contract, prompts packed into few forwards, phrase scores
from the phrase's own tokens, and the flagship: a detector's lions plus reclip's "left"."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reclip import Locator, compile_expression
from reclip.clip import ModelLoadError
from reclip.engines import build_scorer, detector_engine
from reclip.engines.grounding_dino import GroundingDinoEngine, phrase_of
from reclip.proposals import ProposalSourceError, proposal_source

BOXES = [[0, 0, 60, 40], [50, 10, 99, 59], [10, 30, 40, 60], [0, 0, 100, 60]]


def photo(seed: int, size=(100, 60)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def test_grounding_dino_spec_scores_with_the_contract_shape_in_one_forward(gdino_dir):
    scorer = build_scorer(f"grounding-dino:{gdino_dir}")
    assert isinstance(scorer, GroundingDinoEngine)
    scorer.clear_cache()
    scorer.reset_stats()
    texts = ["the left lion", "lion", "a red cup"]
    logits = scorer.score(photo(0), BOXES, texts)
    assert logits.shape == (3, 4) and np.all(np.isfinite(logits))
    assert scorer.stats.image_forwards == 1            # three finds, one prompt
    scorer.score(photo(0), BOXES[:2], texts)
    assert scorer.stats.image_forwards == 1            # the same prompt and image: cached


def test_phrases_pack_into_prompts_that_fit_with_their_own_tokens(gdino_dir):
    engine = detector_engine("grounding-dino", gdino_dir)
    texts = ["the big red lion next to the tree", "a small dog", "the man on the left",
             "red cup", "the cat on the right of the car", "person", "the lion. the tree"]
    chunks = engine.chunks(texts)
    assert len(chunks) >= 2                            # max_text_len is 32 in the tiny model
    assert [p for c in chunks for p in c.phrases] == [phrase_of(t) for t in texts]
    tokenizer = engine.processor.tokenizer
    for chunk in chunks:
        assert len(chunk.input_ids) <= 32
        for phrase, tokens in zip(chunk.phrases, chunk.tokens):
            assert tokenizer.decode([chunk.input_ids[i] for i in tokens]) == phrase


def stub_outputs(engine: GroundingDinoEngine, boxes: list[list[float]], lights: list[dict[str, float]],
                 size: tuple[int, int]):
    """A ``_run_model`` returning ``boxes`` (pixels) whose token logits are ``lights[box][word]``
    (-5 for a word not named)."""
    w, h = size
    cxcywh = np.array([[(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]
                       for x0, y0, x1, y1 in boxes])

    def run(image, chunk):
        words = engine.processor.tokenizer.convert_ids_to_tokens(list(chunk.input_ids))
        logits = np.array([[light.get(word, -5.0) for word in words] for light in lights])
        engine.stats.image_forwards += 1
        return logits, cxcywh

    return run


@pytest.fixture
def stubbed(gdino_dir, monkeypatch):
    engine = detector_engine("grounding-dino", gdino_dir)
    engine.clear_cache()
    yield engine, monkeypatch
    engine.clear_cache()          # the stub's forwards must not outlive the test


def test_a_phrase_is_scored_by_its_own_tokens_not_the_whole_prompt(stubbed):
    engine, monkeypatch = stubbed
    boxes = [[0, 0, 50, 60], [50, 0, 100, 60]]
    monkeypatch.setattr(engine, "_run_model", stub_outputs(engine, boxes, [{"lion": 4.0}, {"tree": 4.0}], (100, 60)))
    logits = engine.score(photo(1), boxes, ["lion", "tree", "the left lion"])
    assert logits[0].tolist() == [4.0, -5.0]           # "lion" reads the lion token only
    assert logits[1].tolist() == [-5.0, 4.0]           # "tree" reads the tree token only
    assert logits[2] == pytest.approx([(-5 - 5 + 4) / 3, -5.0])   # the mean over the, left, lion
    # the stock post-processing's max over all tokens would score both boxes 4.0 for every phrase


def test_the_left_lion_takes_the_detectors_lions_and_reclips_left(stubbed):
    engine, monkeypatch = stubbed
    size = (200, 100)
    left, right, tree = [10, 40, 60, 90], [130, 40, 180, 90], [80, 10, 110, 90]
    lights = [{"lion": 5.0, "the": 0.0, "left": 0.0}, {"lion": 5.0, "the": 0.0, "left": 0.0}, {"tree": 5.0}]
    monkeypatch.setattr(engine, "_run_model", stub_outputs(engine, [left, right, tree], lights, size))
    image = Image.new("RGB", size, "tan")
    locator = Locator(scorer=build_scorer(f"grounding-dino:{engine.name.partition(':')[2]}"))
    spec = f"grounding-dino:{engine.name.partition(':')[2]}?max_proposals=10"

    alone = locator.run("find(\"lion\")", image, spec)
    boxes = [list(p.box) for p in alone.graph.proposals]
    assert sorted(boxes) == sorted([[float(v) for v in b] for b in (left, right, tree)])
    lions = [boxes.index([float(v) for v in b]) for b in (left, right)]
    assert alone.scores[lions[0]] == pytest.approx(alone.scores[lions[1]])   # find alone ties them
    assert alone.scores[lions[0]] > 0.49

    program = compile_expression("the left lion")
    assert str(program) == 'and(find("the left lion"), superlative(leftmost, find("lion", head="lion")))'
    result = locator.run(program, image, spec)
    assert result.box == [float(v) for v in left]


def test_grounding_dino_source_needs_texts_and_proposes_for_them(gdino_dir):
    source = proposal_source(f"grounding-dino:{gdino_dir}?max_proposals=4")
    assert source.needs_texts
    with pytest.raises(ProposalSourceError, match="need the texts"):
        source(photo(2))
    image = photo(2)
    proposals = source.for_texts(["lion", "tree"])(image)
    assert 1 <= len(proposals) <= 4
    assert all(0 <= p.box[0] < p.box[2] <= 100 and 0 <= p.box[1] < p.box[3] <= 60 for p in proposals)
    assert {p.label for p in proposals} <= {"lion", "tree"}
    engine = detector_engine("grounding-dino", gdino_dir)
    fwd, row = engine.predictions(image, ["lion", "tree"])[0]
    own = [int(np.flatnonzero((fwd.boxes == np.array(p.box)).all(1))[0]) for p in proposals]
    # scored for the texts they were proposed for (the Locator asks both for the programs' finds):
    # the same prompt, the same forward, and each proposal scores exactly as its box
    np.testing.assert_array_equal(engine.score(image, proposals, ["lion", "tree"])[0],
                                  fwd.logits[row, own].astype(np.float32))


def test_missing_grounding_dino_is_one_line():
    with pytest.raises(ModelLoadError) as err:
        build_scorer("grounding-dino:IDEA-Research/grounding-dino-tiny")
    text = str(err.value)
    assert "\n" not in text and "Hugging Face cache" in text and "--model grounding-dino:DIR" in text

