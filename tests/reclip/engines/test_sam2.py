"""SAM 2 through transformers as a mask source: automatic masks, and masks for another source's boxes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from reclip.clip import ModelLoadError
from reclip.proposals import proposal_source

OPEN = "points_per_side=3,pred_iou_thresh=-100,min_area=0,box_nms_thresh=1"   # random weights pass nothing else


def photo() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (60, 100, 3), dtype=np.uint8))


def test_sam2_automatic_masks_are_valid_proposals(sam2_dir):
    proposals = proposal_source(f"sam2:{sam2_dir}?{OPEN}")(photo())
    assert 1 <= len(proposals) <= 9
    for p in proposals:
        assert p.mask.shape == (60, 100) and p.mask.any()
        ys, xs = np.nonzero(p.mask)
        assert list(p.box) == [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]   # the mask's own box


def test_boxes_plus_sam2_gives_one_mask_per_box_inside_it(sam2_dir, tmp_path):
    boxes = [{"box": [5, 5, 50, 40], "label": "lion"}, {"box": [40, 10, 95, 55], "label": "tree"}]
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    proposals = proposal_source(f"{tmp_path / 'boxes.json'}+sam2:{sam2_dir}")(photo())
    assert [list(p.box) for p in proposals] == [b["box"] for b in boxes]
    assert [p.label for p in proposals] == ["lion", "tree"]
    for p in proposals:
        assert p.mask is not None and p.mask.any()
        x0, y0, x1, y1 = (int(v) for v in p.box)
        outside = p.mask.copy()
        outside[y0:y1, x0:x1] = False
        assert not outside.any()


def test_missing_sam2_is_one_line(tmp_path):
    with pytest.raises(ModelLoadError) as err:
        proposal_source(f"sam2:{tmp_path / 'nothing'}")
    assert "\n" not in str(err.value) and "sam2 model" in str(err.value)
