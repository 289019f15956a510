"""The pipelined evaluation (--workers N: images loaded and proposed ahead in threads, bounded)
writes exactly the rows of the sequential run, and an interrupted pipelined run resumes to them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from refexp_data import build_refexp_data
from reclip import Locator
from reclip.evaluation.config import EvalConfig
from reclip.evaluation.lock import LOCK
from reclip.evaluation.loop import pipeline
from reclip.evaluation.run import run_evaluation


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pipeline")
    data = build_refexp_data(tmp / "data", scenes=4)
    config = EvalConfig("refer", {"root": str(data.refer_root), "dataset": "refcocog", "split_by": "umd"},
                        str(data.images), "gt", split="val", methods=("crop",))
    locator = Locator.from_pretrained("synthetic", methods=["crop"])
    run_evaluation(config, tmp / "sequential", progress=False, locator=locator, log=lambda line: None)
    return tmp, config, locator


def text(out) -> str:
    return (out / "predictions.jsonl").read_text()


def test_the_pipelined_run_writes_the_rows_of_the_sequential_run(setup):
    tmp, config, locator = setup
    config = EvalConfig(**{**config.__dict__, "workers": 3})
    summary = run_evaluation(config, tmp / "piped", progress=False, locator=locator, log=lambda line: None)
    assert text(tmp / "piped") == text(tmp / "sequential")          # same rows, same order
    assert summary == json.loads((tmp / "sequential" / "summary.json").read_text())


class Interrupting:
    """The synthetic scorer, until its ``at``-th call: then Ctrl-C."""

    def __init__(self, inner, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0

    def score(self, image, proposals, texts):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.inner.score(image, proposals, texts)


def test_an_interrupted_pipelined_run_resumes_to_the_sequential_rows(setup):
    tmp, config, locator = setup
    config = EvalConfig(**{**config.__dict__, "workers": 2})
    out = tmp / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config, out, progress=False, locator=Locator(Interrupting(locator.scorer, at=3)),
                       log=lambda line: None)
    assert not (out / LOCK).exists()                                  # the lock went with the run
    partial = text(out).splitlines()
    assert 0 < len(partial) < len(text(tmp / "sequential").splitlines())
    run_evaluation(config, out, progress=False, locator=locator, log=lambda line: None)
    assert text(out) == text(tmp / "sequential")


def test_the_pipeline_keeps_order_and_prepares_a_bounded_number_ahead():
    import threading
    import time

    prepared, lock = [], threading.Lock()

    class Stages:
        def prepare(self, group):
            time.sleep(0.01 * (len(group) % 3))      # finish out of order
            with lock:
                prepared.append(group[0])
            return group

        def answer(self, group):
            with lock:
                ahead = len(prepared) - group[0]     # prepared but not yet answered, this one included
            assert ahead <= 2 * 2 + 1
            return [{"g": group[0]}], [], []

    groups = [[i] * (1 + i % 4) for i in range(12)]
    answers = [rows[0]["g"] for _, (rows, _, _) in pipeline(groups, Stages(), workers=2)]
    assert answers == list(range(12))


# ---------------------------------------------------------------- crops made ahead, batched across images

def batching_locator(batch_size: int | None = 10_000) -> Locator:
    locator = Locator.from_pretrained("synthetic", methods=["crop", "blur"])
    locator.scorer.batch_size = batch_size
    locator.scorer.max_batch = max(locator.scorer.max_batch, batch_size or 0)
    return locator


def two_method_config(setup, workers: int) -> EvalConfig:
    return EvalConfig(**{**setup[1].__dict__, "methods": ("crop", "blur"), "workers": workers})


@pytest.fixture(scope="module")
def sequential_two_methods(setup):
    tmp = setup[0]
    locator = batching_locator(None)
    run_evaluation(two_method_config(setup, 0), tmp / "seq-2", progress=False, locator=locator, log=lambda line: None)
    return tmp / "seq-2", locator.scorer.stats


def test_crops_made_ahead_and_batched_across_images_write_the_sequential_rows(setup, sequential_two_methods):
    tmp = setup[0]
    seq_out, seq_stats = sequential_two_methods
    locator = batching_locator()
    run_evaluation(two_method_config(setup, 2), tmp / "batched", progress=False, locator=locator, log=lambda line: None)
    stats = locator.scorer.stats
    assert text(tmp / "batched") == text(seq_out)
    assert seq_stats.regions_prefilled == 0                          # sequential: no crops made ahead
    assert stats.images_encoded == seq_stats.images_encoded          # no crop encoded twice
    assert stats.regions_prefilled == stats.images_encoded           # every crop came from the workers
    assert stats.region_misses == 0                                  # score found them all in the cache
    assert stats.image_forwards <= seq_stats.image_forwards


def test_encode_prepared_batches_several_images_in_one_forward_and_score_gives_the_same_logits(setup):
    from PIL import Image

    images = sorted((setup[0] / "data" / "images").iterdir())[:3]
    pictures = [Image.open(p).convert("RGB") for p in images]
    boxes = [[(0, 0, 20, 30), (10, 5, 60, 50), (30, 30, 90, 80), (10, 5, 60, 50)] for _ in pictures]
    texts = ["the red ball", "a blue cube"]
    plain = batching_locator(None).scorer
    expected = [plain.score(im, b, texts) for im, b in zip(pictures, boxes, strict=True)]

    batched = batching_locator(10_000).scorer
    prepared = [batched.prepare(im, b) for im, b in zip(pictures, boxes, strict=True)]
    assert batched.encode_prepared(prepared) == 3                    # all three images ...
    assert batched.stats.image_forwards == 1                         # ... in one forward
    assert batched.stats.images_encoded == 3 * 3 * 2                 # 3 distinct boxes x 2 methods each
    got = [batched.score(im, b, texts) for im, b in zip(pictures, boxes, strict=True)]
    assert batched.stats.images_encoded == 3 * 3 * 2 and batched.stats.region_misses == 0
    for g, e in zip(got, expected, strict=True):
        assert np.array_equal(g, e)

    small = batching_locator(8).scorer                               # 6 crops per image: one image at a time
    assert small.encode_prepared([small.prepare(im, b) for im, b in zip(pictures, boxes, strict=True)]) == 1
    assert plain.encode_prepared([None, prepared[0]]) == 1           # nothing prepared: taken, nothing encoded


class InterruptingBatches:
    """A batching scorer that is interrupted (Ctrl-C) at its ``at``-th batch encoding."""

    def __init__(self, inner, at: int) -> None:
        self.inner, self.at, self.calls = inner, at, 0
        self.score, self.prepare = inner.score, inner.prepare

    def encode_prepared(self, prepared):
        self.calls += 1
        if self.calls == self.at:
            raise KeyboardInterrupt
        return self.inner.encode_prepared(prepared)


def test_an_interrupted_batching_run_resumes_to_the_sequential_rows(setup, sequential_two_methods):
    tmp = setup[0]
    out = tmp / "batched-interrupted"
    config = two_method_config(setup, 1)
    scorer = batching_locator(12).scorer                             # two images' crops at most
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(config, out, progress=False, locator=Locator(InterruptingBatches(scorer, at=2)),
                       log=lambda line: None)
    partial = text(out).splitlines()
    assert 0 < len(partial) < len(text(sequential_two_methods[0]).splitlines())
    run_evaluation(config, out, progress=False, locator=batching_locator(), log=lambda line: None)
    assert text(out) == text(sequential_two_methods[0])


def test_the_pipeline_hands_the_prepared_images_in_line_to_encode_ahead_and_answers_them_in_order():
    import time

    calls = []

    class Stages:
        def prepare(self, group):
            if group[0] == 0:
                time.sleep(0.3)            # the others are prepared by the time the first is
            return group[0]

        def encode_ahead(self, prepared):
            calls.append(list(prepared))
            return 2                       # covers two images: the next call comes two answers later

        def answer(self, g):
            return [{"g": g}], [], []

    answers = [rows[0]["g"] for _, (rows, _, _) in pipeline([[i] for i in range(6)], Stages(), workers=2)]
    assert answers == list(range(6))
    assert calls[0] == [0, 1, 2, 3]                      # the first, waited for, and those already prepared
    assert [c[0] for c in calls] == [0, 2, 4]


def test_the_cli_batch_size_reaches_the_scorer_and_a_bad_one_is_one_line(tmp_path, monkeypatch):
    import contextlib
    import io

    from reclip.cli.main import main
    from reclip.scoring import ClipScorer
    from reclip.synthetic import dataset as synth

    seen = []
    encode = ClipScorer.encode_prepared
    monkeypatch.setattr(ClipScorer, "encode_prepared", lambda self, p: seen.append(self.batch_size) or encode(self, p))

    synth.write_dataset(tmp_path / "data", scenes=3, seed=2)

    def run(out: str, *extra: str) -> tuple[int, str]:
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["eval", "synthetic", str(tmp_path / "data"), "--out", str(tmp_path / out),
                         "--method", "crop,blur", "--no-progress", *extra])
        return code, err.getvalue()

    assert run("seq")[0] == 0
    code, err = run("batched", "--workers", "2", "--batch-size", "50")
    assert code == 0, err
    assert text(tmp_path / "batched") == text(tmp_path / "seq")
    assert seen and set(seen) == {50}
    code, err = run("bad", "--workers", "2", "--batch-size", "0")
    assert code == 2 and "Traceback" not in err
    assert "--batch-size must be at least 1 crop, got 0" in err.strip().splitlines()[-1]
