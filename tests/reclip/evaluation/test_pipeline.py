"""The pipelined evaluation (--workers N: images loaded and proposed ahead in threads, bounded)
writes exactly the rows of the sequential run, and an interrupted pipelined run resumes to them."""

from __future__ import annotations

import json

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
