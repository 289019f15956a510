"""Referring-expression datasets: one record type (``RefRecord``), the registry of formats
(``FORMATS``: refer, mdetr, reclip, and the synthetic benchmark's, registered by
``reclip.synthetic``), each entry declaring its loader and the files and options it takes;
ground-truth objects per image, and detection files matched by image id."""

from reclip.datasets.records import (
    Dataset, DatasetError, GoldObject, RefRecord, Skip, group_by_image, image_key, sort_key,
)
from reclip.datasets.formats import FORMATS, Companion, DatasetFormat, Option, load_dataset
from reclip.datasets.detections import Detection, Detections, parse_detections, read_detections
from reclip.datasets import mdetr, reclip_jsonl, refer  # noqa: E402,F401  (register the formats)
from reclip.datasets.refer import UnsafePickleError, load_plain_pickle

__all__ = [
    "Companion", "Dataset", "DatasetError", "DatasetFormat", "Detection", "Detections", "FORMATS",
    "GoldObject", "Option", "RefRecord", "Skip", "UnsafePickleError", "group_by_image", "image_key",
    "load_dataset", "load_plain_pickle", "parse_detections", "read_detections", "sort_key",
]
