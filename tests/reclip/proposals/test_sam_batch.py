"""SAM's box prompts in one batch, its small-region clean-up, and precision reaching SAM and
the detectors (bf16 on the CPU exercises the half-precision path)."""

from __future__ import annotations

import json

import numpy as np
import torch
from proposal_models import FAST

from reclip.proposals import build_source
from reclip.proposals.sam import remove_small_regions

BOXES = [[10, 20, 60, 90], [70.5, 5, 150, 40], [0, 0, 160, 120], [100, 60, 140, 118], [30, 30, 50, 50]]


def test_all_boxes_in_one_prompt_batch_give_the_masks_of_one_box_at_a_time(sam_checkpoint, photo, tmp_path):
    def source_for(boxes, name):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(boxes))
        return build_source(f"file:{path}+sam:{sam_checkpoint}", device="cpu")

    batched = source_for(BOXES, "all")
    calls = []
    predict = batched.source.predictor.predict_torch
    batched.source.predictor.predict_torch = lambda **kw: calls.append(len(kw["boxes"])) or predict(**kw)
    together = batched(photo)
    assert calls == [len(BOXES)]                 # one decoder call for every box of the image
    for i, box in enumerate(BOXES):
        alone = source_for([box], f"one{i}")(photo)[0]
        assert np.array_equal(alone.mask, together[i].mask), i


def drawn_mask() -> np.ndarray:
    mask = np.zeros((60, 80), bool)
    mask[10:50, 10:50] = True        # the object, 1600 px
    mask[25:30, 25:30] = False       # a 25 px hole in it
    mask[5:9, 65:70] = True          # a 20 px island away from it
    return mask


def test_clean_up_removes_an_island_and_fills_a_hole():
    mask = drawn_mask()
    clean = remove_small_regions(mask, 100)
    want = np.zeros_like(mask)
    want[10:50, 10:50] = True
    assert np.array_equal(clean, want)
    assert np.array_equal(remove_small_regions(mask, 10), mask)     # both above 10 px: kept
    only_small = np.zeros((20, 20), bool)
    only_small[2:4, 2:4], only_small[10:15, 10:15] = True, True
    kept = remove_small_regions(only_small, 100)                      # every island small: the largest stays
    assert kept.sum() == 25 and kept[12, 12]


def output_dtypes(module: torch.nn.Module) -> list[torch.dtype]:
    seen: list[torch.dtype] = []
    module.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    return seen


def test_precision_reaches_sam_and_the_detectors(sam_checkpoint, maskrcnn_weights, photo, tmp_path):
    sam = build_source(f"sam:{sam_checkpoint}?points_per_side=2,pred_iou_thresh=0,stability_score_thresh=0",
                       device="cpu", precision="bf16")
    seen = output_dtypes(sam.source.model.image_encoder.patch_embed.proj)
    props = sam(photo)
    assert sam.source.precision == "bf16" and seen == [torch.bfloat16]
    assert sam.source.generator.points_per_batch == 64      # SAM's own batch on the CPU
    assert props and all(p.mask.dtype == bool for p in props)
    detector = build_source(f"maskrcnn:{maskrcnn_weights}?{FAST},score_threshold=0", device="cpu",
                            precision="bf16")
    seen = output_dtypes(detector.source.model.backbone.body.conv1)
    boxes = detector(photo)
    assert detector.source.precision == "bf16" and seen == [torch.bfloat16]
    assert boxes and all(isinstance(v, float) for p in boxes for v in p.box)
    fp32 = build_source(f"maskrcnn:{maskrcnn_weights}?{FAST}", device="cpu")
    assert fp32.source.precision == "fp32"      # the CPU's default
