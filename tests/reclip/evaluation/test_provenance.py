"""run.json records every resolved setting that can change a figure; a resume checks them all
(a weights file replaced in place is another run) and `reclip eval compare` names those that differ."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from reclip.clip.specs import SYNTHETIC_PATH
from reclip.synthetic import dataset as synth
from cli_capture import capture


def run_cli(*argv: str) -> tuple[int, str, str]:
    return capture(argv)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    synth.write_dataset(root, scenes=1, seed=3)
    return root


def test_run_json_records_the_resolved_settings_and_a_replaced_weights_file_is_another_run(dataset, tmp_path):
    weights = tmp_path / "model.pt"
    shutil.copy(SYNTHETIC_PATH, weights)
    out = tmp_path / "o"
    argv = ["eval", "synthetic", str(dataset), "--model", str(weights), "--limit", "2", "--out", str(out),
            "--no-progress"]
    code, _, err = run_cli(*argv)
    assert code == 0, err
    resolved = json.loads((out / "run.json").read_text())["resolved"]
    assert resolved["models"] == [{"spec": str(weights), "weights": str(weights),
                                   "sha256": hashlib.sha256(weights.read_bytes()).hexdigest()}]
    assert resolved["scorer"]["methods"] == [{"method": "crop"}, {"method": "blur"}]
    assert resolved["scorer"]["beta"] == 0.5 and resolved["proposals"] == {"source": "gt"}
    assert len(resolved["grammar_sha256"]) == 64 and resolved["reclip_version"]

    with weights.open("ab") as f:          # the same name, other bytes
        f.write(b"\0")
    code, _, err = run_cli(*argv)
    assert code == 2 and "holds another run" in err and "resolved.models.0.sha256" in err


def test_compare_names_the_settings_the_runs_differ_in_first(dataset, tmp_path):
    base = ["eval", "synthetic", str(dataset), "--limit", "3", "--no-progress"]
    assert run_cli(*base, "--out", str(tmp_path / "a"))[0] == 0
    assert run_cli(*base, "--out", str(tmp_path / "b"), "--method", "crop")[0] == 0
    code, stdout, err = run_cli("eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 0, err
    settings = stdout[stdout.index("## Settings that differ"):stdout.index("## Conventions")]
    assert '- methods (["crop", "blur"] vs ["crop"])' in settings
    assert '- resolved.scorer.methods.1.method ("blur" vs null)' in settings    # the resolved settings too
    assert "models" not in settings                       # what is the same is not listed
    code, stdout, _ = run_cli("eval", "compare", str(tmp_path / "a"), str(tmp_path / "a"))
    assert "none: the runs were made with the same recorded settings" in stdout


def test_a_methods_options_are_recorded_with_their_defaults_filled_in():
    from reclip.evaluation.provenance import scorer_options
    from reclip.isolation.global_local import GLOBAL_LOCAL_ALPHA

    (method,) = scorer_options(["global_local"], False)["methods"]
    assert method["method"] == "global_local" and method["alpha"] == GLOBAL_LOCAL_ALPHA
    (method,) = scorer_options(["global_local?alpha=0.95"], False)["methods"]
    assert method["alpha"] == 0.95
