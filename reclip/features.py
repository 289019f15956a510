"""Region features beyond plain crops: Global-Local CLIP and RegionCLIP-style RoI pooling.

Both return *unnormalised* visual features, shape (N, D), on the model's device and in
its dtype, like ``CLIP.encode_image``; the scorer normalises and compares with text.

- ``global_local_features`` (Yu et al., CVPR 2023, "Zero-shot Referring Image
  Segmentation with Global-Local Context Features"), ViT towers only:
  global = the whole image through the ViT with the patch tokens multiplied by the
  proposal's mask (soft, on the patch grid) before each of the last 3 blocks, CLS
  untouched; local = the box crop with the pixels outside the mask set to a background
  colour; feature = alpha * global + (1 - alpha) * local, mixed before normalising.
- ``region_features`` (RegionCLIP-style, Zhong et al., CVPR 2022, zero-shot from a
  ResNet CLIP): stem + layer1..3 once on the whole image, RoIAlign every box on the C4
  map, then CLIP's own layer4 and attention pool on the pooled regions.

Both reimplement open_clip's tower forwards step by step (open_clip 3.3
``VisionTransformer.forward`` / ``ModifiedResNet.forward``); the tests check that the
unmasked / whole-image case reproduces ``model.encode_image`` exactly.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torchvision.ops import roi_align

from interpreter import Proposal
from primitives import ReclipError, validate_boxes
from reclip.models import square_pixels

#: How many of the last ViT blocks see masked patch tokens (the paper's setting).
MASKED_BLOCKS = 3

Colour = tuple[int, int, int]


# --------------------------------------------------------------------------- pixels


def mean_colour(mean) -> Colour:
    """The RGB colour (0-255) that normalises to ~zero: round(mean * 255)."""
    return tuple(int(round(float(m) * 255)) for m in mean)  # type: ignore[return-value]


def masked_crop(image: Image.Image, box: Sequence[float], mask: np.ndarray,
                fill: Colour | int) -> Image.Image:
    """The box crop of ``image`` with every pixel outside ``mask`` (HxW bool) set to ``fill``.

    Same bounds as the plain ``crop`` isolation: the box is clamped to the image (as
    ReCLIP does) and rounded as ``PIL.Image.crop`` rounds it, widened to one pixel if
    rounding would leave it empty.
    """
    image = image.convert("RGB")
    x0, y0, x1, y1 = crop_bounds(image, box)
    crop = image.crop((x0, y0, x1, y1))
    inside = np.asarray(mask, dtype=bool)[y0:y1, x0:x1]
    colour = (fill, fill, fill) if isinstance(fill, (int, np.integer)) else tuple(int(c) for c in fill)
    background = Image.new("RGB", crop.size, colour)
    return Image.composite(crop, background, Image.fromarray(inside.astype(np.uint8) * 255, "L"))


def crop_bounds(image: Image.Image, box: Sequence[float]) -> tuple[int, int, int, int]:
    """Integer crop bounds of ``box``: clamped to the image, PIL's rounding, at least 1 px."""
    w, h = image.size
    bx0, by0, bx1, by1 = (float(v) for v in box)
    bx0, by0, bx1, by1 = max(bx0, 0.0), max(by0, 0.0), min(bx1, float(w)), min(by1, float(h))
    if bx1 <= bx0 or by1 <= by0:
        raise ReclipError(f"proposal box {[float(v) for v in box]} lies outside the {w}x{h} image")
    x0, y0, x1, y1 = (int(round(v)) for v in (bx0, by0, bx1, by1))
    if x1 <= x0:  # widen towards the inside of the image
        x0, x1 = (x0, x0 + 1) if x0 < w else (x0 - 1, x0)
    if y1 <= y0:
        y0, y1 = (y0, y0 + 1) if y0 < h else (y0 - 1, y0)
    return x0, y0, x1, y1


# --------------------------------------------------------------------------- helpers


