"""``reclip locate ... --model owlv2:DIR``: the detector's own boxes, no proposals file; a missing
detector is one line on stderr and exit 2."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

import reclip.datasets  # noqa: F401  (dataset formats register on import: before the registry snapshot)
from reclip import cli
from reclip.proposals import proposal_source


def test_locate_with_owlv2_needs_no_proposals(owlv2_dir, tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    image = Image.fromarray(rng.integers(0, 256, (80, 120, 3), dtype=np.uint8))
    image.save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["locate", "photo.png", "the left lion", "--model", f"owlv2:{owlv2_dir}", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    own = [list(p.box) for p in proposal_source(f"owlv2:{owlv2_dir}")(image)]
    assert out["box"] in own


def test_locate_with_grounding_dino_proposes_for_the_programs_finds(gdino_dir, tmp_path, monkeypatch, capsys):
    Image.new("RGB", (100, 60), "tan").save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    assert cli.main(["locate", "photo.png", "the left lion", "--model", f"grounding-dino:{gdino_dir}",
                     "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 <= out["box"][0] < out["box"][2] <= 100


def test_a_missing_detector_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    Image.new("RGB", (40, 30)).save(tmp_path / "photo.png")
    (tmp_path / "boxes.json").write_text("[[0, 0, 5, 5]]")
    monkeypatch.chdir(tmp_path)
    code = cli.main(["locate", "photo.png", "the left lion", "--model", "owlv2:missing_dir", "--proposals", "boxes.json"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "owlv2 model 'missing_dir' is not available offline" in err


def test_reclip_eval_runs_with_an_owlv2_engine_and_its_own_proposals(owlv2_dir, tmp_path, capsys):
    from refexp_data import build_refexp_data

    data = build_refexp_data(tmp_path / "data", scenes=2)
    out = tmp_path / "run"
    assert cli.main(["eval", "refer", "--root", str(data.refer_root), "--dataset", "refcocog", "--split-by", "umd",
                     "--split", "val", "--images", str(data.images), "--proposals", f"owlv2:{owlv2_dir}",
                     "--model", f"owlv2:{owlv2_dir}?weight=0.5", "--model", "synthetic", "--method", "crop",
                     "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert rows and all(len(r["box"]) == 4 for r in rows)
    run = json.loads((out / "run.json").read_text())
    assert f"owlv2:{owlv2_dir}?weight=0.5" in json.dumps(run)



def test_reclip_eval_proposes_with_grounding_dino_for_each_images_finds(gdino_dir, tmp_path):
    from refexp_data import build_refexp_data

    from interpreter import find_texts
    from reclip import parse_program
    from reclip.engines import detector_engine

    data = build_refexp_data(tmp_path / "data", scenes=2)
    out = tmp_path / "run"
    spec = f"grounding-dino:{gdino_dir}"
    assert cli.main(["eval", "refer", "--root", str(data.refer_root), "--dataset", "refcocog", "--split-by", "umd",
                     "--split", "val", "--images", str(data.images), "--proposals", spec, "--model", spec,
                     "--out", str(out), "--no-progress"]) == 0
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert rows and all(r["box"] is not None for r in rows)
    engine = detector_engine("grounding-dino", gdino_dir)
    for image_id in {r["image_id"] for r in rows}:
        group = [r for r in rows if r["image_id"] == image_id]
        image = Image.open(data.images / f"COCO_train2014_{int(image_id):012d}.jpg")
        texts = find_texts(*(parse_program(r["program"]).root for r in group))
        boxes = np.concatenate([fwd.boxes for fwd, _ in engine.predictions(image, texts)])
        for r in group:   # every answer is one of the boxes Grounding DINO drew for that image's finds
            assert any(np.allclose(r["box"], b) for b in boxes)
