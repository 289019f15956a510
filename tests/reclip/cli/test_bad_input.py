"""Every hostile input of issue 10, through the command line: one clear line on stderr and
exit 2 (the project's error), or 70 for a bug (the backstop); never a traceback."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from reclip import cli
from reclip.cli import locate as cli_locate
from reclip.files import load_image

BOX = [10, 10, 60, 60]
SHIPPED_MODEL = Path(__file__).resolve().parents[3] / "reclip" / "assets" / "synthetic.pt"
DEEP = "[" * 100_000


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels (and holds none)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def masked(mask) -> str:
    return json.dumps([{"box": BOX, "mask": mask}], ensure_ascii=False)


def coco_segmented(segmentation) -> str:
    return json.dumps([{"image_id": 1, "bbox": [10, 10, 50, 50], "segmentation": segmentation}])


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    Image.new("RGB", (100, 100), (40, 80, 120)).save(tmp_path / "img.png")
    (tmp_path / "bomb.png").write_bytes(png_claiming(50_000, 50_000))
    (tmp_path / "p.json").write_text(json.dumps([BOX, [20, 20, 90, 90]]))
    (tmp_path / "existing.txt").write_text("not a folder")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "expressions.jsonl").write_text(DEEP + "\n")
    return tmp_path


def locate(*extra: str, proposals: str = "p.json", image: str = "img.png") -> list[str]:
    return ["locate", image, "the red circle", "--proposals", proposals, *extra]


USER_SOURCES = """
from reclip.proposals import PROPOSAL_SOURCES

@PROPOSAL_SOURCES.register("boom")
def boom(arg=None):
    def run(image):
        raise RuntimeError("kaput")
    return run

@PROPOSAL_SOURCES.register("unbuildable")
def unbuildable(arg=None):
    raise OSError("no camera")
