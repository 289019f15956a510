"""Strict mask decoding (issue 24): every mask reader decodes a mask to exactly what it
says, or refuses it with the project's error; never anything in between."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pycocotools import mask as mask_utils

from interpreter import Proposal
from primitives import ReclipError
from reclip.datasets import DatasetError, load_dataset, read_detections
from reclip.masks import MaskError, decode_mask, encode_mask, to_rle
from reclip.proposals.io import read_proposals

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
masks_2d = st.tuples(st.integers(1, 9), st.integers(1, 9)).flatmap(
    lambda hw: arrays(bool, hw))


def reference_runs(mask: np.ndarray) -> list[int]:
    """Run lengths of ``mask`` in COCO's column-major order, starting with zeros, computed
    here without pycocotools."""
    flat = mask.T.reshape(-1).astype(int)
    runs, current, length = [], 0, 0
    for v in flat:
        if v == current:
            length += 1
        else:
            runs.append(length)
            current, length = v, 1
    runs.append(length)
    return runs


def pycocotools_decode(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if isinstance(rle["counts"], list):
            rle = mask_utils.frPyObjects(rle, *rle["size"])
        else:
            rle = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
        return mask_utils.decode(rle).astype(bool)


def decoded_or_refused(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ReclipError:
        return None


# -- every encoding of a real mask decodes to exactly that mask ----------------------------
@PROPERTY
@given(masks_2d)
def test_every_layout_of_a_mask_decodes_to_exactly_it(mask):
    h, w = mask.shape
    layouts = [
        encode_mask(mask),                                           # compressed RLE
        {"size": [h, w], "counts": reference_runs(mask)},             # uncompressed RLE
        mask.astype(int).tolist(),                                    # 0/1 grid
        mask.tolist(),                                                # True/False grid
        (mask.astype(int) * 255).tolist(),                            # 0/255 grid (a PNG's)
        mask, mask.astype(np.uint8) * 255, mask.astype(np.float32),   # arrays
    ]
    for layout in layouts:
        for size in (None, (w, h)):
            assert np.array_equal(decode_mask(layout, size), mask), layout
        assert np.array_equal(Proposal([0, 0, 1, 1], layout).mask, mask)
    for layout in layouts[:2]:
        assert np.array_equal(decode_mask(to_rle(layout, (w, h))), mask)


@PROPERTY
@given(masks_2d, st.data())
def test_proposal_files_read_every_record_mask_layout_exactly(tmp_path_factory, mask, data):
    h, w = mask.shape
    layout = data.draw(st.sampled_from([encode_mask(mask), {"size": [h, w], "counts": reference_runs(mask)},
                                        mask.astype(int).tolist(), (mask.astype(int) * 255).tolist()]))
    path = tmp_path_factory.mktemp("p") / "p.json"
    path.write_text(json.dumps([{"box": [0, 0, 1, 1], "mask": layout}]))
    assert np.array_equal(read_proposals(path, image_size=(w, h))[0].mask, mask)


# -- garbage is refused, or decodes to what an independent decoder says ---------------------
@PROPERTY
@given(st.integers(0, 12), st.integers(0, 12), st.lists(st.integers(0, 40), max_size=10))
def test_uncompressed_counts_decode_only_when_they_cover_the_image(h, w, counts):
    out = decoded_or_refused(decode_mask, {"size": [h, w], "counts": counts})
    if sum(counts) != h * w:
        assert out is None
    else:
        flat = np.repeat(np.arange(len(counts)) % 2, counts).astype(bool)
        assert np.array_equal(out, flat.reshape(w, h).T)


@PROPERTY
@given(st.integers(1, 12), st.integers(1, 12),
       st.text(alphabet=[chr(c) for c in range(48, 112)], max_size=12))
def test_compressed_counts_decode_as_pycocotools_would_or_are_refused(h, w, counts):
    rle = {"size": [h, w], "counts": counts}
    out = decoded_or_refused(decode_mask, rle)
    if out is not None:   # accepted: the counts are whole, so pycocotools reads them right
        assert np.array_equal(out, pycocotools_decode(rle))
        assert np.array_equal(decode_mask(to_rle(rle)), out)
    assert decoded_or_refused(decode_mask, rle) is None or np.array_equal(decode_mask(rle), out)


@PROPERTY
@given(masks_2d, st.integers(1, 5))
def test_a_truncated_or_padded_rle_is_refused(mask, cut):
    h, w = mask.shape
    counts = encode_mask(mask)["counts"]
    runs = reference_runs(mask)
    for bad in ({"size": [h, w], "counts": counts[:-cut]} if len(counts) > cut else None,
                {"size": [h, w], "counts": runs + [cut]},
                {"size": [h, w], "counts": runs[:-1] + [max(runs[-1] - cut, 0)]} if runs[-1] else None):
        if bad is not None:
            with pytest.raises(MaskError):
                decode_mask(bad)
            with pytest.raises(MaskError):
                to_rle(bad)


@PROPERTY
@given(st.lists(st.lists(st.one_of(st.integers(-3, 300), st.floats(allow_nan=True), st.booleans()),
                         min_size=1, max_size=5), min_size=1, max_size=5))
def test_a_grid_is_a_mask_only_when_rectangular_with_binary_values(rows):
    out = decoded_or_refused(decode_mask, rows)
    values = {v for row in rows for v in row}
    rectangular = len({len(row) for row in rows}) == 1
    ints = all(not isinstance(v, float) for v in values)
    binary = values <= {0, 1} or (ints and values <= {0, 255})
    if not (rectangular and binary):
        assert out is None
    else:
        assert np.array_equal(out, np.array([[v != 0 for v in row] for row in rows]))


# -- the issue's own cases -----------------------------------------------------------------
@pytest.mark.parametrize("mask, message", [
    ({"size": [224, 224], "counts": ":d0"}, "compressed RLE counts cover 30 pixels but 'size' 224x224 has 50176"),
    ({"size": [224, 224], "counts": [10, 20]}, "uncompressed RLE counts cover 30 pixels"),
    ({"size": [4, 4], "counts": "1"}, "compressed RLE counts cover 1 pixels"),
    ([[0, 1, 0, 1], [1, 0]], "ragged mask grid"),
    ([[0, 2], [1, 0]], "values must be 0/1 or 0/255; it holds 1, 2"),
    ([[0.0, 0.01], [1.0, 0.0]], "values must be 0 or 1; it holds 0.01"),
    ([[0.0, float("nan")], [1.0, 0.0]], "values must be 0 or 1; it holds 1.0, nan"),
    ([[0, 1], [255, 0]], "values must be 0/1 or 0/255"),
    ([[10, 10, 20, 10, 20, 20]], "values must be 0/1 or 0/255"),   # polygons only from polygon layouts
])
def test_the_issues_masks_are_refused(mask, message):
    with pytest.raises(MaskError, match=message.replace("(", r"\(").replace("?", r"\?")):
        decode_mask(mask)


def test_float_arrays_count_only_exact_ones_and_polygons_need_a_polygon_layout():
    with pytest.raises(MaskError, match="0 or 1"):
        decode_mask(np.array([[0.0, 0.01], [1.0, np.nan]]))
    square = [[1, 1, 4, 1, 4, 4, 1, 4]]
    assert decode_mask(square, (6, 6), polygons=True)[1:4, 1:4].all()
    assert np.array_equal(decode_mask(to_rle(square, (6, 6))), decode_mask(square, (6, 6), polygons=True))
    with pytest.raises(MaskError, match="mask grid values must be 0/1 or 0/255"):
        decode_mask(square, (6, 6))
    with pytest.raises(MaskError, match="a segmentation is an RLE dict or a list of polygons"):
        decode_mask([0, 1], (2, 2), polygons=True)


def test_a_png_mask_of_0_and_255_is_read_as_a_mask(tmp_path):
    grid = [[0, 255, 255], [0, 0, 255]]
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"box": [0, 0, 3, 2], "mask": grid}]))
    assert read_proposals(path, image_size=(3, 2))[0].mask.tolist() == [[False, True, True], [False, False, True]]


# -- a malformed segmentation through every reader: the reader's own one-line error -----------
SHORT = {"size": [224, 224], "counts": ":d0"}   # the issue's: 30 pixels of 50,176
SHORT_MESSAGE = "compressed RLE counts cover 30 pixels but 'size' 224x224 has 50176"


def test_a_malformed_segmentation_in_a_detections_file_is_a_dataset_error(tmp_path):
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 2, 2], "segmentation": SHORT}]))
    with pytest.raises(DatasetError, match=f"dets.json: detection 0: {SHORT_MESSAGE}"):
        read_detections(path)


def test_a_malformed_segmentation_in_a_proposals_file_names_the_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 2, 2], "segmentation": SHORT}]))
    with pytest.raises(ReclipError, match=f"p.json: proposal 0: {SHORT_MESSAGE}"):
        read_proposals(path, image_size=(224, 224))


@pytest.fixture
def refexp(tmp_path):
    from refexp_data import build_refexp_data
    return build_refexp_data(tmp_path, scenes=1)


def test_a_malformed_segmentation_through_the_dataset_readers(refexp):
    """refer stops with the mask's error; ReCLIP jsonl and MDETR skip the record, saying why."""
    instances = json.loads(refexp.instances.read_text())
    for ann in instances["annotations"]:
        ann["segmentation"] = SHORT
    refexp.instances.write_text(json.dumps(instances))
    refer = {"root": str(refexp.refer_root), "dataset": "refcocog", "split_by": "umd"}
    with pytest.raises(ReclipError, match=SHORT_MESSAGE):
        load_dataset("refer", refer, str(refexp.images))

    lines = [json.loads(line) for line in refexp.jsonl.read_text().splitlines()]
    for line in lines:
        for ann in line["anns"]:
            ann["segmentation"] = SHORT
    refexp.jsonl.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert_all_skipped(load_dataset("reclip", {"annotations": str(refexp.jsonl)}, str(refexp.images)))

    mdetr = json.loads(refexp.mdetr.read_text())
    for ann in mdetr["annotations"]:
        ann["segmentation"] = SHORT
    refexp.mdetr.write_text(json.dumps(mdetr))
    assert_all_skipped(load_dataset("mdetr", {"annotations": str(refexp.mdetr)}, str(refexp.images)))


