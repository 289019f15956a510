"""The offline demo: ``reclip demo [--out DIR]`` (what ``make demo`` runs).

Locates a few expressions on the bundled synthetic scene (``reclip/assets/demo/``)
with the bundled model (``reclip/assets/synthetic.pt``), prints each expression, its
program and the chosen box, and writes one PNG per expression with the proposals
numbered and the answer drawn. Nothing is downloaded.

The bundled scene is scene ``DEMO_SCENE`` of ``reclip synth --seed DEMO_SEED``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Sequence

from PIL import Image

from interpreter import Proposal
from primitives import ReclipError
from reclip.files import load_image, make_folder, read_json
from reclip.locator import Locator
from reclip.proposals.io import read_proposals
from reclip.report.draw import draw_result
from reclip.scoring import DEFAULT_METHODS

DEMO_ASSETS = Path(__file__).resolve().parent.parent / "assets" / "demo"
DEFAULT_OUT = Path("out") / "demo"
DEMO_SEED, DEMO_SCENE = 2026, 1


def demo_scene(assets: Path = DEMO_ASSETS) -> tuple[Image.Image, list[Proposal], list[dict[str, Any]]]:
    """The bundled image, its proposals (box, mask, label) and expressions."""
    try:
        image = load_image(assets / "scene.png")
        proposals = read_proposals(assets / "proposals.json", image_size=image.size)
        expressions = read_json(assets / "expressions.json", "demo expressions")
    except (ReclipError, OSError) as exc:
        raise ReclipError(f"the bundled demo scene in {assets} is missing or broken: {exc}") from None
    return image, proposals, expressions


def draw(image: Image.Image, proposals: Sequence[Proposal], chosen: int, path: Path) -> None:
    """Proposals numbered, the answer highlighted; a small scene is drawn at twice its
    size so the numbers stay readable."""
    boxes = [p.box for p in proposals]
    if max(image.size) < 400:
        image = image.resize((image.width * 2, image.height * 2), Image.Resampling.NEAREST)
        boxes = [[2 * v for v in box] for box in boxes]
    draw_result(image, boxes, chosen=chosen, path=path)


def run_demo(out: str | os.PathLike = DEFAULT_OUT, model: str = "synthetic",
             assets: Path = DEMO_ASSETS, print_fn=print) -> int:
    """Locate the bundled expressions; returns how many picked the gold object."""
    t0 = time.time()
    image, proposals, expressions = demo_scene(assets)
    locator = Locator.from_pretrained(model, methods=DEFAULT_METHODS)
    out = make_folder(out, "the demo output folder")
    right = 0
    print_fn(f"scene {assets / 'scene.png'}: {len(proposals)} proposals; model {model!r}\n")
    for k, item in enumerate(expressions, 1):
        res = locator.locate(image, item["expression"], proposals)
        png = out / f"demo-{k}.png"
        draw(image, proposals, res.index, png)
        gold = item.get("gold")
        mark = "" if gold is None else ("  (correct)" if res.index == gold else f"  (wrong: gold is #{gold})")
        right += int(res.index == gold)
        box = ", ".join(f"{v:g}" for v in res.box)
        print_fn(f"{k}. {item['expression']!r}  [{item.get('kind', '?')}]")
        print_fn(f"   program: {res.program}")
        print_fn(f"   chosen:  #{res.index} box [{box}] p={res.probability:.2f}{mark}")
        print_fn(f"   drawing: {png}\n")
    print_fn(f"{right}/{len(expressions)} correct in {time.time() - t0:.1f} s; "
             f"PNGs in {out}/ (proposals numbered, the answer in orange)")
    return right
