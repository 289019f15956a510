"""``reclip eval ... --proposals SPEC``: a detector run on each image, named in the summary."""

from __future__ import annotations

import contextlib
import io
import json

from proposal_models import FAST
from reclip.cli.main import main
from reclip.proposals import cache
from refexp_data import build_refexp_data


def test_eval_runs_a_detector_per_image_and_its_summary_names_the_source(maskrcnn_weights, tmp_path):
    data = build_refexp_data(tmp_path / "data", scenes=2)
    spec = f"maskrcnn:{maskrcnn_weights}?score_threshold=0,{FAST}"
    out, disk = tmp_path / "out", tmp_path / "proposal-cache"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["eval", "reclip", str(data.jsonl), "--images", str(data.images), "--proposals", spec,
                     "--proposal-cache", str(disk), "--out", str(out), "--no-progress"])
    assert code == 0, err.getvalue()
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert summary["proposals"] == spec
    assert "ground-truth" not in err.getvalue()
    expressions = sum(len(json.loads(line)["sentences"]) for line in data.jsonl.read_text().splitlines())
    assert summary["n"] == len(rows) == expressions
    assert all(row["index"] is None or row["box"] is not None for row in rows)
    # one detector run per image, kept on disk for the next run
    images = {row["image_id"] for row in rows}
    assert len(list(disk.rglob("*.json"))) == len(images)
    cache.MEMORY.clear()
