"""Shared test fixtures: an oracle scorer and hand-built scenes."""

from __future__ import annotations

import re

import catalogue
import numpy as np
import pytest
from PIL import Image

from primitives.catalog import touch

# Built-in isolation methods and proposal sources register on import: import them before any test snapshots
# the registries, so the restoring fixture below never removes them.
import reclip.isolation  # noqa: E402,F401
import reclip.proposals  # noqa: E402,F401  (the built-in proposal sources)
import reclip.synthetic.evaluate  # noqa: E402,F401  (the synthetic dataset format)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


class OracleScorer:
    """Logits = 10 x (how many words of the text a proposal's label shares).

    A stand-in for CLIP that knows every object's attributes, so a test's outcome
    depends only on the program and the geometry. It records every call.
    """

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def score(self, image, proposals, texts):
        self.calls.append([str(t) for t in texts])
        return np.array(
            [[10.0 * len(words(t) & words(p.label or "")) for p in proposals] for t in texts]
        )


@pytest.fixture
def oracle() -> OracleScorer:
    return OracleScorer()


@pytest.fixture
def blank_image() -> Image.Image:
    return Image.new("RGB", (200, 200), "white")


@pytest.fixture(autouse=True)
def restore_registries():
    """Every reclip registry (primitives.catalog.Catalog) lives in catalogue.REGISTRY under
    "reclip": put those entries back after each test. Other namespaces (spaCy's, which it
    fills lazily) are left alone."""

    def ours() -> dict:
        return {k: v for k, v in catalogue.REGISTRY.items() if k[0] == "reclip"}

    saved = ours()
    yield
    for key in ours():
        del catalogue.REGISTRY[key]
    catalogue.REGISTRY.update(saved)
    touch()
