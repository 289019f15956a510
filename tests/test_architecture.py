"""The architecture, enforced: imports run one way and no source file grows past 400 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("reclip", "interpreter", "grammar", "primitives", "foundation")      # high to low
MAX_LINES = 400
TOO_LONG_ALLOWED: set[str] = set()
# reclip's subpackages and modules, low to high: a module may import only its own
# layer and the layers before it. Layers on one line are peers and must not import each other.
# proposals sits below locator: Locator.locate(image, text, proposals="maskrcnn") resolves a
# source spec, and a source needs nothing of scoring or the locator. report sits below
# evaluation: an evaluation tallies the diagnosis (report.diagnose) of every failure by cause.
# engines (detectors answering find, the weighted ensemble) sit on scoring and below proposals:
# a detector's proposal source is its engine.
RECLIP_LAYERS = [
    {"files", "caching", "_interrupt"}, {"masks"}, {"clip"}, {"isolation"}, {"scoring"}, {"engines"}, {"proposals"},
    {"locator"}, {"datasets"}, {"report"}, {"evaluation"}, {"synthetic"}, {"app"}, {"cli"},
    {"__init__", "__main__"},
]


def sources() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level imports too)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def layer_of(module: str) -> int:
    parts = module.split(".")
    name = parts[1] if len(parts) > 1 else "__init__"
    for i, layer in enumerate(RECLIP_LAYERS):
        if name in layer:
            return i
    raise AssertionError(f"reclip.{name} is not placed in RECLIP_LAYERS")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts)


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_top_level_packages_import_only_downwards(path):
    own = module_name(path).split(".")[0]
    allowed = set(PACKAGES[PACKAGES.index(own):])
    wrong = {m for m in imported_modules(path) if m.split(".")[0] in PACKAGES and m.split(".")[0] not in allowed}
    assert not wrong, f"{own} may import only {sorted(allowed)}; it imports {sorted(wrong)}"


@pytest.mark.parametrize("path", sorted((ROOT / "reclip").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_reclip_subpackages_import_in_pipeline_order(path):
    me = module_name(path)
    own_part = me.split(".")[1]
    for module in imported_modules(path):
        parts = module.split(".")
        if parts[0] != "reclip" or len(parts) < 2 or parts[1] == own_part:
            continue  # not reclip's, the package itself, or within one subpackage
        assert layer_of(module) < layer_of(me), (
            f"{me} (layer {sorted(RECLIP_LAYERS[layer_of(me)])}) imports {module} "
            f"(layer {sorted(RECLIP_LAYERS[layer_of(module)])}): reclip's imports run low to high"
        )


def test_no_source_file_is_longer_than_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert set(long) <= TOO_LONG_ALLOWED, f"files over {MAX_LINES} lines: {long}"


def test_the_layers_check_catches_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from reclip.cli import main\n")
    assert "reclip.cli" in imported_modules(bad)
    assert layer_of("reclip.cli.main") > layer_of("reclip.scoring.scorer")


def public_definitions(path: Path) -> set[str]:
    """Names a module defines at its top level (functions, classes, constants), private ones left out."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {n for n in names if not n.startswith("_")}


def package_of(path: Path) -> str:
    """The top-level package, or reclip's subpackage (reclip.clip, ...; reclip's own modules: reclip)."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:2]) if parts[0] == "reclip" and len(parts) > 2 else parts[0]


def test_no_public_name_is_defined_in_two_packages():
    """One name per thing: a name two packages define means two things, or one thing twice."""
    where: dict[str, set[str]] = {}
    for path in sources():
        for name in public_definitions(path):
            where.setdefault(name, set()).add(package_of(path))
    twice = {name: sorted(packages) for name, packages in where.items() if len(packages) > 1}
    assert not twice, f"public names defined in more than one package: {twice}"


def test_every_registered_source_and_format_declares_its_facts():
    from reclip.datasets import FORMATS, DatasetFormat
    from reclip.proposals import PROPOSAL_SOURCES
    from reclip.proposals.facts import GIVES, SourceFacts

    for name, factory in PROPOSAL_SOURCES.all().items():
        facts = getattr(factory, "facts", None)
        assert isinstance(facts, SourceFacts), f"proposal source {name!r} declares no facts (reclip.proposals.declare)"
        assert facts.gives and facts.gives <= set(GIVES) and facts.options is not None, name
    for name, fmt in FORMATS.all().items():
        assert isinstance(fmt, DatasetFormat) and fmt.help and callable(fmt.load), name
        assert all(option.help for option in fmt.files), f"dataset format {name!r}: a file without its help"
