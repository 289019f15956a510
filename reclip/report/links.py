"""Links from reports into the workbench (``reclip app``): its default address, and the query
parameters that open a record there (the gallery writes them, the app reads them)."""

from __future__ import annotations

import os
from typing import Mapping, Sequence
from urllib.parse import urlencode

APP_HOST = "127.0.0.1"
APP_PORT = 7860
# query parameter -> what it holds
QUERY = {"image": "image file path", "proposals": "proposals file path (or a source spec)",
         "expression": "the referring expression", "gold": "gold box x0,y0,x1,y1"}


def app_url(image: str | os.PathLike, proposals: str | os.PathLike, expression: str,
            gold_box: Sequence[float] | None = None, base: str | None = None) -> str:
    """The workbench URL that opens this image, proposals, expression and gold box."""
    params = {"image": str(image), "proposals": str(proposals), "expression": expression}
    if gold_box is not None:
        params["gold"] = ",".join(f"{float(v):g}" for v in gold_box)
    return f"{base or f'http://{APP_HOST}:{APP_PORT}/'}?{urlencode(params)}"


def parse_gold(text: str) -> list[float] | None:
    """The ``gold`` parameter's box; None when it is not 4 numbers."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        return None
    return values if len(values) == 4 else None


def query_params(params: Mapping[str, str]) -> dict[str, str]:
    """The workbench's own parameters out of a request's query string."""
    return {k: str(params[k]) for k in QUERY if params.get(k)}
