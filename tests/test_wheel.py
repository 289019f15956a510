"""reclip as a dependency: the wheel carries every file the code reads, installs outside the
checkout, and its commands and API work from there."""

from __future__ import annotations

import json
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from installing import PACKAGES, ROOT, build_reclip_wheel, install, run

EXTRAS = ("sam", "ray", "app", "detectors", "test")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_reclip_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    return install(tmp_path_factory.mktemp("site"), wheel)


def tree_files() -> set[str]:
    """Every file of the packages in the source tree, as the wheel names them."""
    return {p.relative_to(ROOT).as_posix() for package in PACKAGES for p in (ROOT / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_the_wheel_carries_every_file_of_the_packages(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = tree_files() - names
    assert not missing, f"files the wheel leaves out: {sorted(missing)}"
    assert {"grammar/expression/expression.lark", "reclip/assets/synthetic.pt"} <= names
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_the_wheel_metadata_names_the_script_the_extras_and_the_version(wheel):
    archive = zipfile.ZipFile(wheel)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    info = f"reclip-{project['version']}.dist-info"
    metadata = archive.read(f"{info}/METADATA").decode()
    assert f"\nVersion: {project['version']}\n" in metadata
    assert {line.split(": ")[1] for line in metadata.splitlines() if line.startswith("Provides-Extra: ")} >= set(EXTRAS)
    scripts = archive.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nreclip = reclip.cli:main" in scripts


def test_the_installed_wheel_works_outside_the_checkout(installed, tmp_path):
    where = run([sys.executable, "-c", "import reclip, grammar, foundation; "
                 "print(reclip.__file__, grammar.__file__, foundation.__file__)"], tmp_path, [installed])
    assert where.returncode == 0, where.stderr
    assert all(Path(f).is_relative_to(installed) for f in where.stdout.split()), where.stdout
    script = str(installed / "bin" / "reclip")
    compiled = run([script, "compile", "the cup left of the plate"], tmp_path, [installed])
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout.strip() == ('and(find("the cup left of the plate"), relate(find("cup", head="cup"), '
                                       'left_of, find("plate", head="plate")))')
    relations = run([script, "relations"], tmp_path, [installed])
    assert relations.returncode == 0 and "left_of" in relations.stdout and "between" in relations.stdout
    demo = run([script, "demo"], tmp_path, [installed])
    assert demo.returncode == 0, demo.stderr
    assert "7/7 correct" in demo.stdout and (tmp_path / "out" / "demo").is_dir()


LOCATE = """
import json
from importlib import resources
from reclip import Locator
from reclip.files import load_image
demo = resources.files("reclip") / "assets" / "demo"
image = load_image(str(demo / "scene.png"))
boxes = [p["box"] for p in json.loads((demo / "proposals.json").read_text())]
res = Locator.from_pretrained("synthetic", device="cpu").locate(image, "the rightmost red triangle", boxes)
print(json.dumps({"index": res.index, "program": str(res.program)}))
"""


def test_a_locator_call_from_the_installed_wheel(installed, tmp_path):
    proc = run([sys.executable, "-c", LOCATE], tmp_path, [installed])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    demo = json.loads((ROOT / "reclip/assets/demo/expressions.json").read_text())
    gold = next(e["gold"] for e in demo if e["expression"] == "the rightmost red triangle")
    assert out["index"] == gold and "superlative(rightmost" in out["program"]
