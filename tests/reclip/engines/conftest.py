"""Tiny detectors saved once per session; loading them never touches the network."""

from __future__ import annotations

import socket

import pytest

pytest.importorskip("transformers")

from detector_models import save_tiny_grounding_dino, save_tiny_owlv2  # noqa: E402


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """Offline as a user without internet is, and any connection attempt fails the test."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")

    def refuse(sock, address):
        raise AssertionError(f"a detector test tried the network: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="session")
def owlv2_dir(tmp_path_factory):
    return str(save_tiny_owlv2(tmp_path_factory.mktemp("owlv2")))


@pytest.fixture(scope="session")
def gdino_dir(tmp_path_factory):
    return str(save_tiny_grounding_dino(tmp_path_factory.mktemp("gdino")))


@pytest.fixture(scope="session")
def sam2_dir(tmp_path_factory):
    from detector_models import save_tiny_sam2

    return str(save_tiny_sam2(tmp_path_factory.mktemp("sam2")))
