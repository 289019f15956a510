"""The workbench's callbacks without a browser: what each shows, and how errors stay in the page."""

from __future__ import annotations

import ast
import html
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from conftest import EXPRESSION, LEFT, RIGHT, centre
import reclip
from primitives import REGISTRY
from reclip.app import Workbench
from reclip.app.workbench import OUTPUTS
from reclip.app.views import vocabulary
from reclip.locator import Locator
from reclip.report import Gallery
from reclip.report.explain import pretty_program
from reclip.report.links import app_url


def located(workbench):
    scene, _ = workbench.initial({})
    return workbench.on_locate(scene, EXPRESSION)


def test_the_page_opens_on_the_demo_scene_with_an_expression(workbench):
    scene, out = workbench.initial({})
    assert len(scene.proposals) == 8 and scene.result is None
    assert out["expression"] and "8 proposals" in out["answer"]
    assert out["picture"].size == (2 * scene.image.width, 2 * scene.image.height)   # small scenes drawn 2x


def test_locate_shows_the_program_the_answer_and_the_trace(workbench):
    scene, out = located(workbench)
    compiled = workbench.locator.compile(EXPRESSION)
    assert out["program"] == pretty_program(compiled) and "\n" in out["program"]   # laid out for editing
    assert "superlative(leftmost, " in out["program"]
    assert f"**Answer: #{LEFT}**" in out["answer"]
    assert scene.result.index == LEFT and scene.compiled == str(compiled)
    w, h = out["picture"].size     # the picture names the answer in a band under the image
    assert w == 2 * scene.image.width and h > 2 * scene.image.height
    page = html.unescape(out["trace"])
    assert out["trace"].startswith('<iframe id="trace-frame"')
    assert page.count('class="tree-node') == len(scene.result.trace)   # the trace page's own tree
    assert 'class="matrix"' in page                                       # the superlative's matrix


def test_an_edited_program_reruns_from_the_scorer_cache(workbench):
    scene, out = located(workbench)
    stats = workbench.locator.scorer.stats
    images, texts = stats.images_encoded, stats.texts_encoded
    scene, out = workbench.on_run(scene, out["program"].replace("(leftmost", "(rightmost"))
    assert scene.result.index == RIGHT and f"**Answer: #{RIGHT}**" in out["answer"]
    assert scene.encoded["images_encoded"] == 0 and scene.encoded["texts_encoded"] == 0
    assert (stats.images_encoded, stats.texts_encoded) == (images, texts)
    assert "Encoded for this run: 0 images, 0 texts" in out["answer"]


def test_a_syntax_error_shows_line_column_and_caret_under_the_program(workbench):
    scene, out = located(workbench)
    before = scene.result
    scene, out = workbench.on_run(scene, 'superlative(rightmost find("red triangle"))')
    assert "line 1, column 23" in out["program_error"] and "^" in out["program_error"]
    assert "answer" not in out and scene.result is before      # the last answer stays
    scene, out = workbench.on_run(scene, 'superlative(rightmst, find("red triangle"))')
    assert "did you mean: rightmost" in out["program_error"]
    scene, out = workbench.on_run(scene, str(before.program))
    assert out["program_error"] == ""                            # a good run clears it


def test_clicking_a_proposal_marks_the_gold_and_shows_the_diagnosis(workbench):
    scene, out = located(workbench)
    scene, out = workbench.on_run(scene, out["program"].replace("(leftmost", "(rightmost"))
    scene, out = workbench.on_select(scene, *centre(scene, LEFT))
    assert scene.gold == LEFT and f"Gold: #{LEFT}" in out["message"]
    assert f"Wrong: the answer is #{RIGHT}; the gold object is #{LEFT}" in out["diagnosis"]
    assert 'id="gold-box"' in html.unescape(out["trace"])
    scene, out = workbench.on_select(scene, 1, 1)
    assert "No proposal there" in out["message"] and scene.gold == LEFT


