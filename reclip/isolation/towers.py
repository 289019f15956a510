"""What the feature methods share about running an image tower."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch


@contextmanager
def eval_mode(module: torch.nn.Module) -> Iterator[None]:
    """Eval mode (BatchNorm running stats, no patch dropout) for the call, then restore."""
    flags = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in flags:
            m.training = training


def tower(model: torch.nn.Module) -> torch.nn.Module:
    """The visual tower of a CLIP model (or the tower itself)."""
    return getattr(model, "visual", model)
