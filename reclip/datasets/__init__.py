"""Referring-expression datasets: one record type (``RefRecord``), loaders registered by
format in ``LOADERS`` (refer, mdetr, reclip), ground-truth objects per image, and
detection files matched by image id. A peer of ``reclip.proposals``."""

from reclip.datasets.records import (
    LOADERS, Dataset, DatasetError, GoldObject, RefRecord, Skip, group_by_image, image_key,
    load_dataset, sort_key,
)
from reclip.datasets.detections import Detection, Detections, parse_detections, read_detections
from reclip.datasets import mdetr, reclip_jsonl, refer  # noqa: E402,F401  (register the loaders)
from reclip.datasets.refer import UnsafePickleError, load_plain_pickle

__all__ = [
    "Dataset", "DatasetError", "Detection", "Detections", "GoldObject", "LOADERS", "RefRecord", "Skip",
    "UnsafePickleError", "group_by_image", "image_key", "load_dataset", "load_plain_pickle",
    "parse_detections", "read_detections", "sort_key",
]
