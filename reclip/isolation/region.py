"""RegionCLIP-style region features (the ``region`` isolation method, ResNet towers only).

Zhong et al., CVPR 2022, zero-shot from a ResNet CLIP: stem + layer1..3 once on the
whole image, RoIAlign every box on the C4 map, then CLIP's own layer4 and attention pool
on the pooled regions. Returns *unnormalised* features (N, D); reimplements open_clip's
``ModifiedResNet.forward`` (open_clip 3.3) step by step, and the tests check that the
whole-image box reproduces ``model.encode_image`` exactly.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from torchvision.ops import roi_align

from interpreter import Proposal
from primitives import ReclipError, validate_boxes
from reclip.clip.loading import LoadedModel
from reclip.clip.pixels import normalise_pixels, square_pixels
from reclip.isolation.images import clamped_box
from reclip.isolation.registry import FEATURES, isolation_method
from reclip.isolation.towers import eval_mode, tower_of_family


def _resnet_tower(model: torch.nn.Module) -> torch.nn.Module:
    return tower_of_family(model, "resnet", "region features need a ResNet CLIP (open_clip "
                           "ModifiedResNet tower, e.g. RN50 or RN50x16)")


def _clamped_boxes(boxes: np.ndarray, image: Image.Image) -> np.ndarray:
    """Boxes clamped to the image, as the crops clamp them; a box wholly outside is an error."""
    out = []
    for i, b in enumerate(boxes):
        try:
            out.append(clamped_box(image.size, b))
        except ReclipError:
            w, h = image.size
            raise ReclipError(f"box {i} {np.asarray(b).tolist()} lies outside the {w}x{h} image") from None
    return np.array(out, dtype=np.float64).reshape(-1, 4)


def attnpool_grid(visual: torch.nn.Module) -> int:
    """The side of the feature grid the attention pool's positional embedding expects (7 for 224)."""
    tokens = visual.attnpool.positional_embedding.shape[0] - 1
    side = math.isqrt(tokens)
    if side * side != tokens:
        raise ReclipError(f"the attention pool's positional embedding ({tokens} + 1 rows) is not a square grid")
    return side


C4_STRIDE = 16     # stem /4, layer2 /2, layer3 /2: RegionCLIP's pooler scale 1/16


def shortest_edge_size(width: int, height: int, short: int, longest: int) -> tuple[int, int]:
    """(w, h) after detectron2's test-time ResizeShortestEdge: shortest side ``short``, the
    longest at most ``longest``, aspect kept, rounded half up (as RegionCLIP resizes)."""
    scale = short / min(width, height)
    if max(width, height) * scale > longest:
        scale = longest / max(width, height)
    return int(width * scale + 0.5), int(height * scale + 0.5)


def _resized_input(image: Image.Image, boxes: np.ndarray, resize: tuple[int, int], mean, std,
                   weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RegionCLIP's input: the image resized with its aspect kept (bilinear, as detectron2's
    ResizeShortestEdge in its test-time DatasetMapper), and the boxes on
    the C4 map of that image (scaled, then 1/16)."""
    w, h = shortest_edge_size(image.width, image.height, *resize)
    rgb = np.array(image.resize((w, h), Image.BILINEAR), dtype=np.uint8)
    pixels = normalise_pixels(torch.from_numpy(rgb).permute(2, 0, 1)[None], mean, std)
    scale = np.array([w / image.width, h / image.height] * 2) / C4_STRIDE
    return pixels.to(device=weight.device, dtype=weight.dtype), torch.from_numpy(boxes * scale).float()


def _feature_boxes(boxes: np.ndarray, image_wh: tuple[int, int], feature_hw: tuple[int, int]) -> torch.Tensor:
    """Image-pixel boxes -> C4-map coordinates (the image is square-resized, so x and y scale apart)."""
    w, h = image_wh
    fh, fw = feature_hw
    scale = np.array([fw / w, fh / h, fw / w, fh / h])
    return torch.from_numpy(boxes * scale).float()


def region_features(model: torch.nn.Module, image: Image.Image, boxes: np.ndarray,
                    image_size: int, mean, std, resize: tuple[int, int] | None = None) -> torch.Tensor:
    """(N, D) RegionCLIP-style zero-shot region features from a ResNet CLIP, unnormalised.

    The image is square-resized to ``image_size`` (bicubic, aspect not kept, as every
    other isolation here) and run through stem + layer1..3 once. Each box, mapped to the
    C4 map (stride 16), is RoIAligned (aligned=True, adaptive sampling) to twice the
    attention pool's grid (14x14 for a 224 model), so layer4's stride 2 gives exactly the
    7x7 grid its positional embedding expects; layer4 and attnpool then run on all boxes
    as one batch. A box covering the whole image at the model's own resolution reproduces
    ``encode_image`` (the RoI grid then samples each C4 cell at its centre). A larger
    ``image_size`` gives small boxes a finer C4 map; the RoI grid stays the same.

    ``resize`` = (shortest side, longest cap) replaces the square resize by RegionCLIP's own
    (aspect kept, ``shortest_edge_size``), for weights trained on region features that way.
    """
    visual = _resnet_tower(model)
    image = image.convert("RGB")
    boxes = _clamped_boxes(validate_boxes(boxes, "box"), image)
    weight = visual.conv1.weight
    if resize is None:
        pixels, rois = square_pixels([image], image_size, mean, std, weight.device, weight.dtype), None
    else:
        pixels, rois = _resized_input(image, boxes, resize, mean, std, weight)
    side = 2 * attnpool_grid(visual)
    with torch.inference_mode(), eval_mode(visual):
        c4 = visual.layer3(visual.layer2(visual.layer1(visual.stem(pixels))))
        if rois is None:
            rois = _feature_boxes(boxes, image.size, (c4.shape[-2], c4.shape[-1]))
        rois = rois.to(c4.device)
        # roi_align in float32: not every device implements it in half precision
        pooled = roi_align(c4.float(), [rois], output_size=(side, side), spatial_scale=1.0,
                           sampling_ratio=0, aligned=True).to(c4.dtype)
        return visual.attnpool(visual.layer4(pooled))


@isolation_method("region", family=FEATURES, towers=("resnet",))
def region(model: LoadedModel, image: Image.Image, proposals: Sequence[Proposal]) -> torch.Tensor:
    """The registered method: ``region_features`` of a loaded model."""
    boxes = np.array([p.box for p in proposals], dtype=np.float64)
    return region_features(model.model, image, boxes, model.image_size, model.mean, model.std,
                           resize=model.region_resize)
