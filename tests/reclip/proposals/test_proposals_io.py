"""Proposal files: plain boxes, records with masks, COCO results; and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from reclip.proposals.io import ProposalFileError, read_proposals


def write(tmp_path: Path, data, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def rle(mask: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": encoded["size"], "counts": encoded["counts"].decode("ascii")}


def test_plain_boxes_and_wrapped_lists(tmp_path):
    boxes = [[1, 2, 30, 40], [5.5, 6, 7, 8]]
    assert [p.box for p in read_proposals(write(tmp_path, boxes))] == [(1, 2, 30, 40), (5.5, 6, 7, 8)]
    for key in ("proposals", "boxes"):
        assert len(read_proposals(write(tmp_path, {key: boxes}))) == 2


def test_records_with_rle_and_grid_masks_and_labels(tmp_path):
    mask = np.zeros((6, 8), bool)
    mask[1:4, 2:5] = True
    records = [{"box": [2, 1, 5, 4], "mask": rle(mask), "label": "cup"},
               {"box": [0, 0, 8, 6], "mask": mask.astype(int).tolist()},
               {"box": [0, 0, 2, 2]}]
    props = read_proposals(write(tmp_path, records), image_size=(8, 6))
    assert np.array_equal(props[0].mask, mask) and props[0].label == "cup"
    assert np.array_equal(props[1].mask, mask) and props[1].label is None
    assert props[2].mask is None


def test_uncompressed_rle_is_accepted(tmp_path):
    mask = np.zeros((4, 4), bool)
    mask[:, 1] = True   # column-major runs: 4 off, 4 on, 8 off
    props = read_proposals(write(tmp_path, [{"box": [1, 0, 2, 4], "mask": {"size": [4, 4], "counts": [4, 4, 8]}}]))
    assert np.array_equal(props[0].mask, mask)


def test_coco_results_are_xywh_and_filtered_by_image(tmp_path):
    results = [{"image_id": 7, "bbox": [10, 20, 30, 40], "category_id": 3, "score": 0.9},
               {"image_id": 8, "bbox": [0, 0, 5, 5], "category_id": 1, "score": 0.5},
               {"image_id": 7, "bbox": [1, 2, 3, 4], "category_id": 1, "score": 0.4,
                "segmentation": [[1, 2, 4, 2, 4, 6, 1, 6]]}]
    path = write(tmp_path, results)
    props = read_proposals(path, image_id="7", image_size=(50, 70))
    assert [p.box for p in props] == [(10, 20, 40, 60), (1, 2, 4, 6)]
    assert props[0].label == "3" and props[1].mask.shape == (70, 50) and props[1].mask[4, 2]
    with pytest.raises(ProposalFileError, match="COCO results for 2 images \\(7, 8\\); choose one with --image-id"):
        read_proposals(path)
    with pytest.raises(ProposalFileError, match="no boxes for image_id 9"):
        read_proposals(path, image_id=9)
    # a COCO dataset file (instances) works too, through its "annotations"
    assert len(read_proposals(write(tmp_path, {"images": [], "annotations": results}), image_id=8)) == 1


@pytest.mark.parametrize("content, message", [
    ("", "invalid JSON at line 1, column 1"),
    ('{"a": 1}', "an object with keys \\['a'\\]"),
    ("[]", "holds no proposals"),
    ('"boxes"', "expected a JSON list of boxes or records, got str"),
    ("[[1, 2, 3]]", "proposal boxes must have shape"),
    ("[[0, 0, 10, 10], [1, 2, 1, 5]]", "proposal 1: has zero area"),
    ('[{"bbox": [1, 2, 3]}]', "proposal 0: 'bbox' must be 4 numbers"),
    ('[{"box": [0, 0, 4, 4], "mask": {"counts": "x"}}]', "proposal 0: an RLE mask needs 'size' and 'counts'"),
    ('[{"box": [0, 0, 4, 4], "mask": [[[1]]]}]', "a mask must be an RLE dict or a 2-D list"),
    ('[{"image_id": 1, "bbox": [1, 2, 3, 4], "segmentation": [[1, 2, 3, 2, 3, 4]]}]',
     "polygon segmentations need the image size"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ProposalFileError, match=message) as exc:
        read_proposals(path)
    assert str(path) in str(exc.value)


def test_masks_must_match_the_image_and_binary_files_are_refused(tmp_path):
    with pytest.raises(ProposalFileError, match=r"proposal 0: mask grid is 3x2 \(w x h\) but the image is 8x6"):
        read_proposals(write(tmp_path, [{"box": [0, 0, 2, 2], "mask": [[1, 0, 0], [0, 1, 0]]}]), image_size=(8, 6))
    binary = tmp_path / "p.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    with pytest.raises(ProposalFileError, match="not a text \\(JSON\\) file"):
        read_proposals(binary)
    with pytest.raises(ProposalFileError, match="not COCO results"):
        read_proposals(write(tmp_path, [[0, 0, 1, 1]]), image_id=3)


def test_the_shipped_demo_proposals_read_with_their_masks():
    demo = Path(__file__).resolve().parents[3] / "reclip" / "assets" / "demo" / "proposals.json"
    if not demo.is_file():
        pytest.skip("the demo assets are not there yet")
    props = read_proposals(demo, image_size=(224, 224))
    assert all(p.mask is not None and p.mask.shape == (224, 224) and p.label for p in props)
    for p in props:   # each mask lies inside its box
        ys, xs = np.nonzero(p.mask)
        assert xs.min() >= p.box[0] - 1 and xs.max() <= p.box[2] and ys.min() >= p.box[1] - 1 and ys.max() <= p.box[3]


def test_written_proposals_read_back_with_masks_and_labels(tmp_path):
    from interpreter import Proposal
    from reclip.proposals.io import write_proposals

    mask = np.zeros((6, 8), bool)
    mask[1:4, 2:5] = True
    props = [Proposal([2, 1, 5, 4], mask=mask, label="cup"), Proposal([0.5, 0, 8, 6])]
    back = read_proposals(write_proposals(tmp_path / "w.json", props), image_size=(8, 6))
    assert [p.box for p in back] == [p.box for p in props]
    assert np.array_equal(back[0].mask, mask) and back[0].label == "cup"
    assert back[1].mask is None and back[1].label is None


def test_a_proposal_accepts_an_rle_dict_mask_and_refuses_a_corrupt_one():
    import numpy as np

    from interpreter import Proposal
    from reclip.masks import MaskError, encode_mask

    mask = np.zeros((20, 30), dtype=bool)
    mask[5:9, 10:25] = True
    assert np.array_equal(Proposal([10, 5, 25, 9], mask=encode_mask(mask)).mask, mask)
    with pytest.raises(MaskError, match="'size' must be"):
        Proposal([10, 5, 25, 9], mask={"size": [20, 30, 3], "counts": "PP"})