def test_callbacks_name_only_the_page_outputs(workbench, tmp_path):
    scene, first = workbench.initial({})
    scene, located_out = workbench.on_locate(scene, EXPRESSION)
    outs = [first, located_out, workbench.on_run(scene, "find(")[1], workbench.on_select(scene, 0, 0)[1],
            workbench.on_save(scene, "", str(tmp_path / "c.jsonl"))[1], workbench.on_inputs(scene, None, None, None)[1]]
    assert all(set(out) <= set(OUTPUTS) for out in outs)
    assert set(first) | set(located_out) == set(OUTPUTS)     # opening the page and locating fill them all


def test_bad_inputs_say_what_is_wrong_and_keep_the_scene(workbench, tmp_path):
    scene, _ = located(workbench)
    image = tmp_path / "scene.png"
    scene.image.save(image)
    bad = tmp_path / "boxes.json"
    bad.write_text('[[0, 0, 10, 10], [5, 5, "x", 9]', encoding="utf-8")
    kept, out = workbench.on_inputs(scene, str(image), str(bad), None)
    assert kept is scene and "boxes.json" in out["message"] and "invalid JSON" in out["message"]
    bad.write_text('[[0, 0, 10, 10], [5, 5, 2, 9]]', encoding="utf-8")
    assert "boxes.json" in workbench.on_inputs(scene, str(image), str(bad), None)[1]["message"]
    not_image = tmp_path / "notes.png"
    not_image.write_text("not a picture", encoding="utf-8")
    assert "the image cannot be used" in workbench.on_inputs(scene, str(not_image), None, None)[1]["message"]
    out = workbench.on_inputs(scene, str(image), None, "maskrcnn:/no/such/weights.pth")[1]
    assert out["message"] == "maskrcnn weights file not found: /no/such/weights.pth"
    good = tmp_path / "two.json"
    good.write_text(json.dumps([[0, 0, 100, 100], [100, 100, 200, 200]]), encoding="utf-8")
    new, out = workbench.on_inputs(scene, str(image), str(good), None)
    assert len(new.proposals) == 2 and new.result is None and "2 proposals from two.json" in out["message"]


class BrokenScorer:
    def score(self, image, proposals, texts):
        raise RuntimeError("CUDA out of memory\n  (a long story)")


def test_a_failure_inside_the_model_is_one_line_and_the_page_stays_usable(workbench):
    broken = Workbench(Locator(BrokenScorer()))
    scene, _ = broken.initial({})
    scene, out = broken.on_locate(scene, EXPRESSION)
    assert out["message"] == "The model failed: RuntimeError: CUDA out of memory (a long story)"
    assert scene.result is None
    scene, out = workbench.on_locate(scene, EXPRESSION)      # the same scene, a working model
    assert scene.result.index == LEFT


def test_vocabulary_lists_relations_superlatives_ordinals_and_plugins():
    @REGISTRY.relation("touching_xyz", words=["touching xyz"])
    def touching(a, b):
        return 0.0

    text = vocabulary()
    assert "`left_of`: left" in text and "`leftmost`" in text
    assert "`touching_xyz`: touching xyz" in text
    assert "second" in text and "last" in text


def test_a_gallery_card_opens_its_record_in_the_workbench(workbench, tmp_path):
    scene, _ = located(workbench)
    gallery = Gallery(tmp_path / "gallery", run_options=["--model", "synthetic", "--trace", "x.html"])
    gold = list(scene.proposals[RIGHT].box)
    gallery.add_failure("superlative", scene.result, scene.image, EXPRESSION, gold_box=gold)
    page = gallery.write().read_text(encoding="utf-8")
    url = html.unescape(page.split('class="app-link" href="')[1].split('"')[0])
    assert url == app_url((tmp_path / "gallery" / "0000-superlative.png").resolve(),
                          (tmp_path / "gallery" / "0000-superlative.proposals.json").resolve(), EXPRESSION, gold)
    assert "<code>reclip app --model synthetic</code>" in page
    opened, out = workbench.initial(dict(parse_qsl(urlsplit(url).query)))
    assert opened.expression == EXPRESSION and out["expression"] == EXPRESSION
    assert opened.gold == RIGHT and opened.result.index == LEFT
    assert f"Wrong: the answer is #{LEFT}; the gold object is #{RIGHT}" in out["diagnosis"]


