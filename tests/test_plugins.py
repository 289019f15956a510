"""Plugins from installed distributions: a real plugin package, installed with pip into a folder on
the path (no patching of the entry-point scan), with one entry point per kind of extension point,
some naming decorated objects, some naming modules whose import registers, some plain objects."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from installing import ROOT, install, run, write_project

DEMO = ROOT / "reclip" / "assets" / "demo"

PLUGIN = {
    # module form: its import registers a relation with the decorator
    "demoplug/relations.py": (
        "import numpy as np\n"
        "from reclip import relation\n\n"
        '@relation("touching", words=["touching", "against"])\n'
        "def touching(a, b):\n"
        '    """Boxes overlap or share an edge."""\n'
        "    gap_x = np.maximum(a[..., 0], b[..., 0]) - np.minimum(a[..., 2], b[..., 2])\n"
        "    gap_y = np.maximum(a[..., 1], b[..., 1]) - np.minimum(a[..., 3], b[..., 3])\n"
        "    return ((gap_x <= 0) & (gap_y <= 0)).astype(float)\n"),
    # object form naming a decorated function (the case that used to re-enter the scan)
    "demoplug/isolation.py": (
        "from PIL import ImageDraw\n"
        "from reclip.isolation import isolation_method\n\n"
        '@isolation_method("outline")\n'
        "def outline(image, proposals):\n"
        '    """The whole image with the box outlined in red."""\n'
        "    out = []\n"
        "    for p in proposals:\n"
        "        im = image.convert('RGB').copy()\n"
        "        ImageDraw.Draw(im).rectangle(list(p.box), outline=(255, 0, 0), width=3)\n"
        "        out.append(im)\n"
        "    return out\n"),
    # object form naming a class registered with PROPOSAL_SOURCES.register
    "demoplug/sources.py": (
        "from reclip.proposals import PROPOSAL_SOURCES\n\n"
        '@PROPOSAL_SOURCES.register("grid")\n'
        "class Grid:\n"
        '    """A regular grid of boxes."""\n'
        "    def __init__(self, arg=None, step=56):\n"
        "        self.step = int(step)\n"
        "    def __call__(self, image):\n"
        "        w, h = image.size\n"
        "        return [[x, y, min(x + self.step, w), min(y + self.step, h)]\n"
        "                for y in range(0, h, self.step) for x in range(0, w, self.step)]\n"),
    # object form naming an undecorated object: a dataset format and its facts
    "demoplug/formats.py": (
        "from reclip.datasets import DatasetFormat, Option\n\n"
        "def load_tiny(files, images, split=None):\n"
        '    """A dataset format that reads nothing."""\n'
        "    raise NotImplementedError\n\n"
        "TINY = DatasetFormat(load=load_tiny, help='a tiny format from a plugin',\n"
        "                     files=(Option('annotations', 'the tiny file', positional=True),))\n"),
    "demoplug/__init__.py": "",
}
ENTRY_POINTS = {
    "reclip_primitives": {"touching": "demoplug.relations"},
    "reclip_isolation": {"outline": "demoplug.isolation:outline"},
    "reclip_proposals": {"grid": "demoplug.sources:Grid"},
    "reclip_datasets": {"tiny": "demoplug.formats:TINY"},
}
BROKEN = {"brokenplug.py": "raise RuntimeError('this plugin is broken on purpose')\n"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("plugins")
    site = work / "site"
    install(site, write_project(work / "demoplug", "reclip-demo-plugins", ENTRY_POINTS, PLUGIN))
    install(site, write_project(work / "broken", "reclip-broken-plugin",
                                {"reclip_isolation": {"boom": "brokenplug:thing"}}, BROKEN))
    return site


def reclip(site: Path, cwd: Path, *args: str):
    return run([sys.executable, "-m", "reclip", *args], cwd, [site, ROOT])


BROKEN_LINE = ("reclip: warning: plugin from distribution reclip-broken-plugin 0.1 (entry point "
               "'boom = brokenplug:thing' in group reclip_isolation) failed to load: "
               "RuntimeError: this plugin is broken on purpose")


def test_reclip_plugins_lists_each_entry_with_its_distribution(site, tmp_path):
    proc = reclip(site, tmp_path, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    points = data["extension_points"]
    for kind, entries in ENTRY_POINTS.items():
        (name,) = entries
        (entry,) = [e for e in points[kind.removeprefix("reclip_")]["entries"] if e["name"] == name]
        assert entry["origin"] == "distribution" and entry["from"] == "reclip-demo-plugins 0.1", entry
        assert entry["module"].startswith("demoplug.") and entry["line_no"] > 0
    left_of = next(e for e in points["primitives"]["entries"] if e["name"] == "left_of")
    assert left_of["origin"] == "built in" and left_of["module"] == "primitives.spatial"
    assert data["failed"] == [{"from": "reclip-broken-plugin 0.1", "group": "reclip_isolation",
                               "entry_point": "boom = brokenplug:thing",
                               "cause": "RuntimeError: this plugin is broken on purpose"}]
    text = reclip(site, tmp_path, "plugins")
    assert "touching" in text.stdout and "[distribution reclip-demo-plugins 0.1: touching = demoplug.relations]" in text.stdout


def test_the_plugins_relation_is_listed_and_compiled(site, tmp_path):
    relations = reclip(site, tmp_path, "relations")
    assert relations.returncode == 0 and "touching" in relations.stdout and "against" in relations.stdout
    compiled = reclip(site, tmp_path, "compile", "the cup touching the plate")
    assert compiled.returncode == 0, compiled.stderr
    assert "relate(find(\"cup\", head=\"cup\"), touching, find(\"plate\", head=\"plate\"))" in compiled.stdout
    assert compiled.stderr.strip() == BROKEN_LINE or compiled.stderr == ""


def test_the_plugins_dataset_format_is_an_eval_subcommand(site, tmp_path):
    listing = reclip(site, tmp_path, "eval", "--help")
    assert listing.returncode == 0 and "a tiny format from a plugin" in listing.stdout
    usage = reclip(site, tmp_path, "eval", "tiny", "--help")
    assert usage.returncode == 0 and "the tiny file" in usage.stdout and "--out" in usage.stdout


def test_locate_with_the_plugins_method_and_source(site, tmp_path):
    proc = reclip(site, tmp_path, "locate", str(DEMO / "scene.png"), "the green triangle", "--method", "outline",
                  "--proposals", "grid?step=112", "--model", "synthetic", "--device", "cpu", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    boxes = [[x, y, x + 112, y + 112] for y in (0, 112) for x in (0, 112)]   # the 224x224 scene's grid
    assert out["box"] in boxes


def test_a_broken_plugin_is_one_line_and_reclip_still_runs(site, tmp_path):
    proc = reclip(site, tmp_path, "demo")
    assert proc.returncode == 0, proc.stderr
    assert "7/7 correct" in proc.stdout
    assert proc.stderr.strip().splitlines() == [BROKEN_LINE]
    unknown = reclip(site, tmp_path, "locate", str(DEMO / "scene.png"), "x", "--method", "boom",
                     "--proposals", "grid", "--model", "synthetic", "--device", "cpu")
    assert unknown.returncode == 2 and "unknown isolation method 'boom'" in unknown.stderr
    assert "this plugin is broken on purpose" in unknown.stderr
