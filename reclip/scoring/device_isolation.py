"""Isolation on the device (issue 23's option, ``ClipScorer(isolate="device")``): ReCLIP's two
methods as tensor operations on the model's device, for when isolating and resizing on the CPU
would starve a fast device.

- ``crop``: the same integer bounds as the CPU path (``crop_bounds``), sliced from the image tensor.
- ``blur``: the same blurred background (PIL's ``GaussianBlur(100)``, once per image on the CPU:
  one filter, where the resizes are one per box) with the box's pixels pasted back over the
  same pixels as ``ImageDraw.rectangle`` (its corners truncated, inclusive).

The isolated images are therefore the CPU path's, pixel for pixel; only the resize to the
model's square differs: ``torch.nn.functional.interpolate(mode="bicubic", antialias=True)``
instead of PIL's bicubic, rounded to 0-255 as PIL does. The logits then differ slightly from the
CPU path's (ReCLIP's), which stays the default: ``benchmarks/bench_device_isolation.py`` measures
by how much. Crops isolated on the device are not prepared ahead (``ClipScorer.prepare`` leaves
them to ``score``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageFilter

from interpreter import Proposal
from primitives import ReclipError
from reclip.isolation.images import BLUR_RADIUS, clamped_box, crop_bounds

DEVICE_METHODS = ("crop", "blur")
ISOLATE_ON = ("cpu", "device")
CHUNK = 16                      # full-image composites resized per call (bounded memory)


def check_isolate(isolate: str, pixel_methods: Sequence[str]) -> str:
    """``isolate`` checked: "cpu", or "device" when every pixel method can run there."""
    if isolate not in ISOLATE_ON:
        raise ReclipError(f"isolate must be one of {', '.join(ISOLATE_ON)}; got {isolate!r}")
    other = [m for m in pixel_methods if m not in DEVICE_METHODS]
    if isolate == "device" and other:
        raise ReclipError(f"isolating on the device supports {', '.join(DEVICE_METHODS)} only; "
                          f"got {', '.join(other)}")
    return isolate


def device_squares(image: Image.Image, proposals: Sequence[Proposal], method: str, size: int,
                   device: torch.device | str) -> torch.Tensor:
    """(N, 3, size, size) uint8 squares of ``method`` for ``proposals``, made on ``device``."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    x = _tensor(rgb, device)
    if method == "crop":
        parts = []
        for p in proposals:
            x0, y0, x1, y1 = crop_bounds(rgb.size, p.box)
            parts.append(_square(x[None, :, y0:y1, x0:x1], size))
        return torch.cat(parts) if parts else torch.zeros((0, 3, size, size), dtype=torch.uint8, device=device)
    if method != "blur":
        raise ReclipError(f"isolating on the device supports {', '.join(DEVICE_METHODS)} only; got {method!r}")
    background = _tensor(rgb.filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), device)
    out = []
    for start in range(0, len(proposals), CHUNK):
        composites = []
        for p in proposals[start:start + CHUNK]:
            x0, y0, x1, y1 = (int(v) for v in clamped_box(rgb.size, p.box))   # ImageDraw truncates
            one = background.clone()
            one[:, y0:y1 + 1, x0:x1 + 1] = x[:, y0:y1 + 1, x0:x1 + 1]
            composites.append(one)
        out.append(_square(torch.stack(composites), size))
    return torch.cat(out) if out else torch.zeros((0, 3, size, size), dtype=torch.uint8, device=device)


def _tensor(rgb: Image.Image, device: torch.device | str) -> torch.Tensor:
    """(3, H, W) uint8 on ``device``."""
    return torch.from_numpy(np.array(rgb, dtype=np.uint8)).to(device).permute(2, 0, 1)


def _square(x: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bicubic resize of (B, 3, H, W) uint8 to (B, 3, size, size), rounded to uint8."""
    y = F.interpolate(x.float(), size=(size, size), mode="bicubic", antialias=True, align_corners=False)
    return y.round_().clamp_(0, 255).to(torch.uint8)


__all__ = ["DEVICE_METHODS", "ISOLATE_ON", "check_isolate", "device_squares"]
