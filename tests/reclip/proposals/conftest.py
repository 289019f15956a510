"""Random-weight models saved once per session (see tests/proposal_models.py)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from proposal_models import save_detector, save_tiny_sam


@pytest.fixture(scope="session")
def maskrcnn_weights(tmp_path_factory):
    return save_detector(tmp_path_factory.mktemp("weights") / "maskrcnn-random.pth", "maskrcnn_resnet50_fpn_v2")


@pytest.fixture(scope="session")
def fasterrcnn_weights(tmp_path_factory):
    return save_detector(tmp_path_factory.mktemp("weights") / "fasterrcnn-random.pth", "fasterrcnn_resnet50_fpn_v2")


@pytest.fixture(scope="session")
def sam_checkpoint(tmp_path_factory):
    return save_tiny_sam(tmp_path_factory.mktemp("sam") / "tiny-sam.pth")


@pytest.fixture(scope="session")
def photo() -> Image.Image:
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))


@pytest.fixture(autouse=True)
def fresh_proposal_caches():
    """Each test starts with no cached proposals and no built sources (names are re-registered)."""
    from reclip.proposals import cache, resolve

    cache.MEMORY.clear()
    resolve._built.clear()
    yield
    cache.MEMORY.clear()
    resolve._built.clear()
