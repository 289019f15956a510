"""Spec strings, the registry (a user's own source), the file source, the cache, the Locator
and the CLI on proposal sources."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from proposal_models import FAST

import reclip.cli as cli
from interpreter import Proposal
from primitives import RegistryError
from reclip import Locator
from reclip.proposals import (
    PROPOSAL_SOURCES,
    ProposalCache,
    ProposalSourceError,
    build_source,
    parse_source_spec,
    proposal_source,
)
from reclip.proposals.io import read_proposals, write_proposals


class Counter:
    """A user's own source: one registered class, counting its calls."""

    calls = 0

    def __init__(self, arg: str | None = None, n: int = 2) -> None:
        self.n = n

    def __call__(self, image):
        Counter.calls += 1
        w, h = image.size
        return [[0, 0, w / (i + 1), h] for i in range(self.n)]


@pytest.fixture
def counter():
    Counter.calls = 0
    PROPOSAL_SOURCES.add("counter", Counter)
    return Counter


def test_spec_strings_parse_names_arguments_options_and_prompts(tmp_path):
    assert parse_source_spec("maskrcnn") == parse_source_spec("maskrcnn")
    spec = parse_source_spec("fasterrcnn:/w/x.pth?score_threshold=0.5,max_proposals=7,device=cpu,clip_to_box=false")
    assert (spec.name, spec.arg) == ("fasterrcnn", "/w/x.pth")
    assert spec.options == {"score_threshold": 0.5, "max_proposals": 7, "device": "cpu", "clip_to_box": False}
    both = parse_source_spec("maskrcnn+sam:/c/sam.pth")
    assert (both.name, both.arg, both.prompts.name, both.prompts.arg) == ("sam", "/c/sam.pth", "maskrcnn", None)
    path = tmp_path / "a+sam:b.json"   # a plain existing path wins over any reading of it
    path.write_text("[[0, 0, 1, 1]]")
    assert (parse_source_spec(str(path)).name, parse_source_spec(str(path)).arg) == ("file", str(path))
    assert parse_source_spec("missing/boxes.json").name == "file"   # the file source reports it missing


@pytest.mark.parametrize("spec, message", [
    ("maskrnn", r"unknown proposal source 'maskrnn'; did you mean maskrcnn.*nor is 'maskrnn' a file"),
    ("", "non-empty string"),
    ("maskrcnn?oops", "options after '\\?' are KEY=VALUE"),
    ("file:x.json?colour=red", "proposal source 'file' takes no option 'colour' \\(it takes: image_id\\)"),
])
def test_bad_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ProposalSourceError, match=message):
        build_source(spec)


def test_a_users_registered_class_or_function_is_a_source(counter, blank_image):
    assert [p.box for p in build_source("counter?n=3")(blank_image)] == [
        (0, 0, 200, 200), (0, 0, 100, 200), (0, 0, pytest.approx(200 / 3), 200)]

    @PROPOSAL_SOURCES.register("halves")
    def halves(arg=None):
        return lambda image: [{"box": [0, 0, 100, 200], "label": "left"}, {"box": [100, 0, 200, 200]}]

    props = build_source("halves")(blank_image)
    assert [(p.box, p.label) for p in props] == [((0, 0, 100, 200), "left"), ((100, 0, 200, 200), None)]
    PROPOSAL_SOURCES.add("broken", lambda arg=None: (lambda image: [[5, 5, 1, 1]]))
    with pytest.raises(ProposalSourceError, match="proposal source 'broken' on a 200x200 image: proposal 0: is reversed"):
        build_source("broken")(blank_image)
    with pytest.raises(RegistryError, match="already registered"):
        PROPOSAL_SOURCES.add("maskrcnn", Counter)


