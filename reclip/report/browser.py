"""Headless Chromium for pictures of reclip's pages (``docs/make_*_png.py``) and the browser
tests: the system's Chromium, launched by path (Playwright's own browser downloads are never
used), with its background traffic (updates, sync, QUIC) switched off."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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
