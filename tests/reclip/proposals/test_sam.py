"""SAM as a source on a tiny random-weight model: architecture from the checkpoint, automatic
masks with clean-up and a cap, masks prompted by another source's boxes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from proposal_models import SAM_OPEN, tiny_sam_architecture

from reclip.proposals import MissingWeightsError, build_source, parse_source_spec
from reclip.proposals.sam import load_sam, sam_architecture


def test_the_architecture_is_read_from_the_checkpoint(sam_checkpoint):
    state = torch.load(sam_checkpoint, weights_only=True)
    assert sam_architecture(state) == tiny_sam_architecture()
    model = load_sam(sam_checkpoint, device="cpu")
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_automatic_masks_are_image_sized_boxed_tightly_capped_and_small_ones_dropped(sam_checkpoint, photo):
    source = build_source(f"sam:{sam_checkpoint}?{SAM_OPEN},max_proposals=5,min_area=0.2", device="cpu")
    props = source(photo)
    w, h = photo.size
    assert 0 < len(props) <= 5
    for p in props:
        assert p.mask.shape == (h, w) and p.mask.sum() >= 0.2 * w * h
        ys, xs = np.nonzero(p.mask)
        assert p.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    assert [p.score for p in props] == sorted((p.score for p in props), reverse=True)
    source.source.min_area = 1.01   # no mask is bigger than the image: all dropped
    assert source(photo) == []


def test_masks_prompted_by_another_sources_boxes_stay_in_their_boxes(sam_checkpoint, photo, tmp_path):
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([{"box": [10, 20, 60, 90], "label": "cup", "score": 0.5},
                                 {"box": [70.5, 5, 150, 40], "label": "dog"}]))
    spec = f"file:{boxes}+sam:{sam_checkpoint}"
    assert parse_source_spec(spec).prompts.name == "file"
    props = build_source(spec, device="cpu")(photo)
    assert [(p.box, p.label, p.score) for p in props] == [
        ((10, 20, 60, 90), "cup", 0.5), ((70.5, 5, 150, 40), "dog", None)]
    for p in props:
        assert p.mask is not None and p.mask.shape == (120, 160) and p.mask.any()
        ys, xs = np.nonzero(p.mask)
        assert xs.min() >= np.floor(p.box[0]) and xs.max() < np.ceil(p.box[2])
        assert ys.min() >= np.floor(p.box[1]) and ys.max() < np.ceil(p.box[3])


def test_a_detector_prompts_sam(maskrcnn_weights, sam_checkpoint):
    from proposal_models import FAST

    parsed = parse_source_spec(f"maskrcnn:{maskrcnn_weights}?{FAST}+sam:{sam_checkpoint}?max_proposals=3")
    assert (parsed.name, parsed.arg, parsed.options) == ("sam", str(sam_checkpoint), {"max_proposals": 3})
    assert (parsed.prompts.name, parsed.prompts.arg) == ("maskrcnn", str(maskrcnn_weights))
    assert parsed.prompts.options["min_size"] == 128


def test_a_missing_or_foreign_checkpoint_is_one_clear_error(tmp_path, maskrcnn_weights):
    with pytest.raises(MissingWeightsError, match=r"SAM checkpoint not found: .*sam_vit_b_01ec64.pth; fetch .*curl"):
        build_source(f"sam:{tmp_path / 'sam_vit_b_01ec64.pth'}")
    with pytest.raises(MissingWeightsError, match="is not a SAM checkpoint"):
        build_source(f"sam:{maskrcnn_weights}")
    with pytest.raises(MissingWeightsError, match="SAM needs its checkpoint: sam:PATH"):
        build_source("sam")