def test_an_installed_package_offers_a_source_through_the_entry_point_group(installed_entry_points, blank_image):
    from foundation import CATALOGS, Catalog

    installed_entry_points("plugged", {"reclip_proposals_ep": {"plugged": "plugged_src:Plugged"}},
                           "class Plugged:\n    def __init__(self, arg=None):\n        pass\n"
                           "    def __call__(self, image):\n        return [[0, 0, 5, 5], [1, 1, 9, 9]]\n")
    catalog = Catalog("proposals_ep", "proposal source")
    try:
        assert catalog.entry_point_group == "reclip_proposals_ep"
        assert catalog.names() == ["plugged"] and catalog.origins["plugged"].name == "plugged 0.1"
        assert catalog.get("plugged")()(blank_image) == [[0, 0, 5, 5], [1, 1, 9, 9]]
    finally:
        CATALOGS.pop("proposals_ep")


def test_the_second_call_on_an_image_is_a_cache_hit_in_memory_and_on_disk(counter, blank_image, tmp_path):
    source = proposal_source("counter")
    first = source(blank_image)
    assert proposal_source("counter")(blank_image.copy()) is first and counter.calls == 1
    other = Image.new("RGB", (200, 200), "black")
    source.batch([blank_image, other])
    assert counter.calls == 2                        # only the new image ran
    disk = proposal_source("counter", cache_dir=tmp_path)
    disk.cache = ProposalCache()                     # a fresh process: an empty memory
    disk(other)
    assert counter.calls == 3 and len(list(tmp_path.rglob("*.json"))) == 1
    again = proposal_source("counter", cache_dir=tmp_path)
    again.cache = ProposalCache()
    assert [p.box for p in again(other)] == [p.box for p in first] and counter.calls == 3


def test_the_disk_cache_keeps_masks_labels_and_scores(tmp_path, blank_image):
    mask = np.zeros((200, 200), bool)
    mask[10:20, 30:50] = True
    PROPOSAL_SOURCES.add("masked", lambda arg=None: (lambda image: [Proposal([30, 10, 50, 20], mask, "cup", 0.25)]))
    proposal_source("masked", cache_dir=tmp_path)(blank_image)
    cached = proposal_source("masked", cache_dir=tmp_path)
    cached.cache = ProposalCache()
    (p,) = cached(blank_image)
    assert np.array_equal(p.mask, mask) and (p.label, p.score) == ("cup", 0.25)


def rle(mask):
    from reclip.masks import encode_mask

    return encode_mask(mask)


def formats(mask: np.ndarray) -> dict[str, object]:
    """Every layout the file source reads, each holding the same two proposals."""
    records = [{"box": [10, 20, 60, 90], "mask": rle(mask), "label": "cup"}, {"box": [70, 5, 150, 40]}]
    coco = [{"image_id": 3, "bbox": [10, 20, 50, 70], "segmentation": rle(mask), "category_id": "cup",
             "score": 0.9}, {"image_id": 3, "bbox": [70, 5, 80, 35], "score": 0.4}]
    return {"boxes": [[10, 20, 60, 90], [70, 5, 150, 40]], "records": records,
            "grid-masks": [{**records[0], "mask": mask.astype(int).tolist()}, records[1]],
            "wrapped": {"proposals": records}, "boxes-key": {"boxes": [[10, 20, 60, 90], [70, 5, 150, 40]]},
            "coco-results": coco, "coco-dataset": {"images": [], "annotations": coco}}


@pytest.mark.parametrize("layout", list(formats(np.zeros((1, 1), bool))))
def test_the_file_source_reads_every_layout_and_its_writes_round_trip(layout, tmp_path, photo):
    mask = np.zeros((120, 160), bool)
    mask[30:80, 20:50] = True
    path = tmp_path / f"{layout}.json"
    path.write_text(json.dumps(formats(mask)[layout]))
    image_id = 3 if layout.startswith("coco") else None
    for spec in (str(path), f"file:{path}"):
        props = proposal_source(spec, image_id=image_id)(photo)
        assert [p.box for p in props] == [(10, 20, 60, 90), (70, 5, 150, 40)]
        if layout != "boxes" and layout != "boxes-key":
            assert np.array_equal(props[0].mask, mask) and props[0].label == "cup"
    back = read_proposals(write_proposals(tmp_path / "back.json", props), image_size=photo.size)
    assert [(p.box, p.label, p.score) for p in back] == [(p.box, p.label, p.score) for p in props]
    assert all(np.array_equal(a.mask, b.mask) for a, b in zip(back, props) if a.mask is not None)


