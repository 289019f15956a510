"""--ray without the extra installed, and the arguments ray.init gets (no cluster started)."""

from __future__ import annotations

import sys

import pytest

from reclip import cli
from reclip.evaluation import ray_runner
from reclip.evaluation.ray_runner import REPO_ROOT, RayRunError, init_kwargs, run_on_ray


def test_without_ray_installed_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)      # import ray -> ImportError
    with pytest.raises(RayRunError, match=r"pip install 'reclip\[ray\]'"):
        run_on_ray(config=None, out="unused", shards=2)


def test_no_address_starts_a_new_local_cluster_and_workers_import_this_checkout():
    kwargs = init_kwargs(None, shards=2)
    assert kwargs["address"] == "local"          # not None: that would join RAY_ADDRESS or /tmp/ray's cluster
    assert kwargs["runtime_env"] == {"env_vars": {"PYTHONPATH": str(REPO_ROOT)}}
    assert (REPO_ROOT / "reclip" / "evaluation" / "ray_runner.py").is_file()
    assert 1 <= kwargs["num_cpus"] <= 2


def test_an_address_connects_without_claiming_resources():
    kwargs = init_kwargs("auto", shards=8)
    assert kwargs["address"] == "auto"
    assert "num_cpus" not in kwargs             # Ray refuses num_cpus when joining a cluster


def test_ray_is_imported_only_by_the_ray_runner():
    import ast
    from pathlib import Path

    importers = []
    for path in sorted((REPO_ROOT / "reclip").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "ray" or n.startswith("ray.") for n in names):
                importers.append(path.relative_to(REPO_ROOT).as_posix())
    assert set(importers) == {Path(ray_runner.__file__).relative_to(REPO_ROOT).as_posix()}


@pytest.mark.parametrize("options, message", [
    (["--shards", "2"], "--shards N needs --ray"),
    (["--ray"], "--ray needs --shards N"),
    (["--ray", "--shards", "2", "--shard", "1/2"], "--ray runs every shard"),
])
def test_ray_options_that_do_not_go_together_are_refused(tmp_path, capsys, options, message):
    argv = ["eval", "reclip", str(tmp_path / "none.jsonl"), "--images", str(tmp_path), "--proposals", "gt",
            "--out", str(tmp_path / "out"), *options]
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
