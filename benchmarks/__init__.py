"""Benchmarks run by `make bench` (python -m benchmarks)."""

from __future__ import annotations

import os
from pathlib import Path

# The project's shared data sits beside the checkout (../shared/data), in CI as here.
DEV_FILE = Path(
    os.environ.get(
        "RECLIP_DEV_FILE",
        Path(__file__).resolve().parents[2] / "shared" / "data" / "refcocog_google_val_dev.jsonl",
    )
)
