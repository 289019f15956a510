"""Regression cases: Save case writes them, ``reclip check`` replays them."""

from __future__ import annotations

import json

import pytest

from conftest import EXPRESSION, LEFT, RIGHT, centre
from reclip.app.cases import CasesFileError, read_cases
from reclip.cli.main import main


def saved_case(workbench, program_edit=None):
    """Locate on the demo scene, optionally edit the program, mark the answer as gold, save."""
    scene, out = workbench.initial({})
    scene, out = workbench.on_locate(scene, EXPRESSION)
    program = out["program"] if program_edit is None else program_edit(out["program"])
    scene, _ = workbench.on_run(scene, program)
    scene, _ = workbench.on_select(scene, *centre(scene, scene.result.index))
    scene, out = workbench.on_save(scene, program, None)
    assert f"Saved the case to {workbench.cases}" in out["message"]
    return scene


def check(capsys, path) -> tuple[int, list[str]]:
    status = main(["check", str(path), "--model", "synthetic", "--method", "crop,blur"])
    return status, capsys.readouterr().out.strip().splitlines()


def test_a_saved_case_is_one_line_with_paths_relative_to_the_file(workbench):
    saved_case(workbench)
    saved_case(workbench)       # the same image and proposals are stored once
    [first, second] = [json.loads(line) for line in workbench.cases.read_text(encoding="utf-8").splitlines()]
    assert first == second
    assert first["expression"] == EXPRESSION and first["gold"] == LEFT
    assert first["program"] == first["compiled"] and "superlative(leftmost, " in first["program"]
    files = sorted(f"cases.files/{p.name}" for p in (workbench.cases.parent / "cases.files").iterdir())
    assert files == sorted([first["image"], first["proposals"]])
    assert first["image"].endswith(".png") and first["proposals"].endswith(".proposals.json")


def test_check_passes_then_fails_when_the_saved_program_picks_another_proposal(workbench, capsys):
    saved_case(workbench)
    status, lines = check(capsys, workbench.cases)
    assert status == 0
    assert lines == [f'case 1 "{EXPRESSION}": ok: saved program picks gold #{LEFT}; compiler gives the saved program',
                     "1 case: 1 ok, 0 regressions"]
    case = json.loads(workbench.cases.read_text(encoding="utf-8"))
    case["program"] = case["program"].replace("(leftmost", "(rightmost")
    workbench.cases.write_text(json.dumps(case) + "\n", encoding="utf-8")
    status, lines = check(capsys, workbench.cases)
    assert status == 1
    assert lines[0].startswith(f'case 1 "{EXPRESSION}": REGRESSION: saved program picks #{RIGHT}, NOT gold #{LEFT}')
    assert lines[-1] == "1 case: 0 ok, 1 regression"


def test_a_hand_edited_fix_passes_while_the_compiler_still_differs(workbench, capsys):
    saved_case(workbench, lambda p: p.replace("(leftmost", "(rightmost"))
    status, lines = check(capsys, workbench.cases)
    assert status == 0
    assert lines[0].endswith(f"ok: saved program picks gold #{RIGHT}; "
                             "compiler still differs from the saved (hand-edited) program")


def test_a_compiler_change_is_a_regression(workbench, capsys):
    saved_case(workbench)
    case = json.loads(workbench.cases.read_text(encoding="utf-8"))
    case["expression"] = "the rightmost red triangle"   # the compiler now gives another program
    workbench.cases.write_text(json.dumps(case) + "\n", encoding="utf-8")
    status, lines = check(capsys, workbench.cases)
    assert status == 1 and "compiler CHANGED: it now gives and(find(\"the rightmost" in lines[0]


def test_a_case_whose_image_is_gone_is_reported_and_the_others_still_run(workbench, capsys):
    saved_case(workbench)
    case = json.loads(workbench.cases.read_text(encoding="utf-8"))
    gone = {**case, "image": "cases.files/gone.png"}
    workbench.cases.write_text(json.dumps(gone) + "\n" + json.dumps(case) + "\n", encoding="utf-8")
    status, lines = check(capsys, workbench.cases)
    assert status == 1
    assert lines[0].startswith(f'case 1 "{EXPRESSION}": ERROR ') and "gone.png" in lines[0]
    assert lines[1].startswith(f'case 2 "{EXPRESSION}": ok')


@pytest.mark.parametrize("text, message", [
    ("", "holds no cases"),
    ('{"image": "a.png"}\n', "line 1: not a case (missing proposals, expression, program, gold, gold_box)"),
    ("{not json\n", "line 1: invalid JSON"),
])
def test_a_bad_cases_file_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    path = tmp_path / "cases.jsonl"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CasesFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_cases(path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_save_case_needs_a_gold_and_a_parsing_program(workbench):
    scene, out = workbench.initial({})
    scene, out = workbench.on_locate(scene, EXPRESSION)
    assert "Mark the gold" in workbench.on_save(scene, out["program"], None)[1]["message"]
    scene, _ = workbench.on_select(scene, *centre(scene, LEFT))
    assert "does not parse" in workbench.on_save(scene, "find(", None)[1]["message"]
    assert not workbench.cases.exists()
