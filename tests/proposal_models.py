"""Random-weight proposal models for tests and benchmarks: nothing downloads (weights=None)."""

from __future__ import annotations

# Small inputs and few RoIs keep a random-weight forward pass to a few CPU-seconds.
FAST = "min_size=128,max_size=192,rpn_pre_nms_top_n_test=50,rpn_post_nms_top_n_test=12,box_detections_per_img=10"
# Random SAM weights pass no quality threshold: open them all.
SAM_OPEN = "points_per_side=2,pred_iou_thresh=0,stability_score_thresh=0,box_nms_thresh=1"


def save_detector(path, builder_name: str):
    """A random-weight torchvision detector's state dict at ``path``."""
    import torch
    from torchvision.models import detection

    torch.manual_seed(0)
    model = getattr(detection, builder_name)(weights=None, weights_backbone=None, num_classes=91)
    torch.save(model.state_dict(), path)
    return path


def tiny_sam_architecture() -> dict:
    return {"embed_dim": 64, "depth": 2, "num_heads": 2, "img_size": 256, "window_size": 4,
            "global_attn_indexes": [1], "mlp_ratio": 4.0}


def save_tiny_sam(path, seed: int = 0):
    import torch

    from reclip.proposals.sam import build_sam

    torch.manual_seed(seed)
    torch.save(build_sam(tiny_sam_architecture()).state_dict(), path)
    return path
