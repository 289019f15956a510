"""Mixing engines: per-model weights from the spec, detectors beside CLIP, spec errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from reclip import Locator
from reclip.clip import ModelLoadError
from reclip.engines import WeightedEnsemble, build_scorer, detector_engine, parse_engine_spec
from reclip.scoring import ClipScorer

BOXES = [[0, 0, 60, 40], [50, 10, 119, 79], [10, 30, 40, 70]]
TEXTS = ["a lion", "the red cup"]


def photo(seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8))


def test_a_detector_and_clip_mix_with_the_specs_weights(owlv2_dir):
    mixed = build_scorer([f"owlv2:{owlv2_dir}?weight=0.5", "synthetic?weight=2"])
    assert isinstance(mixed, WeightedEnsemble)
    image = photo()
    owl = detector_engine("owlv2", owlv2_dir).score(image, BOXES, TEXTS)
    clip = ClipScorer.from_pretrained("synthetic").score(image, BOXES, TEXTS)
    np.testing.assert_allclose(mixed.score(image, BOXES, TEXTS), 0.5 * owl + 2 * clip, rtol=1e-5, atol=1e-4)
    assert mixed.stats.image_forwards >= 2            # both engines counted


def test_temperature_divides_a_detectors_logits_and_weight_one_is_the_bare_engine(owlv2_dir):
    image = photo(1)
    bare = build_scorer(f"owlv2:{owlv2_dir}")
    cooled = build_scorer(f"owlv2:{owlv2_dir}?temperature=4")
    np.testing.assert_allclose(cooled.score(image, BOXES, TEXTS), bare.score(image, BOXES, TEXTS) / 4, rtol=1e-6)
    assert isinstance(build_scorer("synthetic"), ClipScorer)     # CLIP alone stays a ClipScorer


@pytest.mark.parametrize("spec, message", [
    ("synthetic?temperature=2", "temperature applies to detector engines only"),
    ("owlv2:D?weight=0", "weight must be between 1e-06 and 1e\\+06, got 0"),
    ("owlv2:D?temperature=inf", "temperature must be between 1e-06 and 1e\\+06, got inf"),
    ("grounding-dino:D?temperature=nan", "temperature must be between"),
    ("synthetic?weight=1e-300", "weight must be between"),
    ("owlv2:D?weight=heavy", "weight must be a number"),
    ("owlv2:D?scale=2", "options after '?'"),
])
def test_bad_engine_options_are_one_error(spec, message):
    with pytest.raises(ModelLoadError, match=message):
        parse_engine_spec(spec)


def test_engine_specs_name_the_engine():
    spec = parse_engine_spec("grounding-dino?weight=0.3")
    assert (spec.kind, spec.model, spec.weight) == ("grounding-dino", "IDEA-Research/grounding-dino-tiny", 0.3)
    assert parse_engine_spec("ViT-B-32:openai").kind == "clip"


def test_locator_from_pretrained_runs_owlv2_with_its_own_proposals(owlv2_dir):
    from reclip.proposals import proposal_source

    spec = f"owlv2:{owlv2_dir}?max_proposals=5"
    locator = Locator.from_pretrained([f"owlv2:{owlv2_dir}", "synthetic?weight=0.1"])
    result = locator.locate(photo(2), "the left lion", spec)
    assert result.graph.proposals == proposal_source(spec)(photo(2))
    assert result.index == int(np.argmax(result.scores))
