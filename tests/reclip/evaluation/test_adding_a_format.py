"""README's "Adding a dataset format" block, run as written: registering the format is the whole
act — `reclip eval` gets its subcommand from the entry, and the one loop scores it."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

from PIL import Image, ImageDraw

from reclip.cli.main import main
from cli_capture import capture

ROOT = Path(__file__).resolve().parents[3]


def readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Adding a dataset format"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_cli(*argv: str) -> tuple[int, str, str]:
    return capture(argv)


def test_the_readme_format_gets_a_subcommand_and_is_evaluated(tmp_path):
    exec(compile(readme_block(), "README.md", "exec"), {})     # registers "lines"
    images = tmp_path / "images"
    images.mkdir()
    image = Image.new("RGB", (160, 100), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([10, 30, 50, 70], fill="red")
    draw.rectangle([100, 30, 140, 70], fill="blue")
    image.save(images / "a.png")
    boxes = {"the red square": (10, 30, 50, 70), "the blue square": (100, 30, 140, 70)}
    lines = tmp_path / "lines.txt"
    lines.write_text("".join(f"a.png\t{' '.join(map(str, b))}\t{t}\n" for t, b in boxes.items()))

    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), contextlib.suppress(SystemExit):
        main(["eval", "--help"])
    assert "one expression per line: IMAGE, box," in help_text.getvalue()   # its help, from the entry
    out = tmp_path / "out"
    code, stdout, err = run_cli("eval", "lines", str(lines), "--images", str(images), "--proposals", "gt",
                                "--out", str(out), "--no-progress")
    assert code == 0, err
    assert stdout.startswith("# reclip eval lines lines.txt")            # the title from the declared key
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert sorted(r["expression"] for r in rows) == sorted(boxes)
    summary = json.loads((out / "summary.json").read_text())
    right = [tuple(r["box"]) == boxes[r["expression"]] for r in rows]   # gt proposals: IoU 1 or 0
    assert summary["n"] == 2 and summary["accuracy"] == sum(right) / 2
    assert json.loads((out / "run.json").read_text())["files"] == {"annotations": str(lines)}
