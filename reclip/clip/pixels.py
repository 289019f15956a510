"""The one preprocessing path: PIL images -> a model's normalised square input batch."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from PIL import Image

from reclip.clip.specs import ModelLoadError

OPENAI_MEAN: tuple[float, float, float] = tuple(OPENAI_DATASET_MEAN)  # type: ignore[assignment]
OPENAI_STD: tuple[float, float, float] = tuple(OPENAI_DATASET_STD)  # type: ignore[assignment]

Colour = tuple[int, int, int]


def to_square(image: Image.Image, size: int) -> Image.Image:
    """Bicubic resize to ``size`` x ``size``; the aspect ratio is NOT kept (ReCLIP's square_size)."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return rgb.resize((size, size), Image.BICUBIC)


def normalise_pixels(pixels: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """(B, 3, S, S) float32 ``(x / 255 - mean) / std`` from 0-255 pixels of any dtype."""
    x = pixels.float() / 255.0
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


def square_uint8(images: Sequence[Any], image_size: int) -> torch.Tensor:
    """(B, 3, S, S) uint8 pixels: each image RGB, bicubic square-resized."""
    arrays = np.stack([np.asarray(to_square(im, image_size), dtype=np.uint8) for im in images])
    return torch.from_numpy(arrays).permute(0, 3, 1, 2)


def square_pixels(images: Sequence[Any], image_size: int, mean: Sequence[float], std: Sequence[float],
                  device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A model's input batch from PIL images: RGB, bicubic square resize (aspect not kept,
    as ReCLIP), normalised, on ``device`` in ``dtype``."""
    return normalise_pixels(square_uint8(images, image_size), mean, std).to(device=device, dtype=dtype)


def mean_colour(mean: Sequence[float]) -> Colour:
    """The RGB colour (0-255) that normalises to ~zero: round(mean * 255)."""
    return tuple(int(round(float(m) * 255)) for m in mean)  # type: ignore[return-value]


def square_size(value: Any) -> int:
    """open_clip image sizes may be ints or (h, w) pairs; our resize is square."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ModelLoadError(f"non-square model input size {tuple(value)} is not supported")
        value = value[0]
    return int(value)