@contextmanager
def _eval_mode(module: torch.nn.Module) -> Iterator[None]:
    """Eval mode (BatchNorm running stats, no patch dropout) for the call, then restore."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training


def _tower(model: torch.nn.Module) -> torch.nn.Module:
    """The visual tower of a CLIP model (or the tower itself)."""
    return getattr(model, "visual", model)


def _checked_masks(image: Image.Image, proposals: Sequence[Proposal]) -> list[np.ndarray]:
    if len(proposals) == 0:
        raise ReclipError("global_local features need at least one proposal")
    masks = []
    for i, p in enumerate(proposals):
        mask = getattr(p, "mask", None)
        if mask is None:
            raise ReclipError(
                f"global_local features need a mask for every proposal; proposal {i} "
                f"(box {list(p.box)}) has none: pass Proposal(box, mask=HxW bool array)"
            )
        if mask.shape != (image.height, image.width):
            raise ReclipError(
                f"proposal {i}'s mask has shape {mask.shape} but the image is "
                f"{image.height}x{image.width} (height x width); masks must cover the whole image"
            )
        masks.append(mask)
    return masks


# --------------------------------------------------------------------------- Global-Local (ViT)


def _vit_tower(model: torch.nn.Module) -> torch.nn.Module:
    from open_clip.transformer import VisionTransformer

    visual = _tower(model)
    if not isinstance(visual, VisionTransformer):
        raise ReclipError(
            "global_local features need a ViT CLIP (open_clip VisionTransformer tower); "
            f"this model's image tower is {type(visual).__name__}. Use a ViT model such as ViT-B-32."
        )
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
    with torch.inference_mode(), _eval_mode(visual):
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
    with torch.inference_mode(), _eval_mode(visual):
        # already square at image_size: square_pixels' resize is then a no-op
        out = visual(square_pixels(crops, image_size, mean, std, weight.device, weight.dtype))
        return out[0] if isinstance(out, tuple) else out  # (pooled, tokens) when output_tokens


def global_local_features(model: torch.nn.Module, image: Image.Image, proposals: Sequence[Proposal],
                          image_size: int, mean, std, alpha: float = 0.85,
                          fill: Colour | int | None = None) -> torch.Tensor:
    """(N, D) Global-Local CLIP visual features ``alpha * global + (1 - alpha) * local``, unnormalised.

    ``fill`` is the background colour of the local crop (RGB 0-255, or one grey level);
    by default the normalisation mean colour, i.e. ~zero after normalisation.
    Every proposal needs a mask (HxW, the image's size); ViT towers only.
    """
    if not 0.0 <= float(alpha) <= 1.0:
        raise ReclipError(f"alpha mixes global and local features and must be in [0, 1]; got {alpha}")
    g = global_features(model, image, proposals, image_size, mean, std)
    if alpha == 1.0:
        return g
    local = local_features(model, image, proposals, image_size, mean, std, fill)
    return alpha * g + (1.0 - alpha) * local


# --------------------------------------------------------------------------- RegionCLIP-style (ResNet)


def _resnet_tower(model: torch.nn.Module) -> torch.nn.Module:
    from open_clip.modified_resnet import ModifiedResNet

    visual = _tower(model)
    if not isinstance(visual, ModifiedResNet):
        raise ReclipError(
            "region features need a ResNet CLIP (open_clip ModifiedResNet tower, e.g. RN50 or RN50x16); "
            f"this model's image tower is {type(visual).__name__}"
        )
    return visual


def attnpool_grid(visual: torch.nn.Module) -> int:
    """The side of the feature grid the attention pool's positional embedding expects (7 for 224)."""
    tokens = visual.attnpool.positional_embedding.shape[0] - 1
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ReclipError(f"the attention pool's positional embedding ({tokens} + 1 rows) is not a square grid")
    return side


def _clamped_boxes(boxes: np.ndarray, image: Image.Image) -> np.ndarray:
    """Boxes clamped to the image, as the crops clamp them; a box wholly outside is an error."""
    w, h = image.size
    out = np.clip(boxes, 0.0, [w, h, w, h])
    for i, (b, c) in enumerate(zip(boxes, out)):
        if c[2] <= c[0] or c[3] <= c[1]:
            raise ReclipError(f"box {i} {b.tolist()} lies outside the {w}x{h} image")
    return out


def _feature_boxes(boxes: np.ndarray, image_wh: tuple[int, int], feature_hw: tuple[int, int]) -> torch.Tensor:
    """Image-pixel boxes -> C4-map coordinates (the image is square-resized, so x and y scale apart)."""
    w, h = image_wh
    fh, fw = feature_hw
    scale = np.array([fw / w, fh / h, fw / w, fh / h])
    return torch.from_numpy(boxes * scale).float()


def region_features(model: torch.nn.Module, image: Image.Image, boxes: np.ndarray,
                    image_size: int, mean, std) -> torch.Tensor:
    """(N, D) RegionCLIP-style zero-shot region features from a ResNet CLIP, unnormalised.

    The image is square-resized to ``image_size`` (bicubic, aspect not kept, as every
    other isolation here) and run through stem + layer1..3 once. Each box, mapped to the
    C4 map (stride 16), is RoIAligned (aligned=True, adaptive sampling) to twice the
    attention pool's grid (14x14 for a 224 model), so layer4's stride 2 gives exactly the
    7x7 grid its positional embedding expects; layer4 and attnpool then run on all boxes
    as one batch. A box covering the whole image at the model's own resolution reproduces
    ``encode_image`` (the RoI grid then samples each C4 cell at its centre). A larger
    ``image_size`` gives small boxes a finer C4 map; the RoI grid stays the same.
    """
    visual = _resnet_tower(model)
    image = image.convert("RGB")
    boxes = _clamped_boxes(validate_boxes(boxes, "box"), image)
    weight = visual.conv1.weight
    pixels = square_pixels([image], image_size, mean, std, weight.device, weight.dtype)
    side = 2 * attnpool_grid(visual)
    with torch.inference_mode(), _eval_mode(visual):
        c4 = visual.layer3(visual.layer2(visual.layer1(visual.stem(pixels))))
        rois = _feature_boxes(boxes, image.size, (c4.shape[-2], c4.shape[-1])).to(c4.device)
        # roi_align in float32: not every device implements it in half precision
        pooled = roi_align(c4.float(), [rois], output_size=(side, side), spatial_scale=1.0,
                           sampling_ratio=0, aligned=True).to(c4.dtype)
        return visual.attnpool(visual.layer4(pooled))