@pytest.mark.parametrize("content, message", [
    ('[{"box": [0, 0, 4, 4], "bx": 1}]', "proposal 0: unknown key\\(s\\) 'bx' \\(a record has box, mask, label, score\\)"),
    ('[{"image_id": 1, "bbox": [5, 5, -3, 4]}]', "proposal 0: 'bbox' .* needs finite numbers and a positive width and height"),
    ('[[0, 0, 4]]', "must have shape \\(N, 4\\)"),
    ('[{"box": [0, 0, 4, 4], "mask": [[1, 0], [0, 1]]}]', "proposal 0: mask grid is 2x2 \\(w x h\\) but the image is 160x120"),
    ('[{"box": [0, 0, 4, 4], "score": "high"}]', "'score' must be a number"),
])
def test_bad_files_through_the_file_source_are_clear_errors(tmp_path, photo, content, message):
    from reclip.proposals.io import ProposalFileError

    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ProposalFileError, match=message):
        proposal_source(path)(photo)


def test_locator_locate_takes_a_spec_string(oracle, tmp_path):
    image = Image.new("RGB", (300, 100), "white")
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"box": [10, 10, 50, 50], "label": "cup"},
                                {"box": [200, 10, 250, 50], "label": "cup"}]))
    assert Locator(oracle).locate(image, "the cup on the right", proposals=str(path)).index == 1
    PROPOSAL_SOURCES.add("two-cups", lambda arg=None: (lambda im: read_proposals(path, image_size=im.size)))
    assert Locator(oracle).locate(image, "the cup on the left", proposals="two-cups").index == 0


def test_reclip_locate_with_a_maskrcnn_checkpoint_end_to_end(maskrcnn_weights, photo, tmp_path, capsys):
    image = tmp_path / "photo.png"
    photo.save(image)
    drawing = tmp_path / "d.png"
    code = cli.main(["locate", str(image), "the dog on the left", "--proposals",
                     f"maskrcnn:{maskrcnn_weights}?{FAST},score_threshold=0", "--device", "cpu",
                     "--json", "--draw", str(drawing), "--proposal-cache", str(tmp_path / "cache")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    out = json.loads(captured.out)
    assert 1 < len(out["scores"]) <= 10 and 0 <= out["index"] < len(out["scores"])
    x0, y0, x1, y1 = out["box"]
    assert 0 <= x0 < x1 <= 160 and 0 <= y0 < y1 <= 120
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1 and drawing.is_file()


def test_without_weights_locate_says_which_file_is_missing_in_one_line(tmp_path, monkeypatch, capsys, photo):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))
    image = tmp_path / "photo.png"
    photo.save(image)
    assert cli.main(["locate", str(image), "the dog"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "maskrcnn_resnet50_fpn_v2_coco-73cbd019.pth" in err and str(tmp_path / "empty" / "hub" / "checkpoints") in err
    assert "maskrcnn_resnet50_fpn_v2(weights='DEFAULT')" in err


def test_a_lookup_from_a_second_thread_waits_for_plugins_another_thread_is_loading(installed_entry_points):
    """The first lookup loads the plugins; one made meanwhile from another thread must see them too."""
    import threading
    import time

    from foundation import CATALOGS, Catalog

    installed_entry_points("slowplug", {"reclip_proposals_slow": {"slow": "slow_src:Slow"}},
                           "import time\ntime.sleep(0.5)\nclass Slow:\n    pass\n")
    catalog = Catalog("proposals_slow", "proposal source")
    try:
        first = threading.Thread(target=catalog.names)
        first.start()
        time.sleep(0.1)        # the first thread is inside the plugin's import now
        assert catalog.names() == ["slow"]
        first.join()
    finally:
        CATALOGS.pop("proposals_slow")
