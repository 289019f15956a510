"""Segment Anything as a proposal source (the optional ``sam`` extra: ``segment-anything``).

``sam:CHECKPOINT`` proposes SAM's automatic masks (a grid of point prompts), small regions
dropped and the count capped; ``BOXES+sam:CHECKPOINT`` prompts SAM with another source's boxes
(FGVP's recipe: detector boxes, SAM masks). The architecture (vit_b, vit_l, vit_h or any
other size) is read from the checkpoint's tensor shapes, so the file name does not matter.

Every mask is cleaned up as SAM's own post-processing does (``min_mask_region_area`` of its
automatic generator, ``remove_small_regions`` with OpenCV's connected components): holes, then
islands, under ``min_region_area`` pixels are removed. All boxes of an image go to SAM's decoder
as one prompt batch; the automatic generator's point batch is sized to the device
(``points_per_batch``). The model runs in ``precision`` (``reclip.clip.precision``).
"""

from __future__ import annotations

import os
import pickle
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.proposals.detectors import MissingWeightsError, torch_device
from reclip.proposals.facts import SourceOption, SourceFacts, declare
from reclip.proposals.sources import PROPOSAL_SOURCES, ProposalSource

if TYPE_CHECKING:  # torch is imported when a model is built, not with the package
    import torch

CHECKPOINTS = {  # the official files, by model type
    "vit_h": "sam_vit_h_4b8939.pth", "vit_l": "sam_vit_l_0b3195.pth", "vit_b": "sam_vit_b_01ec64.pth",
}
DOWNLOAD_ROOT = "https://dl.fbaipublicfiles.com/segment_anything/"
MIN_REGION_AREA = 100     # pixels: SAM's paper's clean-up of its automatic masks
CPU_POINTS_PER_BATCH = 64  # SamAutomaticMaskGenerator's default


class SamUnavailable(ReclipError):
    """The ``segment-anything`` package is not installed."""


def sam_fetch_command(file: str = CHECKPOINTS["vit_b"]) -> str:
    return f"curl -L -o {file} {DOWNLOAD_ROOT}{file}"


def _segment_anything():
    try:
        import segment_anything
    except ImportError:
        raise SamUnavailable("SAM proposals need the segment-anything package: pip install 'reclip[sam]'") from None
    return segment_anything


def load_sam(checkpoint: str | os.PathLike, device: str | None = None) -> torch.nn.Module:
    """A SAM model from a checkpoint (a state dict), its architecture read from the tensors."""
    import torch

    path = Path(checkpoint).expanduser()
    if not path.is_file():
        known = path.name if path.name in CHECKPOINTS.values() else CHECKPOINTS["vit_b"]
        raise MissingWeightsError(
            f"SAM checkpoint not found: {path}; fetch one on a machine with internet with: "
            f"{sam_fetch_command(known)} (vit_b; {', '.join(CHECKPOINTS.values())} are the choices)"
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = build_sam(sam_architecture(state))
        model.load_state_dict(state)
    except SamUnavailable:
        raise
    except Exception as exc:  # an image, another model's file, a truncated download: all unpickle differently
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        if isinstance(exc, pickle.UnpicklingError):   # torch's message is a paragraph on weights_only
            first = "torch cannot load it as a checkpoint (not a state dict file)"
        raise MissingWeightsError(f"{path} is not a SAM checkpoint: {first[:200]}") from None
    return model.to(torch_device(device)).eval()


def sam_architecture(state: dict[str, torch.Tensor]) -> dict[str, Any]:
    """Image-encoder sizes from a SAM state dict (the prompt encoder and decoder are fixed)."""
    grid, dim = state["image_encoder.pos_embed"].shape[1], state["image_encoder.pos_embed"].shape[-1]
    depth = 1 + max(int(k.split(".")[2]) for k in state if k.startswith("image_encoder.blocks."))
    spans = [state[f"image_encoder.blocks.{i}.attn.rel_pos_h"].shape[0] for i in range(depth)]
    head_dim = state["image_encoder.blocks.0.attn.rel_pos_h"].shape[1]
    windows = [(s + 1) // 2 for s in spans if (s + 1) // 2 != grid]
    return {
        "embed_dim": dim, "depth": depth, "num_heads": dim // head_dim, "img_size": grid * 16,
        "window_size": windows[0] if windows else grid,
        "global_attn_indexes": [i for i, s in enumerate(spans) if (s + 1) // 2 == grid],
        "mlp_ratio": state["image_encoder.blocks.0.mlp.lin1.weight"].shape[0] / dim,
    }


def build_sam(arch: dict[str, Any]) -> torch.nn.Module:
    """A randomly initialised SAM of the given image-encoder sizes (SAM's own building blocks)."""
    import torch

    _segment_anything()
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    size, grid = arch["img_size"], arch["img_size"] // 16
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=arch["depth"], embed_dim=arch["embed_dim"], img_size=size, mlp_ratio=arch["mlp_ratio"],
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=arch["num_heads"], patch_size=16,
            qkv_bias=True, use_rel_pos=True, global_attn_indexes=arch["global_attn_indexes"],
            window_size=arch["window_size"], out_chans=256),
        prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(grid, grid),
                                     input_image_size=(size, size), mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3, transformer=TwoWayTransformer(
            depth=2, embedding_dim=256, mlp_dim=2048, num_heads=8), transformer_dim=256,
            iou_head_depth=3, iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375],
    ).eval()


