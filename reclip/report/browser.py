"""Headless Chromium for pictures of reclip's pages (``docs/make_*_png.py``) and the browser
tests: the system's Chromium, launched by path (Playwright's own browser downloads are never
used), with its background traffic (updates, sync, QUIC) switched off."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Callable

from PIL import Image

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHROMIUM_VARIABLE = "RECLIP_CHROMIUM"


def find_chromium() -> str | None:
    """``$RECLIP_CHROMIUM``, /usr/bin/chromium or a chromium on the PATH; None when there is none."""
    for candidate in (os.environ.get(CHROMIUM_VARIABLE), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def shrink_png(path: str | os.PathLike) -> None:
    """Rewrite a screenshot with a 256-colour palette: small enough for a README."""
    Image.open(path).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def screenshot(url: str, out: str | os.PathLike, chromium: str, *, width: int, max_height: int,
               act: Callable[[Any], None] = lambda page: None, viewport_height: int = 900) -> None:
    """A PNG of the page at ``url`` after ``act(page)`` (clicks, waits), at most ``max_height``
    pixels tall, shrunk for a README (``shrink_png``). Needs Playwright for Python."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": viewport_height})
        page.goto(url)
        act(page)
        height = min(max_height, page.evaluate("document.body.scrollHeight"))
        page.screenshot(path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
        browser.close()
    shrink_png(out)
