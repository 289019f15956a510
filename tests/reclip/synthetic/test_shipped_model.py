"""The shipped model is what today's code makes.

Training it again takes 13 minutes, so the test replays what decides the weights: the
training set built from the recorded config (hashed) and the first optimiser steps (their
losses, kept in the checkpoint by ``reclip train-synthetic``). A change to the scene or
expression generator, the isolation, the captions, the batches or the loss shows here; the
message says how to retrain.
"""

from __future__ import annotations

import pytest
import torch

from reclip.clip.specs import SYNTHETIC_PATH
from reclip.synthetic import training as tr

RETRAIN = ("retrain it (`reclip train-synthetic --seed {seed} --score-scale {scale} --out "
           "reclip/assets/synthetic.pt --overwrite`) and regenerate README's synthetic table and the demo")


@pytest.fixture(scope="module")
def record() -> dict:
    ckpt = torch.load(SYNTHETIC_PATH, map_location="cpu", weights_only=True)
    return ckpt["training"]


@pytest.fixture(scope="module")
def config(record) -> tr.TrainConfig:
    return tr.TrainConfig(**record["config"])


@pytest.fixture(scope="module")
def data(config) -> tr.TrainingSet:
    return tr.build_training_set(config.seed, config.scenes, tr.image_size())


def test_the_checkpoint_records_how_it_was_made(record, config):
    assert set(record) >= {"config", "training_set_sha256", "first_losses", "reclip_version"}
    assert len(record["first_losses"]) == tr.FINGERPRINT_STEPS
    # the scorer's temperature is the recorded score scale
    state = torch.load(SYNTHETIC_PATH, map_location="cpu", weights_only=True)["state_dict"]
    assert float(state["logit_scale"].float().exp()) == pytest.approx(config.score_scale, rel=1e-3)


def test_todays_code_builds_the_shipped_models_training_set(record, config, data):
    assert tr.training_set_sha256(data) == record["training_set_sha256"], (
        "today's code builds another training set than the shipped model's: "
        + RETRAIN.format(seed=config.seed, scale=config.score_scale))


def test_todays_code_replays_the_shipped_models_first_steps(record, config, data):
    _, losses = tr.train(config, data=data, log=lambda line: None, stop_after=tr.FINGERPRINT_STEPS)
    # exact on the machine that trained it; the tolerance is for other CPUs' float rounding
    assert losses == pytest.approx(record["first_losses"], abs=1e-4), (
        "today's training code takes other first steps than the shipped model's: "
        + RETRAIN.format(seed=config.seed, scale=config.score_scale))
