"""The dataset loaders read every format into the same records, with the gold the files hold."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from refexp_data import build_refexp_data

from primitives import ReclipError
from reclip.datasets import (
    DatasetError,
    UnsafePickleError,
    load_dataset,
    load_plain_pickle,
    read_detections,
)
from reclip.datasets.refer import split_matches
from reclip.masks import decode_mask
from reclip.proposals.io import read_proposals


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return build_refexp_data(tmp_path_factory.mktemp("refexp"), scenes=2)


def refer_files(data):
    return {"root": str(data.refer_root), "dataset": "refcocog", "split_by": "umd"}


def test_refer_records_carry_the_gold_boxes_masks_and_ids(data):
    ds = load_dataset("refer", refer_files(data), str(data.images), "val")
    assert sorted(r.sent_id for r in ds.records) == sorted(data.gold_box)
    for r in ds.records:
        assert list(r.gold_box) == data.gold_box[r.sent_id]
        assert np.array_equal(decode_mask(r.gold_mask), data.gold_mask[r.sent_id])
        assert r.image_id == data.image_of[r.sent_id] and r.split == "val" and r.dataset == "refcocog"
        assert r.image.endswith(f"COCO_train2014_{r.image_id:012d}.jpg")
    for image_id, objects in data.objects.items():
        assert [(o.ann_id, list(o.box)) for o in ds.objects_of(image_id)] == objects
    assert ds.has_masks and not ds.skipped


def test_refer_split_selects_refs(data):
    assert load_dataset("refer", refer_files(data), str(data.images), "train").records == []
    assert split_matches("test", "testA") and split_matches("testA", "testAB")
    assert not split_matches("testA", "testB") and not split_matches("val", "train")


def test_mdetr_and_reclip_jsonl_give_the_same_gold_as_refer(data):
    refer = {r.sent_id: r for r in load_dataset("refer", refer_files(data), str(data.images), "val").records}
    mdetr = load_dataset("mdetr", {"annotations": str(data.mdetr)}, str(data.images))
    jsonl = load_dataset("reclip", {"annotations": str(data.jsonl)}, str(data.images))
    for ds in (mdetr, jsonl):
        assert sorted(r.sent_id for r in ds.records) == sorted(refer)
        for r in ds.records:
            want = refer[r.sent_id]
            assert (r.gold_box, r.image_id, r.ann_id, r.image) == (want.gold_box, want.image_id, want.ann_id, want.image)
            assert r.expression.lower() == want.expression.lower()
    assert mdetr.records[0].split == "val" and mdetr.records[0].gold_mask is None
    # ReCLIP's anns are all objects of the image; MDETR knows only the referred ones
    for image_id, objects in data.objects.items():
        assert [o.ann_id for o in jsonl.objects_of(image_id)] == [a for a, _ in objects]
        assert {o.ann_id for o in mdetr.objects_of(image_id)} <= {a for a, _ in objects}


def test_detection_files_in_every_form_match_by_image_id(data):
    forms = [read_detections(p) for p in (data.dets_dict, data.dets_list, data.dets_coco)]
    for image_id, objects in data.objects.items():
        for dets in forms:
            assert [list(d.box) for d in dets.of(image_id)] == [box for _, box in objects]
            assert dets.of(str(image_id)) == dets.of(image_id)
    assert forms[2].has_masks and not forms[0].has_masks
    assert forms[2].of(next(iter(data.objects)))[0].score == 0.9


def test_malformed_records_are_skipped_with_reasons(tmp_path, data):
    lines = data.jsonl.read_text().splitlines()
    bad = json.loads(lines[0])
    bad["ann_id"] = 999
    empty = json.loads(lines[1])
    empty["sentences"] = [{"raw": "  ", "sent_id": "e"}]
    path = tmp_path / "x_val.jsonl"
    path.write_text("\n".join([json.dumps(bad), "{not json", json.dumps(empty), lines[2]]) + "\n")
    ds = load_dataset("reclip", {"annotations": str(path)}, "imgs")
    reasons = sorted(s.reason for s in ds.skipped)
    assert reasons == ["empty_sentence", "malformed_record", "malformed_record"]
    assert len(ds.records) == len(json.loads(lines[2])["sentences"])


def test_missing_files_and_unknown_formats_are_clear_errors(tmp_path):
    with pytest.raises(DatasetError, match="refs file not found"):
        load_dataset("refer", {"root": str(tmp_path), "dataset": "refcocog", "split_by": "umd"}, "i")
    with pytest.raises(Exception, match="unknown dataset format 'refr'.*refer"):
        load_dataset("refr", {}, "i")
    (tmp_path / "d.json").write_text('{"1": [[0, 0, -5, 3]]}')
    with pytest.raises(DatasetError, match=r"d.json: image 1's box 0 \[x, y, width, height\] needs finite numbers "
                                           "and a positive width and height, got \\[0, 0, -5, 3\\]"):
        read_detections(tmp_path / "d.json")
    # one rule for COCO's [x, y, w, h] wherever it is read: an empty box is refused by every reader
    (tmp_path / "d.json").write_text('{"1": [[0, 0, 0, 3]]}')
    with pytest.raises(DatasetError, match="positive width and height"):
        read_detections(tmp_path / "d.json")
    (tmp_path / "p.json").write_text('[{"image_id": 1, "bbox": [0, 0, 0, 3]}]')
    with pytest.raises(ReclipError, match="positive width and height"):
        read_proposals(tmp_path / "p.json")


def _write_marker(path):
    with open(path, "w") as f:
        f.write("the pickle ran code")


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (_write_marker, (self.path,))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_pickle_that_calls_a_function_is_refused_and_never_runs(tmp_path, protocol):
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Evil(str(proof)), protocol=protocol))   # a plain load would run it
    assert proof.exists()
    marker = tmp_path / "marker"
    path = tmp_path / "refs(umd).p"
    path.write_bytes(pickle.dumps([{"ref_id": 0, "evil": _Evil(str(marker))}], protocol=protocol))
    with pytest.raises(UnsafePickleError, match=r"refs\(umd\).p: refused to load .*_write_marker.*not run"):
        load_plain_pickle(path)
    assert not marker.exists()


def test_python2_byte_strings_load_as_latin1(tmp_path):
    path = tmp_path / "refs.p"
    # protocol-0 text as Python 2's cPickle writes a str with a non-ASCII byte
    path.write_bytes(b"(lp0\n(dp1\nS'raw'\np2\nS'caf\\xe9'\np3\nsa.")
    assert load_plain_pickle(path) == [{"raw": "caf\u00e9"}]
