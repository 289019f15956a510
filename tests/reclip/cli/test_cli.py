"""The command line, driven in-process (parser, output, errors) and as a user runs it
(subprocess: exit codes, stdout, stderr). Subprocess runs are few: each costs an import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grammar import compile_expression, parse_program
from primitives import REGISTRY
from foundation import plugins
from reclip import Locator, cli
from reclip.cli import locate as cli_locate
from reclip.cli import programs as cli_programs
from reclip.report.explain import explain, node_spans, pretty_program
from report_scene import GOLD, SCENE, LabelScorer, make_scene

ROOT = Path(__file__).resolve().parents[3]
PROGRAM_TEXT = """# the red cup, by where it is
and(find("red cup left of the plate"),
    relate(find("red cup", head="cup"), left_of, find("plate")))
"""


def reclip(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RECLIP_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "reclip", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=300)


def has_compiler() -> bool:
    try:
        import grammar.expression  # noqa: F401
    except ModuleNotFoundError:
        return False
    return True


needs_compiler = pytest.mark.skipif(not has_compiler(), reason="grammar/expression/ (the compiler) is not there yet")


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The test scene as a user has it: an image, a proposals file and a program file."""
    img, proposals = make_scene()
    out = {"image": tmp_path / "scene.png", "proposals": tmp_path / "proposals.json",
           "program": tmp_path / "program.txt", "dir": tmp_path}
    img.save(out["image"])
    out["proposals"].write_text(json.dumps([{"box": list(p.box), "label": p.label} for p in proposals]))
    out["program"].write_text(PROGRAM_TEXT)
    return out


@pytest.fixture
def label_scorer(monkeypatch):
    """Run/locate without CLIP: the CLI's locator scores proposals by their labels."""
    monkeypatch.setattr(cli_locate, "load_locator", lambda args: Locator(LabelScorer()))


@pytest.fixture
def clean_registry():
    """Plugins register into the global registry: take their primitives out afterwards."""
    names, loaded = set(REGISTRY.names()), dict(plugins._loaded)
    yield
    for name in set(REGISTRY.names()) - names:
        REGISTRY.unregister(name)
    plugins._loaded.clear()
    plugins._loaded.update(loaded)


def run_args(files, *extra: str) -> list[str]:
    return ["run", str(files["program"]), str(files["image"]), "--proposals", str(files["proposals"]), *extra]


# -- in-process: parser, output, errors ------------------------------------------------
def test_help_names_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in ("compile", "locate", "run", "relations", "--plugins"):
        assert name in out
    for name in ("compile", "locate", "run", "relations"):
        with pytest.raises(SystemExit):
            cli.main([name, "--help"])
        assert "usage: reclip " + name in capsys.readouterr().out


