"""The workbench in a real browser: headless Chromium (found as the trace page's browser test
finds it) driving the Gradio page served offline; every request must stay on the local server."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

from conftest import EXPRESSION, LEFT, RIGHT
from grammar import parse_program
from reclip.app import Workbench
from reclip.cli.main import main
from reclip.report.browser import CHROMIUM_ARGS, find_chromium

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium installed (apt-get install chromium, or set RECLIP_CHROMIUM=/path/to/chromium)")
WAIT_MS = 20_000
LOOPBACK = ("127.0.0.1", "::1", "localhost")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(locator, tmp_path, monkeypatch):
    """The app on a free local port; the server itself must not connect anywhere else either
    (no analytics, no version check)."""
    pytest.importorskip("gradio", reason="gradio (the 'app' extra) is not installed")
    from reclip.app.ui import serve

    elsewhere: list = []
    connect = socket.socket.connect

    def local_only(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in LOOPBACK:
            elsewhere.append(address)
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    workbench = Workbench(locator, cases=tmp_path / "cases.jsonl")
    server = serve(workbench, "127.0.0.1", free_port())
    yield workbench, server.url
    server.close()
    assert elsewhere == [], f"the server connected outside this machine: {elsewhere}"


@pytest.fixture
def browser_page(served):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    _, url = served
    local = urlsplit(url).netloc
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        outside: list[str] = []

        def only_local(route):   # anything not from the local server is recorded and refused
            target = route.request.url
            if urlsplit(target).netloc == local or target.startswith(("data:", "blob:", "about:")):
                route.continue_()
            else:
                outside.append(target)
                route.abort()

        context.route("**/*", only_local)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(url)
        yield page, sync_api.expect
        assert outside == [], f"the page asked for something outside {local}: {outside}"
        assert page.errors == []
        browser.close()


def set_program(page, text: str) -> None:
    """Replace the code box's text (inserted, not typed: the editor would close brackets)."""
    page.locator("#program .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(text)


def click_proposal(page, scene, index: int) -> None:
    """Click the centre of proposal ``index`` on the page's picture, whatever its shown size."""
    img = page.locator("#picture img")
    page.wait_for_function("() => document.querySelector('#picture img')?.complete")
    scale = img.bounding_box()["width"] / scene.image.width   # the picture shows the whole image
    x0, y0, x1, y1 = scene.proposals[index].box
    img.click(position={"x": scale * (x0 + x1) / 2, "y": scale * (y0 + y1) / 2})


def test_the_workbench_loop_in_a_browser(browser_page, served, capsys, tmp_path):
    page, expect = browser_page
    workbench, _ = served
    expect(page.locator("#answer")).to_contain_text("8 proposals", timeout=WAIT_MS)

    # an expression: its program in the Program box, its answer shown
    page.get_by_label("Expression").fill(EXPRESSION)
    page.get_by_role("button", name="Locate").click()
    expect(page.locator("#answer")).to_contain_text(f"Answer: #{LEFT}", timeout=WAIT_MS)
    program = page.locator("#program .cm-content").inner_text()
    assert parse_program(program) == workbench.locator.compile(EXPRESSION)
    assert "superlative(leftmost, " in program

    # the program tree: choosing the superlative shows its matrix, as the trace page does
    trace = page.frame_locator("#trace-frame")
    trace.locator('.tree-node[data-kind="superlative"]').click()
    expect(trace.locator("table.matrix").first).to_be_visible()
    expect(trace.locator("#tint-label")).to_contain_text("superlative(leftmost")

    # an edit: rightmost picks the other red triangle, and no image is encoded again
    set_program(page, program.replace("(leftmost", "(rightmost"))
    page.get_by_role("button", name="Run program").click()
    expect(page.locator("#answer")).to_contain_text(f"Answer: #{RIGHT}", timeout=WAIT_MS)
    expect(page.locator("#answer")).to_contain_text("Encoded for this run: 0 images, 0 texts")

    # a gold: click the leftmost red triangle; the diagnosis says where it was lost
    scene = workbench.demo()
    click_proposal(page, scene, LEFT)
    expect(page.locator("#diagnosis")).to_contain_text(
        f"Wrong: the answer is #{RIGHT}; the gold object is #{LEFT}", timeout=WAIT_MS)
    expect(page.locator("#diagnosis")).to_contain_text("superlative(rightmost")

    # a syntax error: line, column and caret under the code box; the answer stays
    set_program(page, 'superlative(rightmost find("red triangle"))')   # a missing comma
    page.get_by_role("button", name="Run program").click()
    error = page.locator("#program-error pre")
    expect(error).to_contain_text("line 1, column 23", timeout=WAIT_MS)
    assert error.inner_text().splitlines()[-1].strip() == "^"
    expect(page.locator("#answer")).to_contain_text(f"Answer: #{RIGHT}")

    # the fix kept as a case: back to leftmost, run, save; reclip check replays it
    set_program(page, program)
    page.get_by_role("button", name="Run program").click()
    expect(page.locator("#answer")).to_contain_text(f"Answer: #{LEFT}", timeout=WAIT_MS)
    expect(page.locator("#program-error")).not_to_contain_text("column")
    page.get_by_role("button", name="Save case").click()
    expect(page.locator("#message")).to_contain_text("Saved the case", timeout=WAIT_MS)
    cases = workbench.cases
    assert main(["check", str(cases), "--method", "crop,blur"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f'case 1 "{EXPRESSION}": ok')
    case = json.loads(cases.read_text(encoding="utf-8"))
    cases.write_text(json.dumps({**case, "program": case["program"].replace("(leftmost", "(rightmost")}) + "\n",
                     encoding="utf-8")
    assert main(["check", str(cases), "--method", "crop,blur"]) == 1
    assert "REGRESSION" in capsys.readouterr().out

    # other proposals: a file uploaded for the image shown; a source whose weights are missing
    boxes = tmp_path / "boxes.json"
    boxes.write_text(json.dumps([[10, 10, 100, 100], [120, 20, 200, 200], [20, 120, 90, 200]]), encoding="utf-8")
    page.get_by_text("Image and proposals").click()
    page.locator("#proposals-file input[type=file]").set_input_files(str(boxes))
    expect(page.locator("#message")).to_contain_text("3 proposals from boxes.json", timeout=WAIT_MS)
    expect(page.locator("#answer")).to_contain_text("Type an expression and press Locate")
    source = page.locator("#proposal-source input")
    source.fill("maskrcnn:/no/such/weights.pth")
    source.press("Enter")
    page.get_by_role("button", name="Use this source").click()
    expect(page.locator("#message")).to_have_text("maskrcnn weights file not found: /no/such/weights.pth",
                                                  timeout=WAIT_MS)
