"""Building and installing distributions for the packaging and plugin tests: real wheels, real
pip installs into folders outside the checkout, and a command runner with only those on the path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("foundation", "grammar", "interpreter", "primitives", "reclip")


def pip(*args: str) -> None:
    """pip from this interpreter, offline (no index, no build isolation: nothing is downloaded)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "-q", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]


def build_reclip_wheel(work: Path) -> Path:
    """reclip's wheel, built from a copy of the source tree (a stale build/ folder cannot leak into it)."""
    src = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(work / "dist"), str(src))
    (wheel,) = (work / "dist").glob("reclip-*.whl")
    return wheel


def install(target: Path, what: Path) -> Path:
    """Install a wheel or a project folder (no dependencies) into ``target``, a plain folder."""
    pip("install", "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target), str(what))
    return target


def run(args: list[str], cwd: Path, path: list[Path], timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``args`` with only ``path`` (not the checkout) in front of the installed packages."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in path)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def write_project(folder: Path, name: str, entry_points: dict[str, dict[str, str]],
                  files: dict[str, str]) -> Path:
    """A distribution's source: pyproject.toml with ``entry_points`` by group, and its files."""
    groups = "\n".join(
        f'[project.entry-points."{group}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in entries.items())
        for group, entries in entry_points.items())
    packages = sorted({f.split("/")[0] for f in files if "/" in f})
    modules = sorted(f[:-3] for f in files if "/" not in f and f.endswith(".py"))
    (folder / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "0.1"\n\n{groups}\n'
        f"[tool.setuptools]\npackages = {packages!r}\npy-modules = {modules!r}\n", encoding="utf-8")
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text, encoding="utf-8")
    return folder
