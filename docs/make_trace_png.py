"""Regenerate docs/trace.png: a failure's trace page, as headless Chromium shows it.

    python docs/make_trace_png.py                      # the shipped synthetic CLIP
    python docs/make_trace_png.py --model /path/ckpt.pt --scenes 60 --seed 3

Generates synthetic scenes, evaluates them with a failure gallery, picks the first
failure whose diagnosis blames a relation (else any failure), selects that node and
takes a screenshot. Needs Chromium (/usr/bin/chromium) and Playwright for Python.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from reclip.report.browser import find_chromium, screenshot
from reclip.synthetic.dataset import write_dataset
from reclip.synthetic.evaluate import evaluate_synthetic


def pick_failure(gallery: Path) -> tuple[Path, str | None]:
    """A trace page from the gallery, and the step to select (the node that lost the gold)."""
    pages = sorted(gallery.glob("0*.html"))
    if not pages:
        raise SystemExit(f"no failures in {gallery}: nothing to show")
    for page in pages:
        text = page.read_text(encoding="utf-8")
        m = re.search(r'class="tree-node kind-relate[^"]*lost-gold" data-step="(\d+)"', text)
        if m:
            return page, m.group(1)
    return pages[0], None


def screenshot_trace(page_path: Path, step: str | None, out: Path, chromium: str, width: int = 1200) -> None:
    def select_node(page) -> None:
        if step is not None:
            page.click(f'.tree-node[data-step="{step}"]')
        page.wait_for_timeout(300)

    screenshot(page_path.as_uri(), out, chromium, width=width, max_height=1100, act=select_node)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="synthetic")
    ap.add_argument("--scenes", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--chromium", default=find_chromium() or "/usr/bin/chromium")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "trace.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = write_dataset(Path(tmp) / "data", args.scenes, args.seed, progress=False).parent
        evaluate_synthetic(data, model=args.model, out=None, gallery=Path(tmp) / "gallery", progress=False)
        page, step = pick_failure(Path(tmp) / "gallery")
        print(f"screenshot of {page.name}" + (f", step {step} selected" if step else ""))
        screenshot_trace(page, step, args.out, args.chromium)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