class SamSource:
    """SAM masks as proposals: automatic, or prompted by the boxes of ``prompts``.

    Automatic: ``points_per_side``² point prompts, kept when SAM's ``pred_iou_thresh`` and
    ``stability_score_thresh`` pass (random weights need both at 0) and ``box_nms_thresh``
    does not suppress them; masks under ``min_area`` (a fraction of the image) are dropped
    and at most ``max_proposals`` kept, best predicted IoU first. Prompted: one mask per
    box, cut to its box (``clip_to_box``), the box's label and score kept. Both: holes and
    islands under ``min_region_area`` pixels removed (``remove_small_regions``).
    ``points_per_batch``: point prompts per decoder batch (None: ``points_per_batch(device)``).
    """

    def __init__(self, checkpoint: str, *, prompts: ProposalSource | None = None, points_per_side: int = 32,
                 pred_iou_thresh: float = 0.88, stability_score_thresh: float = 0.95,
                 box_nms_thresh: float = 0.7, min_area: float = 0.0005, max_proposals: int = 100,
                 clip_to_box: bool = True, min_region_area: int = MIN_REGION_AREA,
                 points_per_batch: int | None = None, device: str | None = None,
                 precision: str | None = None) -> None:
        from reclip.clip.precision import autocast_forward, resolve_precision

        sa = _segment_anything()
        self.model = load_sam(checkpoint, device)
        device = next(self.model.parameters()).device
        self.precision = resolve_precision(precision, device)
        for part in (self.model.image_encoder, self.model.prompt_encoder, self.model.mask_decoder):
            autocast_forward(part, self.precision, device)
        self.prompts = prompts
        self.min_area, self.max_proposals, self.clip_to_box = float(min_area), int(max_proposals), bool(clip_to_box)
        self.min_region_area = int(min_region_area)
        self.predictor = sa.SamPredictor(self.model)
        self.generator = sa.SamAutomaticMaskGenerator(
            self.model, points_per_side=int(points_per_side), pred_iou_thresh=float(pred_iou_thresh),
            stability_score_thresh=float(stability_score_thresh), box_nms_thresh=float(box_nms_thresh),
            points_per_batch=int(points_per_batch or _points_per_batch(device)),
            min_mask_region_area=self.min_region_area)

    def __call__(self, image: Image.Image) -> list[Proposal]:
        import torch

        pixels = np.asarray(image.convert("RGB"))
        with torch.inference_mode():
            if self.prompts is not None:
                return self._prompted(pixels, self.prompts(image))
            return self._automatic(pixels)

    def _automatic(self, pixels: np.ndarray) -> list[Proposal]:
        records = self.generator.generate(pixels)
        smallest = self.min_area * pixels.shape[0] * pixels.shape[1]
        records = [r for r in records if r["area"] >= max(smallest, 1)]
        records.sort(key=lambda r: -r["predicted_iou"])
        return [Proposal(mask_box(r["segmentation"]), r["segmentation"], None, float(r["predicted_iou"]))
                for r in records[: self.max_proposals]]

    def _prompted(self, pixels: np.ndarray, boxes: list[Proposal]) -> list[Proposal]:
        import torch

        self.predictor.set_image(pixels, image_format="RGB")
        device = self.predictor.device
        xyxy = torch.tensor([p.box for p in boxes], dtype=torch.float32, device=device)
        prompts = self.predictor.transform.apply_boxes_torch(xyxy, self.predictor.original_size)
        masks, _, _ = self.predictor.predict_torch(point_coords=None, point_labels=None,
                                                   boxes=prompts, multimask_output=False)
        masks = masks[:, 0].cpu().numpy()
        out = []
        for p, mask in zip(boxes, masks):
            mask = remove_small_regions(mask, self.min_region_area)
            if self.clip_to_box:
                mask = mask & box_region(p.box, mask.shape)
            out.append(Proposal(p.box, mask if mask.any() else p.mask, p.label, p.score))
        return out


