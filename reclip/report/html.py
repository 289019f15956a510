"""HTML helpers shared by the trace page and the gallery; the CSS and JS live in ``assets/``."""

from __future__ import annotations

import base64
import html
import io
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

PAGE_ASSETS = Path(__file__).resolve().parent / "assets"
# The embedded raster's longest side: larger photos are downscaled (boxes keep
# original pixel coordinates through the SVG viewBox).
EMBED_MAX_SIDE = 1600


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    """The text of ``reclip/report/assets/NAME`` (package data)."""
    return (PAGE_ASSETS / name).read_text(encoding="utf-8")


def escape(text: Any) -> str:
    return html.escape(str(text), quote=True)


def num(v: float) -> str:
    return f"{float(v):.1f}".rstrip("0").rstrip(".")


def json_for_script(data: Any) -> str:
    # "</" would end the script element early; "<!--" would open an HTML comment.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def png_data_uri(img: Image.Image) -> str:
    if max(img.size) > EMBED_MAX_SIDE:
        img = img.copy()
        img.thumbnail((EMBED_MAX_SIDE, EMBED_MAX_SIDE))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")




def page(title: str, body: str) -> str:
    """A whole HTML document with the shared stylesheet inline."""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>\n{asset('trace.css')}</style></head>\n"
            f"<body>\n{body}\n</body></html>\n")
