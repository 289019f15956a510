"""Global-Local CLIP region features (the ``global_local`` isolation method, ViT towers only).

Yu et al., CVPR 2023, "Zero-shot Referring Image Segmentation with Global-Local Context
Features": global = the whole image through the ViT with the patch tokens multiplied by
the proposal's mask (soft, on the patch grid) before each of the last 3 blocks, CLS
untouched; local = the box crop with the pixels outside the mask set to a background
colour; feature = alpha * global + (1 - alpha) * local, mixed before normalising.

Returns *unnormalised* visual features, shape (N, D), like ``CLIP.encode_image``. It
reimplements open_clip's ``VisionTransformer.forward`` (open_clip 3.3) step by step; the
tests check that the unmasked case reproduces ``model.encode_image`` exactly.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.clip.loading import LoadedModel
from reclip.clip.pixels import Colour, mean_colour, square_pixels
from reclip.isolation.images import masked_crop
from reclip.isolation.registry import FEATURES, isolation_method, require_masks
from reclip.isolation.towers import eval_mode, tower_of_family
from reclip.masks import check_mask

#: How many of the last ViT blocks see masked patch tokens (the paper's setting).
MASKED_BLOCKS = 3
GLOBAL_LOCAL_ALPHA = 0.85                   # Global-Local CLIP, RefCOCOg (0.95 RefCOCO/+)


def _checked_masks(image: Image.Image, proposals: Sequence[Proposal]) -> list[np.ndarray]:
    if len(proposals) == 0:
        raise ReclipError("global_local features need at least one proposal")
    require_masks("global_local", proposals)
    return [check_mask(p.mask, image.width, image.height, f"proposal {i}'s mask")
            for i, p in enumerate(proposals)]


def _vit_tower(model: torch.nn.Module) -> torch.nn.Module:
    visual = tower_of_family(model, "vit", "global_local features need a ViT CLIP (open_clip "
                             "VisionTransformer tower, e.g. ViT-B-32)")
    if visual.attn_pool is not None or visual.pool_type not in ("tok", "avg"):
        raise ReclipError(
            "global_local features need a ViT pooled by its class token or token average; "
            f"this tower uses attentional pooling / pool_type={visual.pool_type!r}"
        )
    if len(visual.transformer.resblocks) < MASKED_BLOCKS:
        raise ReclipError(f"global_local token masking needs a ViT with at least {MASKED_BLOCKS} blocks")
    return visual


def token_masks(masks: Sequence[np.ndarray], grid: tuple[int, int]) -> torch.Tensor:
    """(N, gh*gw) soft masks on the patch grid: the share of each patch's pixels in the mask.

    The full-image mask goes straight to the token grid (the image itself is
    square-resized, so the grid spans the whole image), as in the reference
    (``TF.resize(pred_masks.float(), (size, size))``). The reference's bilinear resize
    (no antialiasing in its torchvision) reads two pixels near each patch centre; area
    averaging gives the same 1 / 0 for patches wholly inside / outside, the covered share
    at the boundary, never loses a thin object between sample points, and is exactly 1
    everywhere for an all-ones mask.
    """
    m = torch.from_numpy(np.stack([np.asarray(mk, dtype=np.float32) for mk in masks]))[:, None]
    return F.adaptive_avg_pool2d(m, grid).clamp_(0.0, 1.0).flatten(1)


def _vit_embed(visual: torch.nn.Module, pixels: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """open_clip VisionTransformer._embeds, step by step: tokens (B, 1 + gh*gw, width) and the grid."""
    x = visual.conv1(pixels)  # (B, width, gh, gw)
    grid = (x.shape[-2], x.shape[-1])
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)  # (B, gh*gw, width)
    cls = visual.class_embedding.to(x.dtype).view(1, 1, -1).expand(x.shape[0], -1, -1)
    x = torch.cat([cls, x], dim=1)
    if visual.positional_embedding.shape[0] != x.shape[1]:
        raise ReclipError(
            f"image_size gives a {grid[0]}x{grid[1]} patch grid but the ViT's positional embedding "
            f"has {visual.positional_embedding.shape[0] - 1} patches: pass the model's own image size"
        )
    x = x + visual.positional_embedding.to(x.dtype)
    x = visual.patch_dropout(x)  # identity in eval mode
    return visual.ln_pre(x), grid


def _run_block(block: torch.nn.Module, x: torch.Tensor, batch_first: bool) -> torch.Tensor:
    """One residual block on NLD tokens, whatever layout the transformer runs in."""
    if batch_first:
        return block(x)
    return block(x.transpose(0, 1).contiguous()).transpose(0, 1)


def _vit_pool(visual: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """open_clip VisionTransformer._pool (no attentional pooler) and the projection."""
    def pool(t: torch.Tensor) -> torch.Tensor:
        return t[:, 0] if visual.pool_type == "tok" else t[:, 1:].mean(dim=1)

    pooled = visual.ln_post(pool(x)) if visual.final_ln_after_pool else pool(visual.ln_post(x))
    return pooled @ visual.proj if visual.proj is not None else pooled


def global_features(model: torch.nn.Module, image: Image.Image, proposals: Sequence[Proposal],
                    image_size: int, mean, std) -> torch.Tensor:
    """(N, D) Global-Local "global" features: mask-guided token masking in the last blocks.

    The whole image goes through conv1 .. the first blocks once; the tokens are then
    repeated for the N proposals, and before each of the last ``MASKED_BLOCKS`` blocks the
    patch tokens are multiplied by the proposal's soft token mask (the CLS token is not).
    Output: the pooled token after ln_post and proj, unnormalised.
    """
    visual = _vit_tower(model)
    masks = _checked_masks(image, proposals)
    weight = visual.conv1.weight
    pixels = square_pixels([image], image_size, mean, std, weight.device, weight.dtype)
    blocks = list(visual.transformer.resblocks)
    batch_first = getattr(visual.transformer, "batch_first", True)
    with torch.inference_mode(), eval_mode(visual):
        x, grid = _vit_embed(visual, pixels)
        for block in blocks[:-MASKED_BLOCKS]:
            x = _run_block(block, x, batch_first)
        keep = token_masks(masks, grid).to(device=x.device, dtype=x.dtype)
        keep = torch.cat([keep.new_ones(len(masks), 1), keep], dim=1)[:, :, None]  # CLS kept
        x = x.expand(len(masks), -1, -1)
        for block in blocks[-MASKED_BLOCKS:]:
            x = _run_block(block, x * keep, batch_first)
        return _vit_pool(visual, x)


def local_images(image: Image.Image, proposals: Sequence[Proposal], image_size: int,
                 fill: Colour | int) -> list[Image.Image]:
    """The Global-Local "local" inputs: masked crops, square-resized (bicubic, aspect not kept)."""
    masks = _checked_masks(image, proposals)
    return [
        masked_crop(image, p.box, m, fill).resize((image_size, image_size), Image.BICUBIC)
        for p, m in zip(proposals, masks)
    ]


def local_features(model: torch.nn.Module, image: Image.Image, proposals: Sequence[Proposal],
                   image_size: int, mean, std, fill: Colour | int | None = None) -> torch.Tensor:
    """(N, D) Global-Local "local" features: the masked crops encoded by the plain image tower."""
    visual = _vit_tower(model)
    fill = mean_colour(mean) if fill is None else fill
    crops = local_images(image, proposals, image_size, fill)
    weight = visual.conv1.weight
    with torch.inference_mode(), eval_mode(visual):
        # already square at image_size: square_pixels' resize is then a no-op
        out = visual(square_pixels(crops, image_size, mean, std, weight.device, weight.dtype))
        return out[0] if isinstance(out, tuple) else out  # (pooled, tokens) when output_tokens


def global_local_features(model: torch.nn.Module, image: Image.Image, proposals: Sequence[Proposal],
                          image_size: int, mean, std, alpha: float = GLOBAL_LOCAL_ALPHA,
                          fill: Colour | int | None = None) -> torch.Tensor:
    """(N, D) Global-Local CLIP visual features ``alpha * global + (1 - alpha) * local``, unnormalised.

    ``fill`` is the background colour of the local crop (RGB 0-255, or one grey level);
    by default the normalisation mean colour, i.e. ~zero after normalisation.
    Every proposal needs a mask (HxW, the image's size); ViT towers only.
    """
    _check_options({"alpha": alpha})
    g = global_features(model, image, proposals, image_size, mean, std)
    if alpha == 1.0:
        return g
    local = local_features(model, image, proposals, image_size, mean, std, fill)
    return alpha * g + (1.0 - alpha) * local


def _check_options(options) -> None:
    alpha = options["alpha"]
    if not 0.0 <= float(alpha) <= 1.0:
        raise ReclipError(f"alpha mixes global and local features and must be in [0, 1]; got {alpha}")


@isolation_method("global_local", family=FEATURES, towers=("vit",), needs_mask=True, mixes_head=True,
                  check=_check_options)
def global_local(model: LoadedModel, image: Image.Image, proposals: Sequence[Proposal], *,
                 alpha: float = GLOBAL_LOCAL_ALPHA) -> torch.Tensor:
    """The registered method: ``global_local_features`` of a loaded model."""
    return global_local_features(model.model, image, proposals, model.image_size, model.mean, model.std,
                                 alpha=alpha)