def _points_per_batch(device: torch.device) -> int:
    """Point prompts per decoder batch: SAM's 64 on the CPU; on CUDA 64 per 10 GiB of device
    memory, at most 512 (each point holds 3 image-sized float masks until thresholded)."""
    import torch

    if device.type != "cuda":
        return CPU_POINTS_PER_BATCH
    gib = torch.cuda.get_device_properties(device).total_memory / 2 ** 30
    return int(min(512, max(CPU_POINTS_PER_BATCH, CPU_POINTS_PER_BATCH * (gib // 10))))


def remove_small_regions(mask: np.ndarray, min_area: int) -> np.ndarray:
    """``mask`` (HxW bool) with holes and then islands under ``min_area`` pixels removed, as SAM's
    own post-processing does (8-connected components, OpenCV); when every island is small the
    largest stays, so a mask never vanishes."""
    import cv2

    out = np.asarray(mask, dtype=bool)
    if min_area <= 0 or not out.any():
        return out
    for holes in (True, False):
        work = (~out if holes else out).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(work, connectivity=8)
        sizes = stats[1:, cv2.CC_STAT_AREA]
        small = np.flatnonzero(sizes < min_area) + 1
        if len(small) == 0:
            continue
        if holes:
            out = out | np.isin(labels, small)
        else:
            keep = np.setdiff1d(np.arange(1, count), small)
            out = np.isin(labels, keep if len(keep) else [int(np.argmax(sizes)) + 1])
    return out


def mask_box(mask: np.ndarray) -> list[float]:
    """The tight [x0, y0, x1, y1] of a mask's pixels (pixel edges: a one-pixel mask is 1x1)."""
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def box_region(box: tuple[float, ...], shape: tuple[int, int]) -> np.ndarray:
    """The pixels a box covers, as an HxW bool mask."""
    region = np.zeros(shape, bool)
    x0, y0, x1, y1 = box
    region[int(np.floor(y0)):int(np.ceil(y1)), int(np.floor(x0)):int(np.ceil(x1))] = True
    return region


SAM_OPTIONS = (
    SourceOption("points_per_side", int, 32, 1, 256, "automatic: a grid of this many point prompts per side"),
    SourceOption("pred_iou_thresh", float, 0.88, 0, 1, "automatic: keep masks whose predicted IoU passes this"),
    SourceOption("stability_score_thresh", float, 0.95, 0, 1, "automatic: keep masks this stable"),
    SourceOption("box_nms_thresh", float, 0.7, 0, 1, "automatic: NMS IoU between masks' boxes"),
    SourceOption("min_area", float, 0.0005, 0, 1, "automatic: drop masks under this fraction of the image"),
    SourceOption("max_proposals", int, 100, 1, None, "automatic: keep at most this many"),
    SourceOption("clip_to_box", bool, True, help="prompted: cut each mask to its prompting box"),
)


@PROPOSAL_SOURCES.register("sam")
def sam_source(checkpoint: str | None = None, prompts: ProposalSource | None = None, **options: Any) -> SamSource:
    """``sam:CHECKPOINT`` (automatic masks) or ``BOXES+sam:CHECKPOINT`` (box prompts)."""
    if checkpoint is None:
        raise MissingWeightsError(f"SAM needs its checkpoint: sam:PATH (fetch one with: {sam_fetch_command()})")
    return SamSource(checkpoint, prompts=prompts, **options)


declare(sam_source, SourceFacts(
    gives=frozenset({"boxes", "masks", "scores", "labels"}), arg="CKPT", arg_required=True,
    needs=("the segment-anything package (reclip[sam])", "a SAM checkpoint file", "a device"),
    options=SAM_OPTIONS, summary="Segment Anything: automatic masks, or masks prompted by BOXES"))
