"""Shared test fixtures: an oracle scorer and hand-built scenes."""

from __future__ import annotations

import re

import catalogue
import numpy as np
import pytest
from PIL import Image

from foundation.catalog import touch

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


@pytest.fixture
def installed_entry_points(tmp_path, monkeypatch):
    """``install(name, {group: {entry: "module:attr"}}, module_source)``: a distribution on the path
    as pip lays one out (a dist-info folder with its entry points, and its module), for in-process
    tests of plugin loading. tests/test_plugins.py installs real distributions with pip."""

    def install(name: str, groups: dict[str, dict[str, str]], source: str) -> None:
        info = tmp_path / f"{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text("".join(
            f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in entries.items()) for group, entries in groups.items()))
        modules = {v.split(":")[0] for entries in groups.values() for v in entries.values()}
        for module in modules:
            (tmp_path / f"{module}.py").write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))

    return install


@pytest.fixture(autouse=True)
def restore_registries():
    """Every reclip registry (foundation.catalog.Catalog) lives in catalogue.REGISTRY under
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
