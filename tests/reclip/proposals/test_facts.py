"""A proposal source's registry entry carries its facts (issue 24, issue 19 item 2): what it
gives, what it needs, its options with types, ranges and defaults; consumers read them."""

from __future__ import annotations

import numpy as np
import pytest

from interpreter import Proposal
from reclip.proposals import (
    PROPOSAL_SOURCES, SourceOption, ProposalSourceError, SourceFacts, build_source, declare, facts_of, spec_usage,
)
from reclip.proposals.facts import SourceOptionError


def test_the_built_in_sources_declare_what_they_give_and_need():
    assert facts_of(PROPOSAL_SOURCES.get("maskrcnn")).gives == {"boxes", "masks", "labels", "scores"}
    assert "masks" not in facts_of(PROPOSAL_SOURCES.get("fasterrcnn")).gives
    assert "masks" in facts_of(PROPOSAL_SOURCES.get("sam")).gives
    assert any("checkpoint" in need for need in facts_of(PROPOSAL_SOURCES.get("sam")).needs)
    assert facts_of(PROPOSAL_SOURCES.get("maskrcnn")).option("score_threshold").default == 0.3


@pytest.mark.parametrize("value, ok", [(0.5, True), (0, True), (1, True), (1.5, False), (float("nan"), False),
                                       ("abc", False), (True, False), (-0.1, False)])
def test_an_option_checks_its_type_and_range(value, ok):
    option = SourceOption("t", float, 0.5, 0, 1)
    if ok:
        assert option.check(value, "spec") == float(value)
    else:
        with pytest.raises(SourceOptionError, match="spec: option 't' must be a number from 0 to 1"):
            option.check(value, "spec")


def test_a_users_declared_source_is_listed_checked_and_its_masks_reach_the_evaluation(tmp_path):
    from reclip.evaluation.config import EvalConfig
    from reclip.evaluation.sources import run_proposals

    mask = np.zeros((20, 30), bool)
    mask[2:5, 3:9] = True

    def stamp(arg=None, size=4):
        return lambda image: [Proposal([3, 2, 9, 5], mask, "thing", 0.5)] * size

    PROPOSAL_SOURCES.add("stamp", declare(stamp, SourceFacts(
        gives=frozenset({"boxes", "masks"}), options=(SourceOption("size", int, 4, 1, 8),))))
    assert "stamp" in spec_usage()
    with pytest.raises(ProposalSourceError, match="takes no option 'colour' \\(it takes: size=4\\)"):
        build_source("stamp?colour=1")
    with pytest.raises(SourceOptionError, match="option 'size' must be a whole number from 1 to 8, got 9"):
        build_source("stamp?size=9")
    assert len(build_source("stamp?size=2")(_image())) == 2
    config = EvalConfig(dataset="refer", files={}, images=str(tmp_path), proposals="stamp")
    assert run_proposals(config, dataset=None).has_masks          # read from the facts, not a name list
    PROPOSAL_SOURCES.add("plain", lambda arg=None: (lambda image: [[0, 0, 5, 5]]))
    plain = EvalConfig(dataset="refer", files={}, images=str(tmp_path), proposals="plain")
    assert not run_proposals(plain, dataset=None).has_masks


def _image():
    from PIL import Image
    return Image.new("RGB", (30, 20))


def test_a_weights_file_replaced_in_place_gets_new_proposals_not_cached_ones(tmp_path):
    """Caches (memory, disk, built sources) are keyed by the files' contents, not their names."""
    import os

    from reclip.proposals import proposal_source

    weights = tmp_path / "w.bin"

    def from_weights(path=None):
        size = float(len(open(path, "rb").read()))      # the "model": its box grows with the file
        return lambda image: [[0, 0, size, size]]

    PROPOSAL_SOURCES.add("weighted", from_weights)
    spec = f"weighted:{weights}"
    weights.write_bytes(b"x" * 5)
    first = proposal_source(spec, cache_dir=tmp_path / "cache")(_image())
    stat = weights.stat()
    weights.write_bytes(b"y" * 7)                          # replaced in place, same name
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    second = proposal_source(spec, cache_dir=tmp_path / "cache")(_image())
    assert (first[0].box[2], second[0].box[2]) == (5.0, 7.0)
