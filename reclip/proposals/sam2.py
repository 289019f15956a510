"""SAM 2 through transformers (``Sam2Model``, the ``detectors`` extra) as a mask source beside SAM.

``sam2[:WHERE]`` proposes automatic masks: a ``points_per_side``² grid of single positive
points, all prompts of an image in one forward; a mask is kept when its predicted IoU is at
least ``pred_iou_thresh`` and its area at least ``min_area`` (a fraction of the image), then
greedy NMS over the masks' boxes at ``box_nms_thresh``, best predicted IoU first, at most
``max_proposals``. ``BOXES+sam2:WHERE`` prompts SAM 2 with another source's boxes (FGVP's
recipe), one mask per box cut to its box, the box's label and score kept. WHERE is a
``save_pretrained`` folder or a hub id in the local Hugging Face cache (default
``facebook/sam2.1-hiera-tiny``); nothing is downloaded.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from PIL import Image

from interpreter import Proposal
from reclip.proposals.sam import box_region, mask_box
from reclip.proposals.facts import SourceFacts, SourceOption, declare
from reclip.proposals.sources import PROPOSAL_SOURCES, ProposalSource, ProposalSourceError


@PROPOSAL_SOURCES.register("sam2")
class Sam2Source:
    """SAM 2 masks as proposals: automatic (a point grid) or prompted by ``prompts``' boxes."""

    def __init__(self, where: str | None = None, *, prompts: ProposalSource | None = None,
                 points_per_side: int = 16, pred_iou_thresh: float = 0.7, box_nms_thresh: float = 0.7,
                 min_area: float = 0.0005, max_proposals: int = 100, clip_to_box: bool = True,
                 device: str | None = None, precision: str | None = None) -> None:
        from reclip.clip.precision import resolve_precision
        from reclip.engines.hub import DEFAULT_CHECKPOINTS, load_detector  # torch and transformers when used

        if int(points_per_side) < 1 or int(max_proposals) < 1:
            raise ProposalSourceError("sam2: points_per_side and max_proposals must be >= 1")
        self.model, self.processor = load_detector("sam2", where or DEFAULT_CHECKPOINTS["sam2"], device)
        self.precision = resolve_precision(precision, next(self.model.parameters()).device)
        self.prompts = prompts
        self.points_per_side, self.pred_iou_thresh = int(points_per_side), float(pred_iou_thresh)
        self.box_nms_thresh, self.min_area = float(box_nms_thresh), float(min_area)
        self.max_proposals, self.clip_to_box = int(max_proposals), bool(clip_to_box)

    def __call__(self, image: Image.Image) -> list[Proposal]:
        rgb = image.convert("RGB")
        if self.prompts is not None:
            return self._prompted(rgb, self.prompts(image))
        return self._automatic(rgb)

    def batch(self, images: Sequence[Image.Image]) -> list[list[Proposal]]:
        return [self(image) for image in images]

    def _masks(self, image: Image.Image, **prompts: Any) -> tuple[np.ndarray, np.ndarray]:
        """(P, H, W) bool masks at the image's size and (P,) predicted IoUs, one forward."""
        import torch

        from reclip.clip.precision import autocast

        inputs = self.processor(images=image, return_tensors="pt", **prompts)
        device = next(self.model.parameters()).device
        tensors = {k: v.to(device) for k, v in inputs.items()
                   if k in ("pixel_values", "input_points", "input_labels", "input_boxes")}
        with torch.inference_mode(), autocast(self.precision, device):
            out = self.model(**tensors, multimask_output=False)
        masks = self.processor.post_process_masks(out.pred_masks.float().cpu(), inputs["original_sizes"])[0]
        return masks[:, 0].numpy().astype(bool), out.iou_scores[0, :, 0].float().cpu().numpy()

    def _automatic(self, image: Image.Image) -> list[Proposal]:
        from reclip.engines.boxes import nms_order

        w, h = image.size
        n = self.points_per_side
        grid = [[[[(i + 0.5) * w / n, (j + 0.5) * h / n]] for i in range(n) for j in range(n)]]
        masks, ious = self._masks(image, input_points=grid, input_labels=[[[1]] * (n * n)])
        smallest = max(self.min_area * w * h, 1)
        good = [k for k in range(len(masks)) if ious[k] >= self.pred_iou_thresh and masks[k].sum() >= smallest]
        if not good:
            return []
        boxes = np.array([mask_box(masks[k]) for k in good])
        keep = nms_order(boxes, ious[good], self.box_nms_thresh, self.max_proposals)
        return [Proposal(list(boxes[i]), masks[good[i]], None, float(ious[good[i]])) for i in keep]

    def _prompted(self, image: Image.Image, boxes: list[Proposal]) -> list[Proposal]:
        if not boxes:
            return []
        masks, _ = self._masks(image, input_boxes=[[list(p.box) for p in boxes]])
        out = []
        for p, mask in zip(boxes, masks):
            if self.clip_to_box:
                mask = mask & box_region(p.box, mask.shape)
            out.append(Proposal(p.box, mask if mask.any() else p.mask, p.label, p.score))
        return out


declare(Sam2Source, SourceFacts(
    gives=frozenset({"boxes", "masks", "scores", "labels"}), arg="DIR",
    needs=("the transformers package (reclip[detectors])", "a SAM 2 save_pretrained folder or a cached hub id",
           "a device"),
    options=(
        SourceOption("points_per_side", int, 16, 1, 256, "automatic: a grid of this many point prompts per side"),
        SourceOption("pred_iou_thresh", float, 0.7, None, 1, "automatic: keep masks whose predicted IoU passes this"),
        SourceOption("box_nms_thresh", float, 0.7, 0, 1, "automatic: NMS IoU between masks' boxes"),
        SourceOption("min_area", float, 0.0005, 0, 1, "automatic: drop masks under this fraction of the image"),
        SourceOption("max_proposals", int, 100, 1, None, "automatic: keep at most this many"),
        SourceOption("clip_to_box", bool, True, help="prompted: cut each mask to its prompting box"),
    ),
    summary="SAM 2 (transformers): automatic masks, or masks prompted by BOXES"))
