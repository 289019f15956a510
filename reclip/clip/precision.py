"""Numeric precision of every model reclip runs (CLIP, detectors, SAM): one option, one mechanism.

``--precision fp32|fp16|bf16``; the default is fp16 on CUDA and fp32 elsewhere. Weights stay
float32 and each forward runs under ``torch.autocast`` in the chosen dtype: autocast is what
PyTorch intends for inference in half precision, it keeps the ops that need float32
(LayerNorm, softmax, roi_align, BatchNorm statistics) in float32, so no layer ever sees mixed
dtypes (open_clip's ``convert_weights_to_lp`` halved linear weights but left a plain
LayerNorm in float32, which is how the earlier fp16 path failed on an H200). Outputs are
cast back to float32 by the callers before they leave the model.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch

from primitives import ReclipError

PRECISIONS: dict[str, torch.dtype] = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


class PrecisionError(ReclipError):
    """An unknown precision name."""


def default_precision(device: torch.device | str) -> str:
    """fp16 on CUDA (tensor cores, half the memory traffic), fp32 on the CPU and elsewhere."""
    return "fp16" if torch.device(device).type == "cuda" else "fp32"


def resolve_precision(precision: str | None, device: torch.device | str) -> str:
    """``precision`` checked (None = ``default_precision(device)``)."""
    if precision is None:
        return default_precision(device)
    name = str(precision).strip().lower()
    if name not in PRECISIONS:
        raise PrecisionError(f"unknown precision {precision!r}; choose one of {', '.join(PRECISIONS)}")
    return name


def autocast(precision: str, device: torch.device | str) -> ContextManager:
    """The context a forward runs in: autocast to ``precision`` on ``device``'s type (fp32: none)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=PRECISIONS[precision])
