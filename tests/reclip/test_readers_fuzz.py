"""hypothesis against the command line's readers: proposal files, masks, program text and
expressions files. Whatever the input, only the project's errors (ReclipError) escape."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grammar import parse_program
from primitives import ReclipError
from reclip.cli.expressions import read_expressions
from reclip.masks import decode_mask
from reclip.proposals.io import read_proposals

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
IMAGE_SIZE = (40, 30)
numbers = st.one_of(st.integers(-2**40, 2**40), st.floats(allow_nan=True, allow_infinity=True), st.booleans())
scalars = st.one_of(st.none(), numbers, st.text(max_size=8))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=30)
rle = st.fixed_dictionaries({"size": st.one_of(st.lists(st.integers(-3, 50), max_size=4), json_values),
                             "counts": st.one_of(st.text(max_size=20), st.lists(st.integers(-5, 3000), max_size=8),
                                                 json_values)})
grids = st.lists(st.lists(st.one_of(st.integers(-1, 2), st.floats(-5, 60)), max_size=8), min_size=1, max_size=6)
masks = st.one_of(rle, grids, json_values)
boxes = st.lists(st.one_of(st.integers(-5, 60), st.floats(allow_nan=True)), min_size=0, max_size=5)
records = st.one_of(boxes, st.fixed_dictionaries({"box": boxes}, optional={"mask": masks, "label": scalars}),
                    st.fixed_dictionaries({"bbox": boxes, "image_id": st.integers(0, 2)},
                                          optional={"segmentation": masks}))
proposal_files = st.one_of(st.lists(records, max_size=5), json_values,
                           st.fixed_dictionaries({"proposals": st.lists(records, max_size=4)}))


def only_project_errors(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ReclipError:
        return None


def written(text: str | bytes) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="reclip-fuzz-"))
    path = folder / "in.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return path


@FUZZ
@given(proposal_files, st.one_of(st.none(), st.integers(0, 2)))
def test_proposal_files_raise_only_project_errors(data, image_id):
    proposals = only_project_errors(read_proposals, written(json.dumps(data)), image_id=image_id,
                                    image_size=IMAGE_SIZE)
    for p in proposals or ():
        assert p.mask is None or p.mask.shape == (IMAGE_SIZE[1], IMAGE_SIZE[0])


@FUZZ
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_proposal_files_of_any_bytes_raise_only_project_errors(raw):
    only_project_errors(read_proposals, written(raw), image_size=IMAGE_SIZE)


@FUZZ
@given(masks, st.one_of(st.none(), st.just(IMAGE_SIZE)))
def test_masks_decode_to_2d_bool_or_raise_project_errors(mask, image_size):
    out = only_project_errors(decode_mask, mask, image_size)
    assert out is None or (isinstance(out, np.ndarray) and out.ndim == 2 and out.dtype == bool)


@FUZZ
@given(st.one_of(st.text(max_size=120),
                 st.lists(st.sampled_from(['find("a")', "relate(", "and(", ", ", "left_of", ")", '"', "\\ud800",
                                           "superlative(", "ordinal(", "2", "#", "\n"]), max_size=30).map("".join)))
def test_program_text_raises_only_project_errors(text):
    only_project_errors(parse_program, text)


@FUZZ
@given(st.one_of(st.text(max_size=200), st.lists(json_values, max_size=4).map(
    lambda rows: "\n".join(json.dumps(r) for r in rows))), st.sampled_from([".txt", ".jsonl"]))
def test_expressions_files_raise_only_project_errors(text, suffix):
    path = written(text).rename(Path(tempfile.mkdtemp()) / f"e{suffix}")
    found = only_project_errors(read_expressions, str(path))
    assert found is None or all(isinstance(e, str) and e.strip() for e in found)
