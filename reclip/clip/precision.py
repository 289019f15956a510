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
import functools
from typing import Any, ContextManager

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


def as_float32(value: Any) -> Any:
    """Floating tensors in ``value`` (a tensor, or tuples / lists / dicts of them) as float32."""
    if isinstance(value, torch.Tensor):
        return value.float() if value.is_floating_point() else value
    if isinstance(value, (tuple, list)):
        return type(value)(as_float32(v) for v in value)
    if isinstance(value, dict):
        return {k: as_float32(v) for k, v in value.items()}
    return value


def autocast_forward(module: torch.nn.Module, precision: str, device: torch.device | str) -> torch.nn.Module:
    """``module`` (this instance) running its forward under autocast and returning float32: for
    a model whose own code post-processes outputs in ways half precision breaks (SAM's automatic
    generator turns them into numpy arrays, which have no bfloat16)."""
    if precision == "fp32":
        return module
    inner = module.forward

    @functools.wraps(inner)
    def forward(*args: Any, **kwargs: Any) -> Any:
        with autocast(precision, device):
            return as_float32(inner(*args, **kwargs))

    module.forward = forward
    return module
