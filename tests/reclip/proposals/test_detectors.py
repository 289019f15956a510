"""torchvision detectors as sources, on random weights: boxes, masks, thresholds, cap, NMS, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from reclip.proposals import MissingWeightsError, build_source
from reclip.proposals.detectors import DETECTORS, DetectorSource

from proposal_models import FAST


@pytest.fixture(scope="module")
def maskrcnn(maskrcnn_weights):
    return build_source(f"maskrcnn:{maskrcnn_weights}?{FAST},box_score_thresh=0,score_threshold=0,device=cpu").source


@pytest.fixture(scope="module")
def raw(maskrcnn, photo):
    """One unfiltered forward pass: the filters below are checked against it."""
    with torch.inference_mode():
        return maskrcnn.model([torch.from_numpy(np.asarray(photo) / np.float32(255)).permute(2, 0, 1)])[0]


@pytest.fixture(scope="module")
def single(maskrcnn, photo):
    return maskrcnn(photo)


def settings(source, **values):
    saved = {k: getattr(source, k) for k in values}
    for k, v in values.items():
        setattr(source, k, v)
    return saved


def test_boxes_are_xyxy_pixels_inside_the_image_with_coco_labels_scores_and_aligned_masks(maskrcnn, single, photo):
    props = single
    assert props, "random weights give detections"
    w, h = photo.size
    names = set(maskrcnn.labels)
    for p in props:
        x0, y0, x1, y1 = p.box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert p.label in names   # random heads may pick the unused ids ("N/A") too
        assert p.mask.shape == (h, w) and p.mask.dtype == bool
        ys, xs = np.nonzero(p.mask)
        if len(xs):   # the pasted mask lies in its box (one pixel of rounding)
            assert xs.min() >= np.floor(x0) - 1 and xs.max() <= np.ceil(x1) and ys.max() <= np.ceil(y1)
    scores = [p.score for p in props]
    assert scores == sorted(scores, reverse=True)


def test_score_threshold_keeps_exactly_the_scores_at_or_above_it(maskrcnn, raw, photo):
    scores = raw["scores"].numpy()
    threshold = float(np.median(scores))
    saved = settings(maskrcnn, score_threshold=threshold, nms_iou=1.0, max_proposals=1000)
    try:
        kept = maskrcnn._proposals(raw, photo.size)
    finally:
        settings(maskrcnn, **saved)
    assert sorted(p.score for p in kept) == pytest.approx(sorted(s for s in scores if s >= threshold))


def test_the_cap_keeps_the_highest_scores(maskrcnn, raw, photo):
    saved = settings(maskrcnn, score_threshold=0.0, nms_iou=1.0, max_proposals=3)
    try:
        kept = maskrcnn._proposals(raw, photo.size)
    finally:
        settings(maskrcnn, **saved)
    assert [p.score for p in kept] == pytest.approx(sorted(raw["scores"].tolist(), reverse=True)[:3])


def greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    order, keep = list(np.argsort(-scores)), []
    for i in order:
        if all(box_iou(boxes[i], boxes[j]) <= iou for j in keep):
            keep.append(i)
    return keep


def box_iou(a, b) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_nms_is_class_agnostic(maskrcnn):
    """Two near-identical boxes with different labels: one survives (per-class NMS keeps both)."""
    out = {"boxes": torch.tensor([[10., 10., 50., 50.], [11., 10., 50., 51.], [60., 60., 90., 90.]]),
           "scores": torch.tensor([0.9, 0.8, 0.7]), "labels": torch.tensor([1, 3, 3])}
    saved = settings(maskrcnn, score_threshold=0.0, nms_iou=0.5, max_proposals=100)
    try:
        kept = maskrcnn._proposals(out, (100, 100))
    finally:
        settings(maskrcnn, **saved)
    assert [(p.label, p.score) for p in kept] == [("person", pytest.approx(0.9)), ("car", pytest.approx(0.7))]


def test_nms_matches_an_independent_greedy_nms_on_the_model_output(maskrcnn, raw, photo):
    saved = settings(maskrcnn, score_threshold=0.0, nms_iou=0.3, max_proposals=1000)
    try:
        kept = maskrcnn._proposals(raw, photo.size)
    finally:
        settings(maskrcnn, **saved)
    boxes = raw["boxes"].numpy().copy()
    boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, photo.size[0])
    boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, photo.size[1])
    expected = greedy_nms(boxes, raw["scores"].numpy(), 0.3)
    assert [p.box for p in kept] == [pytest.approx(tuple(boxes[i]), abs=1e-3) for i in expected]


def test_a_batch_gives_what_single_images_give(maskrcnn, single, photo):
    flipped = photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    one, two = maskrcnn.batch([photo, flipped])
    assert np.allclose([p.box for p in one], [p.box for p in single], atol=1e-2)
    assert two and all(0 <= p.box[0] < p.box[2] <= photo.size[0] for p in two)


def test_faster_rcnn_gives_boxes_without_masks(fasterrcnn_weights, photo):
    source = build_source(f"fasterrcnn:{fasterrcnn_weights}?{FAST},score_threshold=0", device="cpu")
    props = source(photo)
    assert props and all(p.mask is None and p.score is not None for p in props)


def test_missing_weights_name_the_file_the_folder_and_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    with pytest.raises(MissingWeightsError) as exc:
        DetectorSource("maskrcnn")
    message = str(exc.value)
    assert DETECTORS["maskrcnn"].file in message
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in message
    assert "maskrcnn_resnet50_fpn_v2(weights='DEFAULT')" in message and "\n" not in message
    with pytest.raises(MissingWeightsError, match="weights file not found: .*nope.pth"):
        build_source(f"maskrcnn:{tmp_path / 'nope.pth'}")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(MissingWeightsError, match="is not maskrcnn_resnet50_fpn_v2 weights"):
        build_source(f"maskrcnn:{junk}")
