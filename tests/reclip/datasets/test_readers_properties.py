"""Property tests of the readers: valid input round-trips, garbage gives only the project's errors."""

from __future__ import annotations

import json
import pickle

from hypothesis import HealthCheck, given, settings, strategies as st

from primitives import ReclipError
from reclip.datasets import load_dataset, load_plain_pickle, parse_detections
from reclip.datasets.detections import Detection

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
text = st.text(max_size=12)
number = st.floats(min_value=0, max_value=1e4, allow_nan=False)
size = st.floats(min_value=0, max_value=1e4, allow_nan=False, exclude_min=True)   # a box has an area
xywh = st.tuples(number, number, size, size).map(list)
sentence = st.fixed_dictionaries({"raw": text, "sent": text, "tokens": st.lists(text, max_size=3),
                                  "sent_id": st.integers(0, 10**9)})
ref = st.fixed_dictionaries({"ref_id": st.integers(0, 10**6), "ann_id": st.integers(0, 10**9),
                             "image_id": st.integers(0, 10**9), "split": st.sampled_from(["train", "val", "testA"]),
                             "file_name": text, "sentences": st.lists(sentence, max_size=3)})
plain = st.recursive(st.none() | st.booleans() | st.integers() | number | text,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
                     max_leaves=12)


@SETTINGS
@given(refs=st.lists(ref, max_size=4), protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_refs_pickles_round_trip(tmp_path, refs, protocol):
    path = tmp_path / "refs.p"
    path.write_bytes(pickle.dumps(refs, protocol=protocol))
    assert load_plain_pickle(path) == refs


@SETTINGS
@given(value=plain, protocol=st.integers(0, pickle.HIGHEST_PROTOCOL))
def test_any_plain_data_loads_and_refer_rejects_bad_shapes_with_its_error(tmp_path, value, protocol):
    folder = tmp_path / "refcocog"
    folder.mkdir(exist_ok=True)
    (folder / "refs(umd).p").write_bytes(pickle.dumps(value, protocol=protocol))
    (folder / "instances.json").write_text('{"images": [], "annotations": []}')
    assert load_plain_pickle(folder / "refs(umd).p") == value
    try:
        ds = load_dataset("refer", {"root": str(tmp_path), "dataset": "refcocog", "split_by": "umd"}, "i")
    except ReclipError:
        return
    assert ds.records == []   # nothing usable: every entry is skipped or left out by split


@SETTINGS
@given(junk=st.binary(max_size=64))
def test_garbage_pickles_give_only_the_projects_errors(tmp_path, junk):
    path = tmp_path / "refs.p"
    path.write_bytes(junk)
    try:
        load_plain_pickle(path)
    except ReclipError:
        pass


@SETTINGS
@given(dets=st.dictionaries(st.integers(0, 10**6), st.lists(xywh, max_size=3), max_size=4),
       form=st.sampled_from(["dict", "list", "coco", "dets"]))
def test_detections_round_trip_in_every_form(dets, form):
    if form == "dict":
        data = {str(k): v for k, v in dets.items()}
    else:
        key = "bbox" if form == "coco" else "box"
        data = [{"image_id": k, key: b} for k, boxes in dets.items() for b in boxes]
        data = {"dets": data} if form == "dets" else data
    got = parse_detections(json.loads(json.dumps(data)))
    for k, boxes in dets.items():
        want = [Detection((x, y, x + w, y + h)) for x, y, w, h in boxes]
        assert got.get(str(k), []) == want


@SETTINGS
@given(value=plain)
def test_garbage_detections_give_only_the_projects_errors(value):
    try:
        parse_detections(value)
    except ReclipError:
        pass


@SETTINGS
@given(lines=st.lists(plain.map(json.dumps) | text, max_size=5))
def test_garbage_jsonl_lines_are_skipped_never_raised(tmp_path, lines):
    path = tmp_path / "x_val.jsonl"
    path.write_text("\n".join(line.replace("\n", " ") for line in lines) + "\n")
    ds = load_dataset("reclip", {"annotations": str(path)}, "i")
    assert ds.records == [] and len(ds.skipped) <= len(lines)
