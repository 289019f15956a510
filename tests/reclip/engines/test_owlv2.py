"""OWLv2 through its spec: the contract, one image forward per image, caches, own boxes exact."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from reclip.clip import ModelLoadError
from reclip.engines import build_scorer, iou_matrix
from reclip.engines.owlv2 import Owlv2Engine
from reclip.proposals import proposal_source


def photo(seed: int, size=(120, 80)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


BOXES = [[0, 0, 60, 40], [50, 10, 119, 79], [10, 30, 40, 70], [0, 0, 120, 80], [70, 0, 100, 30]]


def test_owlv2_spec_scores_with_the_contract_shape(owlv2_dir):
    scorer = build_scorer(f"owlv2:{owlv2_dir}")
    assert isinstance(scorer, Owlv2Engine)
    logits = scorer.score(photo(0), BOXES, ["a lion", "the tree", "red cup"])
    assert logits.shape == (3, len(BOXES)) and logits.dtype == np.float32
    assert np.all(np.isfinite(logits))
    assert len({tuple(row) for row in logits.round(5)}) == 3   # the texts are told apart


def test_one_image_forward_per_image_across_score_calls(owlv2_dir):
    engine = build_scorer(f"owlv2:{owlv2_dir}")
    engine.clear_cache()
    engine.reset_stats()
    image = photo(1)
    engine.score(image, BOXES, ["lion"])
    engine.score(image, BOXES[:2], ["tree", "man", "lion"])
    engine.score(image.copy(), BOXES, ["dog"])           # same content, another object
    assert engine.stats.image_forwards == 1
    assert engine.stats.text_hits == 1 and engine.stats.texts_encoded == 4
    engine.score(photo(2), BOXES, ["lion"])
    assert engine.stats.image_forwards == 2


def test_cached_features_give_the_models_own_logits(owlv2_dir):
    """The class head on cached features equals transformers' full forward on the same inputs."""
    engine = build_scorer(f"owlv2:{owlv2_dir}")
    image, texts = photo(3), ["lion", "tree"]
    entry = engine.image_entry(image)
    ours = engine.box_logits(entry, texts)                                     # (T, P)
    inputs = dict(engine.processor.image_processor(images=image, return_tensors="pt"))
    inputs.update(engine.processor.tokenizer(texts, padding="max_length", max_length=16, return_tensors="pt"))
    with torch.inference_mode():
        out = engine.model(**inputs)
    np.testing.assert_allclose(ours, out.logits[0].T.numpy(), rtol=1e-4, atol=1e-4)
    side = max(image.size)
    cx, cy, w, h = out.pred_boxes[0, 0].numpy() * side
    np.testing.assert_allclose(entry.boxes[0], np.clip([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
                                                       0, [120, 80, 120, 80]), atol=1e-3)


def test_owlv2_proposals_score_exactly_as_their_boxes(owlv2_dir):
    image = photo(4)
    proposals = proposal_source(f"owlv2:{owlv2_dir}?max_proposals=5")(image)
    engine = build_scorer(f"owlv2:{owlv2_dir}")
    entry = engine.image_entry(image)
    logits = engine.box_logits(entry, ["lion", "tree"])
    own = [int(np.flatnonzero((entry.boxes == np.array(p.box)).all(1))[0]) for p in proposals]
    np.testing.assert_array_equal(engine.score(image, proposals, ["lion", "tree"]),
                                  logits[:, own].astype(np.float32))


def test_foreign_proposals_take_the_best_overlapping_box_discounted_by_iou(owlv2_dir):
    image = photo(5)
    engine = build_scorer(f"owlv2:{owlv2_dir}")
    entry = engine.image_entry(image)
    logits = engine.box_logits(entry, ["lion"])[0]
    got = engine.score(image, BOXES, ["lion"])[0]
    for box, score in zip(BOXES, got):
        overlaps = [iou_matrix([box], [b])[0, 0] for b in entry.boxes]      # one pair at a time
        k = int(np.argmax(overlaps))
        assert score == pytest.approx(logits[k] + np.log(max(overlaps[k], 1e-3)), abs=1e-4)


def test_owlv2_source_gives_valid_boxes_ranked_by_objectness(owlv2_dir):
    image = photo(6, size=(90, 150))
    proposals = proposal_source(f"owlv2:{owlv2_dir}?max_proposals=6,nms_iou=0.6")(image)
    assert 1 <= len(proposals) <= 6
    for p in proposals:
        x0, y0, x1, y1 = p.box
        assert 0 <= x0 < x1 <= 90 and 0 <= y0 < y1 <= 150
    scores = [p.score for p in proposals]
    assert scores == sorted(scores, reverse=True)
    boxes = np.array([p.box for p in proposals])
    assert (iou_matrix(boxes, boxes)[~np.eye(len(boxes), dtype=bool)] <= 0.6).all()


@pytest.mark.parametrize("where, looked", [("/no/such/owl", "not a folder"),
                                           ("google/owlv2-base-patch16-ensemble", "Hugging Face cache")])
def test_missing_model_is_one_line_saying_where_and_how(where, looked):
    with pytest.raises(ModelLoadError) as err:
        build_scorer(f"owlv2:{where}")
    text = str(err.value)
    assert "\n" not in text and where in text and looked in text
    assert "save_pretrained" in text and "--model owlv2:DIR" in text


def test_a_folder_of_another_model_is_refused(gdino_dir):
    with pytest.raises(ModelLoadError, match="holds a grounding-dino model, not owlv2"):
        build_scorer(f"owlv2:{gdino_dir}")


def test_a_hub_id_in_the_local_hugging_face_cache_loads(owlv2_dir, tmp_path, monkeypatch):
    import shutil

    from huggingface_hub import constants

    snapshot = tmp_path / "hub" / "models--tiny-org--owlv2-test" / "snapshots" / "0123abcd"
    shutil.copytree(owlv2_dir, snapshot)
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("0123abcd")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    scorer = build_scorer("owlv2:tiny-org/owlv2-test")
    np.testing.assert_array_equal(scorer.score(photo(7), BOXES, ["lion"]),
                                  build_scorer(f"owlv2:{owlv2_dir}").score(photo(7), BOXES, ["lion"]))
