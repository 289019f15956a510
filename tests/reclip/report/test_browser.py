"""The trace page in a real browser: headless Chromium driven by Playwright.

Skipped (with the reason) only where no Chromium is installed; `make test` installs
Debian's chromium package where it can. Playwright's own browser downloads are never
used: the system Chromium is launched by path.
"""

from __future__ import annotations

import pytest

from reclip.report import Gallery, write_trace_html
from reclip.report.browser import CHROMIUM_ARGS, find_chromium
from report_scene import EXPRESSION, GOLD, SCENE, run_scene


CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium, or set RECLIP_CHROMIUM=/path/to/chromium)")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page that records console messages, page errors and any network request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.problems = []
    pg.requests = []
    pg.on("console", lambda m: pg.problems.append(f"console {m.type}: {m.text}")
          if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.problems.append(f"page error: {e}"))
    pg.on("request", lambda r: pg.requests.append(r.url))
    yield pg
    context.close()


def _opacity_by_index(pg) -> dict[int, float]:
    pairs = pg.eval_on_selector_all(
        ".proposal-box", "els => els.map(e => [Number(e.dataset.index), parseFloat(e.style.fillOpacity)])")
    return {i: v for i, v in pairs}


def test_trace_page_boxes_tree_and_tinting(page, tmp_path):
    img, result = run_scene()
    path = write_trace_html(result, img, tmp_path / "trace.html", expression=EXPRESSION, gold_box=GOLD)
    page.goto(path.as_uri())

    boxes = page.locator(".proposal-box")
    assert boxes.count() == len(SCENE)
    assert sorted(int(boxes.nth(i).get_attribute("data-index")) for i in range(len(SCENE))) == list(range(len(SCENE)))
    for i in range(len(SCENE)):
        assert page.locator(f'.proposal-box[data-index="{i}"]').is_visible()
    nodes = page.locator(".tree-node")
    assert nodes.count() == len(result.program.nodes()) == len(result.trace)

    # the root is selected at load: the answer (#0) is the most tinted box
    root = len(result.trace) - 1
    assert page.locator(f'.tree-node[data-step="{root}"]').get_attribute("aria-pressed") == "true"
    at_root = _opacity_by_index(page)
    assert max(at_root, key=at_root.get) == result.index
    plate_pixels_before = page.locator('.proposal-box[data-index="3"]').screenshot()
    assert page.locator(f'.node-detail[data-step="{root}"]').is_visible()

    # click find("plate"): the plates take the tint, the cups lose it
    plate_step = next(s.step for s in result.trace.steps if s.label == 'find("plate")')
    page.click(f'.tree-node[data-step="{plate_step}"]')
    at_plate = _opacity_by_index(page)
    assert at_plate != at_root
    assert at_plate[3] > at_root[3] and at_plate[0] < at_root[0]
    assert max(at_plate, key=at_plate.get) in (3, 4)
    page.wait_for_timeout(400)   # let the fill transition finish, then look at the pixels
    assert page.locator('.proposal-box[data-index="3"]').screenshot() != plate_pixels_before
    assert page.locator(f'.node-detail[data-step="{plate_step}"]').is_visible()
    assert not page.locator(f'.node-detail[data-step="{root}"]').is_visible()
    assert page.locator("#tint-label").inner_text() == 'find("plate")'

    # the relation's heatmap shows when its node is selected; the lost gold is flagged there
    relate_step = next(s.step for s in result.trace.steps if s.kind == "relate")
    page.click(f'.tree-node[data-step="{relate_step}"]')
    assert page.locator(f'table.matrix[data-step="{relate_step}"]').is_visible()
    assert "lost the gold" in page.locator(f'.tree-node[data-step="{relate_step}"]').inner_text()
    assert page.locator("#gold-box").is_visible()

    # keyboard: arrow down moves to the next node in the tree
    page.keyboard.press("ArrowUp")
    assert page.locator(".tree-node.selected").count() == 1

    assert page.problems == []
    assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests


def test_gallery_links_open_their_traces(page, tmp_path):
    img, result = run_scene()
    gallery = Gallery(tmp_path / "gallery")
    gallery.add_failure("relation", result, img, EXPRESSION, gold_box=GOLD)
    page.goto(gallery.write().as_uri())
    assert page.locator(".kind-group").count() == 1
    page.click("a.failure")
    page.wait_for_selector(".tree-node")
    assert page.locator(".proposal-box").count() == len(SCENE)
    assert page.problems == []
