"""Every package reclip's code imports is declared in pyproject.toml (a dependency or an extra)."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata

from installing import PACKAGES, ROOT
from test_architecture import imported_modules, sources

# Imported modules whose distribution is named differently and is not installed in every test run.
KNOWN = {"segment_anything": "segment-anything", "cv2": "opencv-python-headless"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    return {normalise(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0]) for r in requirements}


def test_every_imported_package_is_declared():
    distributions = metadata.packages_distributions()
    own = set(PACKAGES)
    imported = {m.split(".")[0] for path in sources() for m in imported_modules(path)}
    third_party = sorted(m for m in imported - own - set(sys.stdlib_module_names) - {"__future__"})
    names = {m: KNOWN.get(m) or (distributions.get(m) or [m])[0] for m in third_party}
    missing = {m: d for m, d in names.items() if normalise(d) not in declared()}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
