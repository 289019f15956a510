"""The workbench's fixtures: the shipped synthetic model, once per session, and the demo scene."""

from __future__ import annotations

import pytest

from reclip.app import Workbench
from reclip.locator import Locator

# The demo scene's red triangles: #7 is the leftmost, #4 the rightmost.
EXPRESSION = "the leftmost red triangle"
LEFT, RIGHT = 7, 4


@pytest.fixture(scope="session")
def locator() -> Locator:
    return Locator.from_pretrained("synthetic", methods=("crop", "blur"))


@pytest.fixture
def workbench(locator, tmp_path) -> Workbench:
    return Workbench(locator, cases=tmp_path / "cases.jsonl")


def centre(scene, index: int, scale: int = 2) -> tuple[float, float]:
    """Where to click on the page's picture (drawn at ``scale``) to hit proposal ``index``."""
    x0, y0, x1, y1 = scene.proposals[index].box
    return scale * (x0 + x1) / 2, scale * (y0 + y1) / 2