"""

# (name, files to write {name: text}, argv, stderr fragment, exit status)
CASES = [
    ("decompression bomb", {}, locate(image="bomb.png"), "exceeds limit", 2),
    ("non-ASCII RLE counts", {"m.json": masked({"size": [100, 100], "counts": "é0"})},
     locate(proposals="m.json"), "proposal 0: compressed RLE 'counts' holds characters", 2),
    ("RLE size of three numbers", {"m.json": masked({"size": [100, 100, 3], "counts": "PP"})},
     locate(proposals="m.json"), "'size' must be [height, width]", 2),
    ("uncompressed RLE, bad counts", {"m.json": masked({"size": [100, 100], "counts": [-5, "x"]})},
     locate(proposals="m.json"), "uncompressed RLE 'counts' must be a list of non-negative", 2),
    ("uncompressed RLE, too many pixels", {"m.json": masked({"size": [10, 10], "counts": [50, 60]})},
     locate(proposals="m.json"), "RLE mask is 10x10", 2),
    ("RLE counts too short (compressed)", {"m.json": masked({"size": [100, 100], "counts": ":d0"})},
     locate(proposals="m.json"), "compressed RLE counts cover 30 pixels but 'size' 100x100 has 10000", 2),
    ("RLE counts too short (uncompressed)", {"m.json": masked({"size": [100, 100], "counts": [10, 20]})},
     locate(proposals="m.json"), "uncompressed RLE counts cover 30 pixels", 2),
    ("COCO segmentation with short RLE counts", {"m.json": coco_segmented({"size": [100, 100], "counts": "1"})},
     locate(proposals="m.json"), "compressed RLE counts cover 1 pixels", 2),
    ("mask grid of values other than 0/1", {"m.json": masked([[0, 2], [1, 0]])},
     locate(proposals="m.json"), "mask grid values must be 0/1 or 0/255; it holds 1, 2", 2),
    ("float mask grid with 0.01", {"m.json": masked([[0.0, 0.01], [1.0, 0.0]])},
     locate(proposals="m.json"), "mask grid values must be 0 or 1; it holds 0.01", 2),
    ("record mask shaped like a polygon", {"m.json": masked([[10, 10, 20, 10, 20, 20]])},
     locate(proposals="m.json"), "mask grid values must be 0/1 or 0/255", 2),
    ("0/1 mask grid not at the image size", {"m.json": masked([[0, 1], [1, 0]])},
     locate(proposals="m.json"), "mask grid is 2x2 (w x h) but the image is 100x100", 2),
    ("ragged mask list", {"m.json": masked([[0, 1, 0], [1]])},
     locate(proposals="m.json"), "ragged mask grid", 2),
    ("odd-length polygon", {"m.json": coco_segmented([[10, 10, 20, 20, 30]])},
     locate(proposals="m.json"), "polygon 0 has 5 coordinates", 2),
    ("deeply nested proposals JSON", {"deep.json": DEEP}, locate(proposals="deep.json"), "nested too deeply", 2),
    ("deeply nested expressions JSONL", {"e.jsonl": "{" + DEEP},
     ["locate", "img.png", "--expressions", "e.jsonl", "--proposals", "p.json"], "e.jsonl:1: ", 2),
    ("deeply nested evaluation file", {}, ["eval", "synthetic", "data", "--no-progress"], "nested too deeply", 2),
    ("unknown device", {}, locate("--device", "banana"), "unknown device 'banana'", 2),
    ("synth --out onto a file", {}, ["synth", "--out", "existing.txt", "--scenes", "1"],
     "existing.txt is an existing file", 2),
    ("eval --out onto a file", {"ok/expressions.jsonl": "{}\n"},
     ["eval", "synthetic", "ok", "--out", "existing.txt", "--no-progress"], "existing.txt is an existing file", 2),
    ("--draw in an unknown format", {}, locate("--draw", "out.xyz"), "cannot tell which image format", 2),
    ("program nested deeper than the limit", {"deep.txt": "relate(" * 500 + 'find("a")' + ", left_of, find(\"b\"))" * 500},
     ["run", "deep.txt", "img.png", "--proposals", "p.json"], "the limit is 200", 2),
    ("lone surrogate in a program", {"sur.txt": 'find("\\ud800")'},
     ["run", "sur.txt", "img.png", "--proposals", "p.json"], "lone surrogate", 2),
    ("compiled program too deep to print", {}, ["compile", "the star " + "left of the circle " * 493], "the limit is 200", 2),
    # -- inputs are never outputs
    ("--draw over the input image", {}, locate("--draw", "img.png"), "--draw img.png is the input image", 2),
    ("--draw over the input image by another path", {}, locate("--draw", "./data/../img.png"),
     "is the input image", 2),
    ("--trace over the proposals file", {}, locate("--trace", "p.json"), "--trace p.json is the proposals file", 2),
    ("--trace over a file: proposals spec", {}, locate("--trace", "p.json", proposals="file:p.json"),
     "--trace p.json is the proposals file", 2),
    ("--trace over the expressions file", {"e.txt": "the red circle\n"},
     ["locate", "img.png", "--expressions", "e.txt", "--proposals", "p.json", "--trace", "e.txt"],
     "--trace e.txt is the expressions file", 2),
    ("--trace ''", {}, locate("--trace", ""), "--trace is empty: give the file to write", 2),
    ("--draw and --trace on one path", {}, locate("--draw", "o.png", "--trace", "o.png"),
     "--trace o.png is also --draw's path", 2),
    ("--draw over a model file", {"m.pt": "x"}, locate("--model", "m.pt", "--draw", "m.pt"),
     "--draw m.pt is a model file", 2),
    ("run --trace over the program file", {"prog.txt": 'find("a")'},
     ["run", "prog.txt", "img.png", "--proposals", "p.json", "--trace", "prog.txt"],
     "--trace prog.txt is the program file", 2),
    ("run --draw over the image", {"prog.txt": 'find("a")'},
     ["run", "prog.txt", "img.png", "--proposals", "p.json", "--draw", "img.png"], "--draw img.png is the input image", 2),
    ("synth --out into a non-empty folder", {"ds/expressions.jsonl": "{}\n"},
     ["synth", "--out", "ds", "--scenes", "1"], "dataset folder ds is not empty", 2),
    ("synth --overwrite over a folder that is not a dataset", {"notes/todo.txt": "keep me"},
     ["synth", "--out", "notes", "--scenes", "1", "--overwrite"], "holds files that are not a synthetic dataset (todo.txt)", 2),
    ("synth --overwrite over a folder of the user's own images", {"ph/images/holiday.png": "png"},
     ["synth", "--out", "ph", "--scenes", "1", "--overwrite"],
     "holds files that are not a synthetic dataset (images/holiday.png)", 2),
    ("train-synthetic --log onto a file it did not write", {"notes.json": "{}\n"},
     ["train-synthetic", "--out", "t.pt", "--log", "notes.json"],
     "--log notes.json exists and is not a train-synthetic log", 2),
    ("train-synthetic --log onto a folder", {"logs/a.txt": "x"}, ["train-synthetic", "--out", "t.pt", "--log", "logs"],
     "--log logs is a folder", 2),
    ("synth --out ''", {}, ["synth", "--out", "", "--scenes", "1"], "the dataset folder's path is empty", 2),
    ("demo --out ''", {}, ["demo", "--out", " "], "--out is empty: give the folder for the PNGs", 2),
    ("eval merge --out onto a shard", {}, ["eval", "merge", "s1", "s2", "--out", "s1"],
     "--out s1 is one of the shard folders it merges", 2),
    ("train-synthetic --out over the shipped model", {}, ["train-synthetic", "--out", str(SHIPPED_MODEL)],
     "synthetic.pt exists (the shipped model): pass --overwrite to replace it", 2),
    ("train-synthetic --out over an existing file", {}, ["train-synthetic", "--out", "p.json"],
     "--out p.json exists: pass --overwrite", 2),
    ("train-synthetic --out and --log one file", {}, ["train-synthetic", "--out", "t.pt", "--log", "t.pt"],
     "--out t.pt is the --log file", 2),
    ("train-synthetic --out ''", {}, ["train-synthetic", "--out", ""], "--out is empty", 2),
    ("synth --seed -1", {}, ["synth", "--out", "sd", "--seed", "-1"], "--seed must be a whole number of at least 0", 2),
    ("train-synthetic --seed -1", {}, ["train-synthetic", "--seed", "-1"], "--seed must be a whole number of at least 0", 2),
    ("train-synthetic --threads 0", {}, ["train-synthetic", "--threads", "0"], "--threads must be at least 1, got 0", 2),
    ("train-synthetic --score-scale nan", {}, ["train-synthetic", "--score-scale", "nan"],
     "--score-scale must be between 0.01 and 100, got nan", 2),
    ("train-synthetic --score-scale -1", {}, ["train-synthetic", "--score-scale", "-1"],
     "--score-scale must be between 0.01 and 100, got -1.0", 2),
    ("train-synthetic --score-scale that makes every logit vanish", {},
     ["train-synthetic", "--score-scale", "1e-30"], "--score-scale must be between 0.01 and 100, got 1e-30", 2),
    # -- every option checked where it is read
    ("source option not a number", {}, locate(proposals="maskrcnn?score_threshold=abc"),
     "maskrcnn?score_threshold=abc: option 'score_threshold' must be a number from 0 to 1, got 'abc'", 2),
    ("source option out of range", {}, locate(proposals="maskrcnn?min_size=0"),
     "option 'min_size' must be a whole number from 32 to 4096, got 0", 2),
    ("unknown source option", {}, locate(proposals="maskrcnn?nosuch=1"),
     "proposal source 'maskrcnn' takes no option 'nosuch' (it takes: score_threshold=0.3, ", 2),
    ("negative max_proposals", {}, locate(proposals="fasterrcnn?max_proposals=-5"),
     "option 'max_proposals' must be a whole number of at least 1, got -5", 2),
    ("NaN nms_iou", {}, locate(proposals="maskrcnn?nms_iou=nan"), "option 'nms_iou' must be a number from 0 to 1, got nan", 2),
    ("whole-number option given a fraction", {}, locate(proposals="maskrcnn?max_proposals=2.5"),
     "option 'max_proposals' must be a whole number", 2),
    ("SAM option of the wrong type", {}, locate(proposals="sam:img.png?clip_to_box=3"),
     "option 'clip_to_box' must be true or false, got 3", 2),
    ("sam: an image, not a checkpoint", {}, locate(proposals="sam:img.png"),
     "img.png is not a SAM checkpoint: torch cannot load it", 2),
    ("detector weights: an image", {}, locate(proposals="fasterrcnn:img.png"),
     "img.png is not fasterrcnn_resnet50_fpn_v2 weights: torch cannot load it", 2),
    ("file source given an option", {}, locate(proposals="file:p.json?x=1"),
     "proposal source 'file' takes no option 'x' (it takes: image_id)", 2),
    ("--device xla", {}, locate("--device", "xla"), "device 'xla' was asked for but this machine has no XLA device", 2),
    ("--device meta", {}, locate("--device", "meta"), "no META device", 2),
    ("--device xla with a detector", {}, locate("--device", "xla", proposals="maskrcnn:img.png"),
     "no XLA device", 2),
    ("400-digit integer in a proposals file", {"big.json": "[[0, 0, 10, " + "9" * 400 + "]]"},
     locate(proposals="big.json"), "big.json: a number of 400 digits is outside the range of a float", 2),
    ("5000-digit integer in a proposals file", {"big.json": "[[0, 0, 10, " + "9" * 5000 + "]]"},
     locate(proposals="big.json"), "a number of 5000 digits is outside the range of a float", 2),
    ("1e400 in a proposals file", {"big.json": "[[0, 0, 10, 1e400]]"},
     locate(proposals="big.json"), "the number 1e400 is outside the range of a float", 2),
    ("a user's source raises", {"mine.py": USER_SOURCES},
     ["--plugins", "mine.py", *locate(proposals="boom")], "proposal source 'boom' failed: RuntimeError: kaput", 2),
    ("a user's source fails to build", {"mine.py": USER_SOURCES},
     ["--plugins", "mine.py", *locate(proposals="unbuildable")],
     "proposal source 'unbuildable' failed while being built: OSError: no camera", 2),
    # -- bounded work
    ("--ray HOST:PORT with nothing listening", {"a.jsonl": "{}\n"},
     ["eval", "reclip", "a.jsonl", "--images", ".", "--proposals", "gt", "--out", "o", "--ray", "127.0.0.1:1",
      "--shards", "2", "--no-progress"], "cannot reach Ray at 127.0.0.1:1: nothing answers on port 1", 2),
    ("--ray with a malformed address", {"a.jsonl": "{}\n"},
     ["eval", "reclip", "a.jsonl", "--images", ".", "--proposals", "gt", "--out", "o", "--ray", "nowhere",
      "--shards", "2", "--no-progress"], "--ray nowhere: expected HOST:PORT, ray://HOST:PORT or auto", 2),
    ("no expression at all", {}, ["locate", "img.png", "--proposals", "p.json"], "no expression", 2),
]
if not torch.cuda.is_available():
    CASES.append(("--device cuda without CUDA", {}, locate("--device", "cuda"), "no CUDA device", 2))


@pytest.mark.parametrize("name, files, argv, fragment, status", CASES, ids=[c[0] for c in CASES])
def test_hostile_input_gets_one_line_and_its_exit_status(inputs, monkeypatch, capsys, name, files, argv,
                                                        fragment, status):
    monkeypatch.chdir(inputs)
    for file, text in files.items():
        (inputs / file).parent.mkdir(parents=True, exist_ok=True)
        (inputs / file).write_text(text, encoding="utf-8")
    assert cli.main(argv) == status
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if not ln.startswith("note: ")]
    assert fragment in lines[0], err
    # one line; a program's syntax error adds the offending line and a caret under it
    assert len(lines) == (3 if "syntax error" in lines[0] else 1), err
    assert "Traceback" not in err


def test_an_unexpected_exception_is_an_internal_error_with_its_own_status(inputs, monkeypatch, capsys):
    def broken(args):
        raise KeyError("oops")

    monkeypatch.chdir(inputs)
    monkeypatch.setattr(cli_locate, "load_locator", broken)
    monkeypatch.delenv("RECLIP_DEBUG", raising=False)
    assert cli.main(locate()) == 70
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "internal error" in err and "KeyError" in err and "RECLIP_DEBUG=1" in err
    monkeypatch.setenv("RECLIP_DEBUG", "1")
    assert cli.main(locate()) == 70
    assert "Traceback" in capsys.readouterr().err


# -- no silent garbage: pixels keep their real range ------------------------------------
def test_a_16_bit_png_is_scaled_by_its_full_range(tmp_path):
    values = np.array([[0, 257 * 100], [65535, 257 * 10]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I;16")
    rgb = np.asarray(load_image(tmp_path / "g16.png"))
    assert rgb[..., 0].tolist() == [[0, 100], [255, 10]]


def test_a_float_tiff_is_scaled_by_its_value_range(tmp_path):
    unit = np.array([[0.0, 0.5], [0.25, 1.0]], dtype=np.float32)      # within 0..1: x 255
    Image.fromarray(unit).save(tmp_path / "unit.tif")
    assert np.asarray(load_image(tmp_path / "unit.tif"))[..., 0].tolist() == [[0, 128], [64, 255]]
    wide = np.array([[-10.0, 0.0], [10.0, 30.0]], dtype=np.float32)   # otherwise min..max
    Image.fromarray(wide).save(tmp_path / "wide.tif")
    assert np.asarray(load_image(tmp_path / "wide.tif"))[..., 0].tolist() == [[0, 64], [128, 255]]


def test_draw_writes_the_format_its_name_says(inputs, monkeypatch, capsys):
    from report_scene import LabelScorer
    from reclip import Locator

    monkeypatch.chdir(inputs)
    monkeypatch.setattr(cli_locate, "load_locator", lambda args: Locator(LabelScorer()))
    assert cli.main(locate("--draw", "out.jpg")) == 0
    assert Image.open(inputs / "out.jpg").format == "JPEG"


def test_an_empty_expression_in_an_evaluation_file_is_a_bad_record(tmp_path):
    from reclip.evaluation import NothingToScore
    from reclip.synthetic.dataset import read_records, write_dataset
    from reclip.synthetic.evaluate import evaluate_synthetic
    from report_scene import LabelScorer

    path = write_dataset(tmp_path / "d", scenes=1, seed=0)
    first = read_records(path)[0]
    first.pop("image_path")
    path.write_text(json.dumps({**first, "expression": "  "}) + "\n")
    with pytest.raises(NothingToScore, match="every expression was skipped .*1 empty_sentence"):
        evaluate_synthetic(path, scorer=LabelScorer(), out=tmp_path / "out", progress=False, log=lambda line: None)
    row = json.loads((tmp_path / "out" / "skipped.jsonl").read_text())
    assert row["reason"] == "empty_sentence" and "empty expression" in row["detail"]


def test_a_refused_output_leaves_the_input_untouched(inputs, monkeypatch, capsys):
    monkeypatch.chdir(inputs)
    before = (inputs / "img.png").read_bytes(), (inputs / "p.json").read_bytes()
    assert cli.main(locate("--draw", "img.png", "--trace", "p.json")) == 2
    assert ((inputs / "img.png").read_bytes(), (inputs / "p.json").read_bytes()) == before


def test_synth_overwrite_replaces_the_dataset_and_leaves_no_stale_image(tmp_path, monkeypatch, capsys):
    from reclip.synthetic.dataset import read_records

    monkeypatch.chdir(tmp_path)
    assert cli.main(["synth", "--out", "ds", "--scenes", "3", "--seed", "1"]) == 0
    assert len(list((tmp_path / "ds" / "images").iterdir())) == 3
    assert cli.main(["synth", "--out", "ds", "--scenes", "1", "--seed", "2", "--overwrite"]) == 0
    images = sorted(p.name for p in (tmp_path / "ds" / "images").iterdir())
    assert images == ["s2-000000.png"]
    assert {r["scene"] for r in read_records(tmp_path / "ds")} == {"s2-000000"}


def test_a_huge_gold_box_is_drawn_clipped_to_the_image_quickly(inputs, monkeypatch, capsys):
    import time

    from report_scene import LabelScorer
    from reclip import Locator

    monkeypatch.chdir(inputs)
    monkeypatch.setattr(cli_locate, "load_locator", lambda args: Locator(LabelScorer()))
    start = time.perf_counter()
    assert cli.main(locate("--gold", "0", "0", "1e308", "1e308", "--draw", "out.png")) == 0
    assert time.perf_counter() - start < 5          # was minutes: a dash per 8 pixels of 1e308
    captured = capsys.readouterr()
    assert "gold:    WRONG  (IoU 0.00" in captured.out and "Warning" not in captured.err
    drawn = np.asarray(Image.open(inputs / "out.png"))
    assert drawn.shape == (100, 100, 3) and (drawn[0] != (40, 80, 120)).any()   # the gold's edge at the top


def test_a_spec_too_long_to_be_a_file_name_names_no_file():
    from reclip.files import spec_paths

    assert spec_paths("grounding-dino:DIR#texts=" + "the red square|" * 40) == []
