"""Regenerate docs/app.png: the workbench (``reclip app``) as headless Chromium shows it.

    python docs/make_app_png.py                  # the shipped synthetic CLIP, the demo scene

Starts the workbench on a free local port, opens the demo scene through the query parameters a
gallery card links with (image, proposals, expression, gold box), selects the superlative in
the program tree and takes a screenshot. Needs Chromium (/usr/bin/chromium), Playwright for
Python and Gradio (the ``app`` extra).
"""

from __future__ import annotations

import argparse
import socket
from pathlib import Path

from reclip.app import Workbench
from reclip.app.ui import serve
from reclip.app.workbench import DEMO_PROPOSALS
from reclip.locator import Locator
from reclip.report.browser import find_chromium, screenshot
from reclip.report.links import app_url
from reclip.synthetic.demo import DEMO_ASSETS, demo_scene

EXPRESSION = "the rightmost red triangle"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def screenshot_app(url: str, out: Path, chromium: str, width: int = 1280) -> None:
    def select_superlative(page) -> None:
        page.wait_for_selector("#trace-frame", timeout=60_000)
        page.frame_locator("#trace-frame").locator('.tree-node[data-kind="superlative"]').click()
        page.wait_for_timeout(500)

    screenshot(url, out, chromium, width=width, max_height=1500, act=select_superlative, viewport_height=1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="synthetic")
    ap.add_argument("--chromium", default=find_chromium() or "/usr/bin/chromium")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "app.png")
    args = ap.parse_args()
    _, proposals, _ = demo_scene()
    gold = proposals[7].box     # the other red triangle: the page shows where it was lost
    server = serve(Workbench(Locator.from_pretrained(args.model)), port=free_port())
    try:
        url = app_url(DEMO_ASSETS / "scene.png", DEMO_PROPOSALS, EXPRESSION, gold, base=server.url)
        print(f"screenshot of {url}")
        screenshot_app(url, args.out, args.chromium)
    finally:
        server.close()
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