def assert_all_skipped(dataset) -> None:
    """A reader that skips malformed records: every record skipped, the mask's problem said."""
    assert not dataset.records and dataset.skipped
    assert all(s.reason == "malformed_record" and SHORT_MESSAGE in s.detail for s in dataset.skipped)


# -- the file readers, by property: exactly the mask, or their own error ---------------------
def _reference(h: int, w: int, counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts)) % 2, counts).astype(bool).reshape(w, h).T


@PROPERTY
@given(st.integers(1, 8), st.integers(1, 8), st.lists(st.integers(0, 30), min_size=1, max_size=8),
       st.booleans())
def test_detections_and_coco_proposals_read_a_segmentation_exactly_or_refuse_it(
        tmp_path_factory, h, w, counts, compressed):
    seg = {"size": [h, w], "counts": counts}
    whole = sum(counts) == h * w
    if compressed and whole:   # the same runs, written as COCO's compressed string
        seg = encode_mask(_reference(h, w, counts))
    folder = tmp_path_factory.mktemp("seg")
    dets, props = folder / "dets.json", folder / "props.json"
    dets.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 1, 1], "segmentation": seg}]))
    props.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 1, 1], "segmentation": seg}]))
    if not whole:
        with pytest.raises(DatasetError, match="RLE counts cover"):
            read_detections(dets)
        with pytest.raises(ReclipError, match="RLE counts cover"):
            read_proposals(props, image_size=(w, h))
        return
    assert np.array_equal(decode_mask(read_detections(dets).of(1)[0].mask), _reference(h, w, counts))
    assert np.array_equal(read_proposals(props, image_size=(w, h))[0].mask, _reference(h, w, counts))
