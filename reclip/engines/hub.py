"""Loading a transformers detector offline: a ``save_pretrained`` folder or a hub id already in
the local Hugging Face cache. Nothing is ever downloaded (``local_files_only=True``); a model
that is not on this machine is one ``ModelLoadError`` naming it, where it was looked for and
how to provide it. transformers is imported here, when a detector spec is used, never with reclip.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from reclip.clip.loading import resolve_device
from reclip.clip.specs import ModelLoadError
from reclip.engines.specs import DETECTOR_KINDS

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
MODEL_CLASSES = {"owlv2": "Owlv2ForObjectDetection", "grounding-dino": "GroundingDinoForObjectDetection",
                 "sam2": "Sam2Model"}
MODEL_TYPES = {"owlv2": "owlv2", "grounding-dino": "grounding-dino", "sam2": "sam2"}   # config.json's model_type
PROCESSOR_CLASSES = {"owlv2": "Owlv2Processor", "grounding-dino": "GroundingDinoProcessor", "sam2": "Sam2Processor"}
DEFAULT_CHECKPOINTS = {**DETECTOR_KINDS, "sam2": "facebook/sam2.1-hiera-tiny"}
_loaded: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_lock = threading.Lock()


def transformers_module():
    """transformers, or the error saying which extra brings it."""
    try:
        import transformers
    except ImportError:
        raise ModelLoadError("detector engines need transformers: pip install 'reclip[detectors]'") from None
    return transformers


def _hub_cache() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except ImportError:
        return "~/.cache/huggingface/hub"


def hub_fetch_command(kind: str, hub_id: str) -> str:
    model, proc = MODEL_CLASSES[kind], PROCESSOR_CLASSES[kind]
    return (f"python -c \"from transformers import {model} as M, {proc} as P; "
            f"M.from_pretrained('{hub_id}').save_pretrained('DIR'); P.from_pretrained('{hub_id}').save_pretrained('DIR')\"")


def missing_model(kind: str, where: str, cause: str | None = None) -> ModelLoadError:
    """The one error for a detector that is not on this machine."""
    folder = Path(where).expanduser()
    hub_id = where if HUB_ID.match(where) and not folder.exists() else DEFAULT_CHECKPOINTS[kind]
    looked = f"folder {folder} ({'no config.json there' if folder.is_dir() else 'not a folder'})"
    if HUB_ID.match(where):
        looked += f"; Hugging Face cache {_hub_cache()} (repo {where})"
    why = f" ({cause})" if cause else ""
    return ModelLoadError(
        f"{kind} model {where!r} is not available offline{why}: looked in {looked}. reclip never downloads; "
        f"on a machine with internet run {hub_fetch_command(kind, hub_id)} and pass --model {kind}:DIR "
        f"(or copy that machine's Hugging Face cache here)")


def _check_model_type(kind: str, folder: Path) -> None:
    """A folder holding another model (transformers would build it with random layers) is refused."""
    try:
        found = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        found = None
    if found != MODEL_TYPES[kind]:
        raise ModelLoadError(f"{folder} holds a {found or 'unknown'} model, not {kind} "
                             f"(its config.json model_type is {found!r}, expected {MODEL_TYPES[kind]!r})")


def load_detector(kind: str, where: str, device: Any = None) -> tuple[Any, Any]:
    """(model in eval mode on ``device``, processor) for ``kind`` (owlv2, grounding-dino, sam2),
    shared by every scorer and proposal source that names the same model (one copy in memory)."""
    dev = resolve_device(device)
    key = (kind, str(where), str(dev))
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(kind, where, dev)
        return _loaded[key]


def _load(kind: str, where: str, device: Any) -> tuple[Any, Any]:
    transformers = transformers_module()
    transformers.utils.logging.disable_progress_bar()
    folder = Path(where).expanduser()
    source = str(folder) if folder.is_dir() else where
    if not folder.is_dir() and not HUB_ID.match(where):
        raise missing_model(kind, where)
    if folder.is_dir() and not (folder / "config.json").is_file():
        raise missing_model(kind, where)
    if folder.is_dir():
        _check_model_type(kind, folder)
    try:
        model = getattr(transformers, MODEL_CLASSES[kind]).from_pretrained(source, local_files_only=True)
        processor = getattr(transformers, PROCESSOR_CLASSES[kind]).from_pretrained(source, local_files_only=True)
    except (OSError, ValueError, EnvironmentError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise missing_model(kind, where, first) from None
    model = model.eval().to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    return model, processor
