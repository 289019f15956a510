"""The one record type of every referring-expression dataset (the registry of formats that
make them is ``formats.FORMATS``).

A loader turns a dataset's files into a ``Dataset``: its ``records`` (one per expression),
the ground-truth ``objects`` of each image (the proposals of a ``--proposals gt`` run) and
the entries it had to ``skip`` (malformed, empty sentence), each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from primitives import ReclipError

ImageId = Any        # an int in COCO-derived data; a string is accepted
SentId = Any         # int, or a string a loader makes when the file gives none


class DatasetError(ReclipError):
    """A dataset file that cannot be read, or does not hold what its format promises."""


@dataclass(frozen=True)
class RefRecord:
    """One referring expression: the image, the text, the gold object and the ids.

    ``gold_box`` is [x0, y0, x1, y1] in pixels; ``gold_mask`` a COCO RLE dict (``counts``
    a str) when the dataset has masks. ``sent_id`` is unique within a dataset (the key
    a resumed run skips by). ``kind`` is the dataset's own category of the expression (the
    synthetic benchmark's attribute, relation, ...; None: the compiled structure's kind is used)
    and ``program`` its gold program, when the dataset knows them.
    """

    image: str
    expression: str
    gold_box: tuple[float, float, float, float]
    sent_id: SentId
    image_id: ImageId
    ann_id: Any = None
    ref_id: Any = None
    split: Optional[str] = None
    dataset: Optional[str] = None
    gold_mask: Optional[Mapping[str, Any]] = field(default=None, compare=False)
    kind: Optional[str] = None
    program: Optional[str] = None


@dataclass(frozen=True)
class GoldObject:
    """A ground-truth object of an image: its annotation id, box (xyxy), mask (RLE or None) and label."""

    ann_id: Any
    box: tuple[float, float, float, float]
    mask: Optional[Mapping[str, Any]] = field(default=None, compare=False)
    label: Optional[str] = None


@dataclass(frozen=True)
class Skip:
    """An entry a loader or the runner could not use: ``reason`` is a short category
    (``malformed_record``, ``empty_sentence``, ``missing_image``, ...), ``detail`` says more."""

    sent_id: SentId
    image_id: ImageId
    reason: str
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"sent_id": self.sent_id, "image_id": self.image_id, "reason": self.reason,
                "detail": self.detail}


@dataclass
class Dataset:
    """What a loader returns: records in file order, gold objects per image id, skips."""

    name: str
    records: list[RefRecord]
    objects: dict[Any, list[GoldObject]] = field(default_factory=dict)
    skipped: list[Skip] = field(default_factory=list)

    @property
    def has_masks(self) -> bool:
        """Whether any gold object carries a mask (so masks can be compared)."""
        return any(o.mask is not None for objs in self.objects.values() for o in objs)

    def objects_of(self, image_id: ImageId) -> list[GoldObject]:
        return self.objects.get(image_key(image_id), [])


def image_key(image_id: ImageId) -> str:
    """How images are matched across files: ids as strings ("581857" == 581857)."""
    return str(image_id)


def sort_key(value: Any) -> tuple[int, Any]:
    """A total order over ids that may mix ints and strings (ints first, numerically)."""
    if isinstance(value, bool) or value is None:
        return (2, str(value))
    if isinstance(value, (int, float)):
        return (0, value)
    return (1, str(value))


def group_by_image(records: Iterable[RefRecord]) -> dict[str, list[RefRecord]]:
    """Records per image (by ``image_key``), images in order of first appearance."""
    groups: dict[str, list[RefRecord]] = {}
    for r in records:
        groups.setdefault(image_key(r.image_id), []).append(r)
    return groups


def malformed_skip(entry: Any, position: int, exc: Exception) -> Skip:
    """A Skip for an entry that could not be read; without one sent_id, its position names it."""
    image_id = entry.get("image_id") if isinstance(entry, dict) else None
    sentences = entry.get("sentences") if isinstance(entry, dict) else None
    ids = [s.get("sent_id") for s in sentences if isinstance(s, dict)] if isinstance(sentences, list) else []
    sent_id = ids[0] if len(ids) == 1 and isinstance(ids[0], (int, str)) else f"entry-{position}"
    return Skip(sent_id, image_id if isinstance(image_id, (int, str)) else None, "malformed_record", str(exc))


def move_empty_sentences(dataset: Dataset) -> None:
    """Records with an empty expression move to ``skipped`` (reason ``empty_sentence``)."""
    keep = []
    for r in dataset.records:
        if r.expression.strip():
            keep.append(r)
        else:
            dataset.skipped.append(Skip(r.sent_id, r.image_id, "empty_sentence", "the expression is empty"))
    dataset.records = keep
