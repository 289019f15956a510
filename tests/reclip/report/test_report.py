"""The HTML trace, the failure gallery and the PNG drawing (no browser: see test_browser.py)."""

from __future__ import annotations

import base64
import io
import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from reclip import Locator, Proposal, ReclipError
from reclip.report.draw import ANSWER_COLOUR, GOLD_COLOUR, draw_result
from reclip.report import Gallery, diagnose, trace_html, write_trace_html
from report_scene import EXPRESSION, GOLD, PROGRAM, SCENE, LabelScorer, make_scene, run_scene


class _Collect(HTMLParser):
    """Tags with their attributes, and every URL-ish attribute value."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def with_class(self, cls: str) -> list[dict]:
        return [a for _, a in self.tags if cls in (a.get("class") or "").split()]


def parse(page: str) -> _Collect:
    p = _Collect()
    p.feed(page)
    return p


def test_trace_page_shows_every_proposal_node_and_the_diagnosis(tmp_path):
    img, result = run_scene()
    assert result.index == 0
    path = write_trace_html(result, img, tmp_path / "t.html", expression=EXPRESSION, gold_box=GOLD)
    page = path.read_text(encoding="utf-8")
    doc = parse(page)
    boxes = doc.with_class("proposal-box")
    assert sorted(int(b["data-index"]) for b in boxes) == list(range(5))
    nodes = doc.with_class("tree-node")
    assert sorted(int(n["data-step"]) for n in nodes) == list(range(len(result.trace)))
    assert len(doc.with_class("node-detail")) == len(result.trace)
    # the relation node is named as the one that lost the gold cup (#2)
    lost = doc.with_class("lost-gold")
    assert [n["data-step"] for n in lost] == ["3"]
    assert "relate(left_of) removed the right answer (step 3)" in page
    assert 'class="verdict wrong"' in page
    assert 'id="gold-box"' in page
    # one heatmap, for the relate node, with 5x5 cells
    assert page.count('<table class="matrix"') == 1
    matrix = page[page.index('<table class="matrix"'):]
    matrix = matrix[:matrix.index("</table>")]
    assert matrix.count("<td") == 25
    # the embedded data agrees with the trace
    data = json.loads(re.search(r'<script type="application/json" id="trace-data">(.*?)</script>',
                                page, re.S).group(1))
    assert data["answer"] == 0 and data["gold"] == 2
    assert np.allclose(data["steps"][3]["distribution"], result.trace.steps[3].distribution, atol=1e-6)


def test_trace_page_is_self_contained(tmp_path):
    img, result = run_scene()
    page = trace_html(result, img, expression=EXPRESSION)
    assert not re.search(r"(src|href)=\"(?!data:|#|\d)", page), "a non-inline src/href"
    assert "http://" not in page and "https://" not in page
    uri = re.search(r'<image href="data:image/png;base64,([^"]+)"', page).group(1)
    embedded = Image.open(io.BytesIO(base64.b64decode(uri)))
    assert embedded.size == img.size
    assert np.array_equal(np.asarray(embedded.convert("RGB")), np.asarray(img))


def test_trace_escapes_text_from_users(tmp_path):
    img, proposals = make_scene()
    nasty = '</script><b onclick="x">"cup"</b>'
    result = Locator(LabelScorer()).run(f'find({json.dumps(nasty)})', img, proposals)
    page = trace_html(result, img, expression=nasty)
    assert page.count("</script>") == 2   # the JSON script and the JS, nothing more
    data = re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)
    assert json.loads(data.group(1))["steps"][0]["label"] == f"find({json.dumps(nasty)})"
    outside = page.replace(data.group(0), "")
    assert "<b onclick" not in outside and "&lt;b onclick=&quot;x&quot;&gt;" in outside


def test_fallback_is_highlighted():
    # with sharp finds, the green plate (#3) is not left of the yellow plate (#4):
    # every entry is zero and the relation passes its input through
    img, result = run_scene('relate(find("green plate"), left_of, find("yellow plate"))', scale=1000)
    assert result.trace.fallbacks
    page = trace_html(result, img)
    doc = parse(page)
    flagged = [int(n["data-step"]) for n in doc.with_class("has-fallback")]
    assert flagged == [s.step for s in result.trace.fallbacks]
    assert "fallback-chip" in page and "Fallback: no proposal satisfies it" in page


def test_diagnosis_when_correct_and_when_no_proposal_matches_gold():
    img, result = run_scene()
    ok = diagnose(result, SCENE[0][0])
    assert ok.correct and ok.gold_index == 0 and ok.lost_at is None
    missed = diagnose(result, [0, 0, 20, 20])
    assert missed.correct is False and missed.gold_index is None
    assert "proposals missed the object" in missed.sentences[0]
    assert diagnose(result, None).sentences == []


class TableScorer:
    """Logits looked up by find text."""

    def __init__(self, table: dict[str, list[float]]):
        self.table = table

    def score(self, image, proposals, texts):
        return np.array([self.table[str(t)] for t in texts], dtype=float)


def run_table(program: str, table: dict[str, list[float]]):
    img, proposals = make_scene()
    return Locator(TableScorer(table)).run(program, img, proposals)


def test_diagnosis_names_the_whole_expression_find_when_it_outvotes_the_structure():
    # the relation picks the gold cup #2; the whole-expression find prefers #1
    result = run_table('and(find("whole"), relate(find("cup"), right_of, find("thing")))',
                       {"whole": [0, 5, 0, 0, 0], "cup": [-9, 2, 2, -9, -9], "thing": [0, 0, 0, 0, 0]})
    diag = diagnose(result, SCENE[2][0])
    assert result.index == 1 and diag.lost_at == len(result.trace) - 1
    assert diag.headline.startswith('The gold was lost at and (step 4): find("whole") gave it only p 0.007')
    assert "delete it from the program" in diag.headline


def test_diagnosis_when_a_find_never_saw_the_gold_or_preferred_another():
    blind = diagnose(run_table('superlative(rightmost, find("cup"))', {"cup": [3, 3, -3, -9, -9]}), SCENE[2][0])
    assert blind.lost_at is None
    assert blind.headline == ('find("cup") did not count the gold #2 as a candidate (p under 10% of the top), '
                              "so no relation could choose it.")
    misled = diagnose(run_table('and(find("cup"), find("mug"))',
                                {"cup": [1, 0, 0.5, 0, 0], "mug": [1, 0, 0.5, 0, 0]}), SCENE[2][0])
    assert misled.headline.startswith('find("mug") preferred #0 (p 0.')
    assert misled.sentences[-1].startswith("No relation removed the gold")
    bare = diagnose(run_table('find("cup")', {"cup": [1, 0, 0.5, 0, 0]}), SCENE[2][0])
    assert bare.headline.startswith("The program is a single find")


def test_diagnosis_of_an_ordinal_lists_what_it_counted():
    # "the second red cup": the program forgot "red"; find("cup") counts all three cups,
    # so the ordinal picks the blue cup #1 and drops the gold #2
    result = run_table('ordinal(2, leftmost, find("cup"))', {"cup": [3, 3, 3, -9, -9]})
    diag = diagnose(result, SCENE[2][0])
    assert result.index == 1 and diag.lost_at == 1
    assert diag.headline.startswith("ordinal(2, leftmost) removed the right answer (step 1)")
    assert diag.headline.endswith("It ordered what its input counted as candidates: #0, #1, #2 "
                                  "(p at least 50% of the top).")


def test_large_images_are_downscaled_but_keep_box_coordinates():
    img, proposals = make_scene()
    big = img.resize((3200, 2133))
    scaled = [Proposal([v * 3200 / 480 for v in p.box], label=p.label) for p in proposals]
    result = Locator(LabelScorer()).run(PROGRAM, big, scaled)
    page = trace_html(result, big)
    assert 'viewBox="0 0 3200 2133"' in page
    uri = re.search(r'href="data:image/png;base64,([^"]+)"', page).group(1)
    assert max(Image.open(io.BytesIO(base64.b64decode(uri))).size) == 1600


def test_unwritable_trace_path_is_a_clear_error(tmp_path):
    img, result = run_scene()
    with pytest.raises(ReclipError, match="cannot write .*no_such_dir"):
        write_trace_html(result, img, tmp_path / "no_such_dir" / "t.html")


def test_gallery_groups_failures_by_kind_and_links_their_traces(tmp_path):
    img, result = run_scene()
    _, other = run_scene('superlative(leftmost, relate(find("cup"), right_of, find("yellow plate")))')
    gallery = Gallery(tmp_path / "gallery")
    gallery.add_failure("relation", result, img, EXPRESSION, gold_box=GOLD)
    gallery.add_failure("superlative", other, img, "the leftmost cup right of the yellow plate",
                        gold_box=SCENE[0][0])
    gallery.add_failure("relation", result, img, EXPRESSION + " again", gold_box=GOLD)
    index = gallery.write(totals={"relation": 10, "superlative": 5})
    page = index.read_text(encoding="utf-8")
    doc = parse(page)
    groups = [a["data-kind"] for a in doc.with_class("kind-group")]
    assert groups == ["relation", "superlative"]          # most failures first
    links = [a["href"] for a in doc.with_class("failure")]
    assert len(links) == 3
    for link in links:
        assert (tmp_path / "gallery" / link).is_file()
        assert (tmp_path / "gallery" / link.replace(".html", ".jpg")).is_file()
    assert "relate(left_of) removed the right answer" in page
    assert "<b>2</b> of 10" in page


def test_empty_gallery_says_so(tmp_path):
    page = Gallery(tmp_path).write(totals={"relation": 7, "ordinal": 3}).read_text(encoding="utf-8")
    assert "No failures: the full system answered every one of the 10 expressions evaluated right." in page
    assert "by expression kind" not in page and "0 failures" not in page


def test_draw_marks_answer_and_gold(tmp_path):
    img, proposals = make_scene()
    out = draw_result(img, proposals, chosen=0, gold_box=GOLD, path=tmp_path / "d.png")
    assert out.size == img.size and (tmp_path / "d.png").is_file()
    px = np.asarray(out)
    x0, y0, x1, y1 = SCENE[0][0]
    # the answer's right edge is orange; the gold box's top edge has green dashes
    assert tuple(px[(y0 + y1) // 2, x1]) == ANSWER_COLOUR
    top = px[GOLD[1], GOLD[0] + 10:GOLD[2] - 10]
    assert any(tuple(p) == GOLD_COLOUR for p in top)
    assert np.array_equal(np.asarray(img), np.asarray(make_scene()[0]))  # input untouched
    with pytest.raises(ReclipError, match="out of range"):
        draw_result(img, proposals, chosen=9)
