"""refer (lichengunc/refer): ``ROOT/DATASET/refs(SPLITBY).p`` + ``ROOT/DATASET/instances.json``.

The pickle is untrusted input: it is read by an unpickler that refuses every global
(``find_class``), so only plain containers and scalars load and nothing is ever called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, Mapping

from reclip.datasets.coco import CocoInstances, coco_image_name
from reclip.datasets.formats import FORMATS, DatasetFormat, Option
from reclip.datasets.records import (
    Dataset, DatasetError, RefRecord, image_key, malformed_skip, move_empty_sentences,
)

REF_KEYS = ("ref_id", "ann_id", "image_id", "split", "sentences")


class UnsafePickleError(DatasetError):
    """A pickle that would import or call something when loaded (refused, never run)."""


class _PlainUnpickler(pickle.Unpickler):
    """Loads plain containers and scalars only: any global (class, function) is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(
            f"refused to load {module}.{name}: refs pickles hold only lists, dicts, strings and "
            "numbers, and this one would import or call code; it was not run"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused a pickle persistent id: refs pickles hold only plain data")


def load_plain_pickle(path: str | Path) -> Any:
    """Unpickle ``path`` allowing only plain data (py2 byte strings read as latin-1)."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"refs file not found: {path}")
    data = path.read_bytes()
    try:
        return _PlainUnpickler(io.BytesIO(data), encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from None
    except Exception as exc:  # corrupt pickles raise many kinds (EOFError, ValueError, ...)
        raise DatasetError(f"{path}: not a readable refs pickle ({type(exc).__name__}: {exc})") from None


def split_matches(wanted: str | None, split: Any) -> bool:
    """refer's rule: train/val exact; ``test`` any test split; ``testA`` also ``testAB``."""
    if wanted is None:
        return True
    if not isinstance(split, str):
        return False
    if wanted == "test":
        return "test" in split
    if wanted in ("testA", "testB", "testC"):
        return split.startswith("test") and wanted[-1] in split[4:]
    return split == wanted


def refer_paths(root: str | Path, dataset: str, split_by: str) -> tuple[Path, Path]:
    folder = Path(root) / dataset
    return folder / f"refs({split_by}).p", folder / "instances.json"


def load_refer(files: Mapping[str, str], images: str, split: str | None = None) -> Dataset:
    """``files``: ``root``, ``dataset`` (refcoco, refcoco+, refcocog) and ``split_by``
    (unc, google, umd)."""
    try:
        root, name, split_by = files["root"], files["dataset"], files["split_by"]
    except KeyError as exc:
        raise DatasetError(f"the refer format needs {exc.args[0]!r} (root, dataset, split_by)") from None
    refs_path, instances_path = refer_paths(root, name, split_by)
    refs = load_plain_pickle(refs_path)
    if not isinstance(refs, list):
        raise DatasetError(f"{refs_path}: expected a list of refs, got {type(refs).__name__}")
    instances = CocoInstances.read(instances_path)
    out = Dataset(name, [])
    for i, ref in enumerate(refs):
        if isinstance(ref, dict) and not split_matches(split, ref.get("split")):
            continue
        try:
            out.records += _ref_records(ref, instances, images, name)
        except DatasetError as exc:
            out.skipped.append(malformed_skip(ref, i, exc))
    move_empty_sentences(out)
    out.objects = instances.objects({r.image_id for r in out.records})
    return out


def _ref_records(ref: Any, instances: CocoInstances, images: str, name: str) -> list[RefRecord]:
    if not isinstance(ref, dict) or any(k not in ref for k in REF_KEYS):
        raise DatasetError(f"a ref needs {', '.join(REF_KEYS)}")
    if not isinstance(ref["sentences"], list):
        raise DatasetError("a ref's 'sentences' must be a list")
    ann = instances.annotations.get(image_key(ref["ann_id"]))
    if ann is None:
        raise DatasetError(f"ann_id {ref['ann_id']} is not in {instances.path}")
    gold = instances.gold_object(ann)
    image_id = ref["image_id"]
    file_name = instances.file_name(image_id) or coco_image_name(image_id)
    records = []
    for sentence in ref["sentences"]:
        if not isinstance(sentence, dict) or "sent_id" not in sentence:
            raise DatasetError("every sentence needs a 'sent_id'")
        text = sentence.get("raw", sentence.get("sent"))
        if not isinstance(text, str):
            raise DatasetError(f"sentence {sentence['sent_id']} has no text ('raw' or 'sent')")
        records.append(RefRecord(
            image=str(Path(images) / file_name), expression=text.strip(), gold_box=gold.box,
            sent_id=sentence["sent_id"], image_id=image_id, ann_id=ref["ann_id"], ref_id=ref["ref_id"],
            split=str(ref["split"]), dataset=name, gold_mask=gold.mask))
    return records


FORMATS.add("refer", DatasetFormat(
    load=load_refer, help="RefCOCO/RefCOCO+/RefCOCOg from refer's refs(SPLITBY).p + instances.json",
    description="Evaluate on refer's annotations: ROOT/DATASET/refs(SPLITBY).p (read by a restricted "
                "unpickler: plain data only) and ROOT/DATASET/instances.json.",
    files=(Option("root", "refer's data folder (holds DATASET/)", metavar="DATA"),
           Option("dataset", "refcoco, refcoco+ or refcocog"),
           Option("split_by", "unc, google or umd (refs(SPLITBY).p)")),
    split=Option("split", "train, val, test, testA, testB"),
    title=("dataset",)))