def test_relations_lists_primitives_and_their_words(capsys):
    assert cli.main(["relations"]) == 0
    out = capsys.readouterr().out
    assert "relations (" in out and "superlatives (" in out and "ternary relations (" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("near "))
    assert "next to" in line and "beside" in line
    assert cli.main(["relations", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert {p["name"] for p in listing["superlative"]} >= {"leftmost", "middle"}
    assert [p["name"] for p in listing["ternary"]] == ["between"]


def test_run_prints_program_answer_and_gold_and_writes_trace_and_drawing(files, label_scorer, capsys):
    trace, drawing = files["dir"] / "t.html", files["dir"] / "d.png"
    code = cli.main(run_args(files, "--gold", *map(str, GOLD), "--trace", str(trace), "--draw", str(drawing)))
    out = capsys.readouterr().out
    assert code == 0
    assert f"program: {parse_program(PROGRAM_TEXT)}" in out
    assert "answer:  #0  box [30, 200, 110, 280]" in out
    assert "gold:    WRONG  (IoU 0.00; gold #2)" in out
    assert "lost:    relate(left_of) removed the right answer (step 3)" in out   # README: where it was lost
    assert f"trace:   {trace}" in out and f"drawing: {drawing}" in out
    assert 'class="tree-node' in trace.read_text(encoding="utf-8")
    assert drawing.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_json_and_verbose(files, label_scorer, capsys):
    assert cli.main(run_args(files, "--json", "--verbose")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["index"] == 0 and out["box"] == [30, 200, 110, 280]
    assert len(out["scores"]) == len(SCENE) and len(out["trace"]) == 5
    assert cli.main(run_args(files, "--verbose")) == 0
    assert "relate(left_of)  -> #0" in capsys.readouterr().out


def test_run_reads_the_program_from_stdin(files, label_scorer, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO('superlative(rightmost, find("cup"))'))
    args = run_args(files)
    args[1] = "-"
    assert cli.main(args) == 0
    assert "answer:  #2" in capsys.readouterr().out


def test_run_syntax_error_shows_line_column_caret_and_suggestion(files, label_scorer, capsys):
    files["program"].write_text('and(find("cup"),\n    relate(find("cup"), left_off, find("plate")))\n')
    assert cli.main(run_args(files)) == 2
    err = capsys.readouterr().err
    assert f"syntax error in {files['program']}: unknown relation 'left_off' at line 2, column 25" in err
    caret = err.splitlines()[err.splitlines().index(next(ln for ln in err.splitlines() if "left_off," in ln)) + 1]
    assert caret.strip() == "^"
    assert "did you mean: left_of" in err


@pytest.mark.parametrize("mutate, message", [
    (lambda f: f["image"].unlink(), "image file not found"),
    (lambda f: f["image"].write_text("not a png"), "cannot read image"),
    (lambda f: f["proposals"].unlink(), "proposals file not found"),
    (lambda f: f["proposals"].write_text("[[1, 2, 3, 4],"), "invalid JSON at line 1, column 15"),
    (lambda f: f["proposals"].write_text("[[1, 2, 30, 40], [50, 60, 5, 70]]"), "proposal 1: is reversed"),
    (lambda f: f["proposals"].write_text('{"detections": []}'), "expected a JSON list of boxes"),
    (lambda f: f["program"].unlink(), "program file not found"),
])
def test_user_errors_are_one_line_and_exit_2(files, label_scorer, capsys, mutate, message):
    mutate(files)
    assert cli.main(run_args(files)) == 2
    err = capsys.readouterr().err
    assert err.startswith("reclip run: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_bad_gold_box_is_a_user_error(files, label_scorer, capsys):
    assert cli.main(run_args(files, "--gold", "10", "10", "5", "20")) == 2
    assert "gold box 0 is reversed" in capsys.readouterr().err


def test_unwritable_trace_is_a_user_error(files, label_scorer, capsys):
    assert cli.main(run_args(files, "--trace", str(files["dir"] / "nope" / "t.html"))) == 2
    assert "cannot write" in capsys.readouterr().err


def test_plugin_relations_are_listed_and_usable_in_programs(files, label_scorer, clean_registry, capsys, tmp_path):
    plugin = tmp_path / "my_relations.py"
    plugin.write_text(
        "import numpy as np\n"
        "from reclip import relation\n\n"
        '@relation("same_column", words=["in the same column as", "straight below"])\n'
        "def same_column(a, b):\n"
        '    """Centres within 60 px horizontally."""\n'
        "    return (np.abs((a[..., 0] + a[..., 2]) - (b[..., 0] + b[..., 2])) / 2 < 60).astype(float)\n"
    )
    assert cli.main(["--plugins", str(plugin), "relations"]) == 0
    out = capsys.readouterr().out
    assert "same_column" in out and "straight below" in out and "Centres within 60 px" in out
    files["program"].write_text('relate(find("cup"), same_column, find("yellow plate"))')
    # given after the subcommand too; the three cups tie for find("cup") and the new
    # relation picks the one under the yellow plate: the blue cup
    assert cli.main([*run_args(files), "--plugins", str(plugin)]) == 0
    assert "answer:  #1" in capsys.readouterr().out


@pytest.mark.parametrize("source, message", [
    ("def broken(:\n", "line 1: syntax error"),
    ("from reclip import relation\n@relation('left_of', words=['x'])\ndef f(a, b):\n    return a\n",
     "primitive 'left_of' is already registered"),
    ("x = 1\nraise RuntimeError('boom')\n", "failed while importing: RuntimeError: boom (at line 2)"),
])
def test_broken_plugins_are_user_errors(tmp_path, clean_registry, capsys, source, message):
    plugin = tmp_path / "bad_plugin.py"
    plugin.write_text(source)
    assert cli.main(["--plugins", str(plugin), "relations"]) == 2
    err = capsys.readouterr().err
    assert str(plugin) in err and message in err


def test_missing_plugin_is_a_user_error(capsys):
    assert cli.main(["--plugins", "no_such_plugin_file.py", "relations"]) == 2
    assert "plugin file not found: no_such_plugin_file.py" in capsys.readouterr().err
    assert cli.main(["--plugins", "no_such.plugin_module", "relations"]) == 2
    assert "plugin module 'no_such.plugin_module' not found" in capsys.readouterr().err


@needs_compiler
@pytest.mark.parametrize("text", ["the second cup from the left next to the red plate",
                                  "the  second cup  from the left next to   the red plate"])
def test_explain_underlines_the_words_each_node_was_compiled_from(text):
    program = compile_expression(text)
    rows = node_spans(program)
    spans = {label.split("  ")[0]: [text[a:b] for a, b in s] for label, s in rows}
    assert spans['find("the second cup from the left next to the red plate")'] == [text]
    assert spans["relate(…, near, …)"] == [text[text.index("next"):text.index("to ") + 2]]
    assert spans['find("cup", head="cup")'] == ["cup"]
    assert spans['find("red plate", head="plate")'] == ["red plate"]
    assert spans["ordinal(2, leftmost, …)"][0].startswith("second")
    drawing = explain(program, text).splitlines()
    assert drawing[0] == text and not any("no words" in line for line in drawing)
    near = next(ln for ln in drawing if ln.endswith("relate(…, near, …)"))
    a, b = program.root.args[1].arg.span
    assert near[:len(text)] == " " * a + "^" * (b - a) + " " * (len(text) - b)


def test_explain_of_a_hand_written_program_says_it_has_no_words():
    program = parse_program('relate(find("cup"), near, find("plate"))')
    assert all("(no words: implied)" in line for line in explain(program, "cup near plate").splitlines()[1:-1])


@pytest.mark.parametrize("width", [10, 40, 200])
def test_pretty_programs_parse_back_unchanged(width):
    program = parse_program('and(find("the cup \\"left\\" of it"), ordinal(2, leftmost, relate(find("cup", head="cup"), '
                            'between, find("big plate"), superlative(largest, find("small plate")))))')
    text = pretty_program(program, width)
    assert parse_program(text) == program
    assert max(len(line) for line in text.splitlines()) <= max(width, 45)
    assert (text == str(program)) == (width == 200)


def test_node_json_round_trips_the_tree():
    program = parse_program('and(find("a b"), relate(find("cup", head="cup"), between, find("x"), find("y")), '
                            'ordinal(3, topmost, find("z")), superlative(largest, find("w")))')
    tree = cli_programs.node_json(program.root)
    assert tree["type"] == "and" and [a["type"] for a in tree["args"]] == ["find", "relate", "ordinal", "superlative"]
    assert tree["args"][1]["relation"] == "between" and len(tree["args"][1]["landmarks"]) == 2
    assert tree["args"][1]["target"] == {"type": "find", "text": "cup", "head": "cup"}
    assert tree["args"][2]["n"] == 3


@needs_compiler
def test_compile_prints_a_program_that_parses(capsys):
    assert cli.main(["compile", "the cup left of the plate"]) == 0
    text = capsys.readouterr().out.strip()
    program = parse_program(text)
    assert "left_of" in text and str(program) == text
    assert cli.main(["compile", "--json", "the cup left of the plate"]) == 0
    tree = json.loads(capsys.readouterr().out)
    assert tree["program"] == text and tree["tree"]["type"] == "and"
    assert cli.main(["compile", "--explain", "the cup left of the plate"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == text and "the cup left of the plate" in out and "^" in out
    assert cli.main(["compile", "--pretty", "the cup left of the plate"]) == 0
    pretty = capsys.readouterr().out
    assert "\n    relate(" in pretty and parse_program(pretty) == program


@needs_compiler
def test_locate_compiles_and_runs(files, label_scorer, capsys):
    code = cli.main(["locate", str(files["image"]), "the leftmost red cup", "--proposals", str(files["proposals"])])
    out = capsys.readouterr().out
    assert code == 0 and "program: " in out and "leftmost" in out
    assert "answer:  #0  box [30, 200, 110, 280]" in out


# -- as a user runs it: subprocesses ---------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A tiny random CLIP in the project's checkpoint format (reclip.clip.checkpoint)."""
    import torch

    from reclip.clip import model_from_config, save_checkpoint

    cfg = {"embed_dim": 16,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 16},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 16, "heads": 2, "layers": 1}}
    torch.manual_seed(0)
    model = model_from_config(cfg)
    return save_checkpoint(model, cfg, tmp_path_factory.mktemp("ckpt") / "tiny.pt", model_name="tiny")


def test_subprocess_run_with_a_real_clip_checkpoint(files, checkpoint):
    trace, drawing = files["dir"] / "t.html", files["dir"] / "d.png"
    proc = reclip(*run_args(files, "--model", str(checkpoint), "--device", "cpu", "--trace", str(trace),
                            "--draw", str(drawing), "--json"), cwd=files["dir"])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # the same answer as the Python API on the same checkpoint
    img, proposals = make_scene()
    api = Locator.from_pretrained(str(checkpoint), device="cpu").run(PROGRAM_TEXT, files["image"], proposals)
    assert out["index"] == api.index and out["box"] == api.box
    assert out["trace"] == str(trace) and trace.is_file() and drawing.is_file()


def test_subprocess_user_errors_exit_2_without_traceback(files):
    bad = files["dir"] / "bad.txt"
    bad.write_text('superlative(leftmots, find("cup"))')
    proc = reclip("run", str(bad), str(files["image"]), "--proposals", str(files["proposals"]), cwd=files["dir"])
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unknown superlative 'leftmots' at line 1, column 13" in proc.stderr
    assert "            ^" in proc.stderr and "did you mean: leftmost" in proc.stderr
    assert "Traceback" not in proc.stderr

    proc = reclip(*run_args(files, "--model", "NoSuchNet-B-32:openai"), cwd=files["dir"])
    assert proc.returncode == 2 and "NoSuchNet-B-32" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

    proc = reclip("locate", "missing.png", "the cup", "--proposals", str(files["proposals"]), cwd=files["dir"])
    assert proc.returncode == 2 and "image file not found: missing.png" in proc.stderr

    proc = reclip("run", str(files["program"]), str(files["image"]), cwd=files["dir"])
    assert proc.returncode == 2 and "--proposals" in proc.stderr   # argparse's own usage error


def test_subprocess_entry_point_plugins_load(tmp_path):
    """A package offering relations through the 'reclip.relations' entry point group."""
    site = tmp_path / "site"
    (site / "touchy-0.1.dist-info").mkdir(parents=True)
    (site / "touchy-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: touchy\nVersion: 0.1\n")
    (site / "touchy-0.1.dist-info" / "entry_points.txt").write_text("[reclip.relations]\ntouchy = touchy_rel\n")
    (site / "touchy_rel.py").write_text(
        "from reclip import relation\n"
        '@relation("touching", words=["touching", "against"])\n'
        "def touching(a, b):\n    return (a[..., 2] >= b[..., 0]) * 1.0\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "reclip", "relations"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "touching" in proc.stdout and "against" in proc.stdout


@needs_compiler
def test_subprocess_compile_and_locate(files, checkpoint):
    proc = reclip("compile", "the cup left of the plate", cwd=files["dir"])
    assert proc.returncode == 0, proc.stderr
    assert str(parse_program(proc.stdout)) == proc.stdout.strip()
    proc = reclip("locate", str(files["image"]), "the red cup left of the plate", "--proposals",
                  str(files["proposals"]), "--model", str(checkpoint), "--device", "cpu", cwd=files["dir"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("program: and(find(") and lines[1].startswith("answer:  #")


def test_a_gallery_failure_reruns_from_the_files_it_wrote(tmp_path, label_scorer, capsys):
    from reclip.report import Gallery
    from report_scene import EXPRESSION, run_scene

    img, result = run_scene()
    gallery = Gallery(tmp_path / "g", run_options=["--model", "synthetic"])
    gallery.add_failure("relation", result, img, EXPRESSION, gold_box=GOLD)
    page = (tmp_path / "g" / "0000-relation.html").read_text(encoding="utf-8")
    command = page[page.index('id="rerun">') + len('id="rerun">'):page.index("</pre></details>")]
    assert command.splitlines()[0] == f"cd {tmp_path / 'g'}"
    words = command.splitlines()[1].split()
    assert words[:2] == ["reclip", "run"] and words[-2:] == ["--model", "synthetic"]
    args = [w if not w.startswith("0000-") else str(tmp_path / "g" / w) for w in words[1:]]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert f"answer:  #{result.index}  box [30, 200, 110, 280]" in out and "gold:    WRONG" in out
    assert (tmp_path / "g" / "0000-relation.rerun.html").is_file()
