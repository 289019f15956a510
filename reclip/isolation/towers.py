"""What the feature methods share about running an image tower."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch

from primitives import ReclipError
from reclip.clip.loading import vision_family


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


def tower_of_family(model: torch.nn.Module, family: str, needs: str) -> torch.nn.Module:
    """The image tower of ``model`` when its family (``vision_family``) is ``family``; else a
    ReclipError saying what the caller ``needs`` and what the tower is."""
    visual = tower(model)
    if vision_family(visual) != family:
        raise ReclipError(f"{needs}; this model's image tower is {type(visual).__name__}")
    return visual