def test_a_url_naming_a_missing_image_says_so(workbench, tmp_path):
    scene, out = workbench.initial({"image": str(tmp_path / "gone.png"), "expression": "x"})
    assert "cannot open" in out["message"] and "gone.png" in out["message"]
    assert len(scene.proposals) == 8                          # the demo scene instead


def test_gradio_is_imported_only_inside_functions_of_the_page_module():
    """reclip works without the ``app`` extra: Gradio (and the module building the page) is
    imported only when ``reclip app`` runs, never at a module's import."""
    root = Path(reclip.__file__).parent
    found = {}
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_functions = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)}
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name.split(".")[0] == "gradio" or name == "reclip.app.ui":
                    found[(path.relative_to(root).as_posix(), name)] = id(node) in in_functions
    assert found == {("app/ui.py", "gradio"): True, ("cli/workbench.py", "reclip.app.ui"): True}


def test_a_workbench_that_names_its_folders_opens_no_file_outside_them(workbench, tmp_path):
    """A page served to the network would read whatever file its link names: with ``files`` set,
    a link opens only files inside those folders (symlinks resolved; a source spec is refused)."""
    served, private = tmp_path / "served", tmp_path / "private"
    served.mkdir(), private.mkdir()
    scene, _ = located(workbench)
    for folder in (served, private):
        scene.image.save(folder / "scene.png")
    (served / "leak.png").symlink_to(private / "scene.png")
    guarded = Workbench(workbench.locator, files=[served])
    opened, out = guarded.initial({"image": str(served / "scene.png"), "expression": EXPRESSION})
    assert opened.image_path == str(served / "scene.png") and not out.get("message")
    for image, proposals in [(private / "scene.png", None), (served / "leak.png", None),
                             (served / "scene.png", "sam:" + str(private / "weights.pt"))]:
        params = {"image": str(image), "expression": EXPRESSION, **({"proposals": proposals} if proposals else {})}
        opened, out = guarded.initial(params)
        assert "in the folders this workbench serves files from" in out["message"], params
        assert opened.image_path.endswith("assets/demo/scene.png")          # the demo scene instead
    # a typed source naming a file outside, and a cases file outside, are refused the same way
    opened, _ = guarded.initial({"image": str(served / "scene.png"), "expression": EXPRESSION})
    same, out = guarded.on_inputs(opened, str(served / "scene.png"), None, "sam:" + str(private / "sam.pt"))
    assert same is opened and f"{private / 'sam.pt'}: not in the folders" in out["message"]
    opened.gold = 0
    _, out = guarded.on_save(opened, opened.program, str(private / "cases.jsonl"))
    assert f"{private / 'cases.jsonl'}: not in the folders" in out["message"]
    assert not (private / "cases.jsonl").exists()
    _, out = guarded.on_save(opened, opened.program, str(served / "cases.jsonl"))
    assert out["message"].startswith("Saved the case") and (served / "cases.jsonl").is_file()


def test_save_case_appends_only_to_a_new_file_or_a_cases_file(workbench, tmp_path):
    scene, _ = located(workbench)
    scene.gold = 0
    tool = tmp_path / "tool.py"
    tool.write_text("print('hi')\n")
    _, out = workbench.on_save(scene, scene.program, str(tool))
    assert f"{tool} exists and is not a cases file" in out["message"]
    assert tool.read_text() == "print('hi')\n"
    cases = tmp_path / "mine.jsonl"
    for _ in range(2):
        _, out = workbench.on_save(scene, scene.program, str(cases))
        assert out["message"].startswith("Saved the case")
    assert len(cases.read_text().splitlines()) == 2
