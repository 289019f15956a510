"""reclip checkpoints: the one writer (loading, training and tests use it) and the reader."""

from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path
from typing import Any, Sequence

import torch

from reclip.clip.pixels import OPENAI_MEAN, OPENAI_STD, square_size
from reclip.clip.specs import ModelLoadError

CHECKPOINT_FORMAT = "reclip-clip-v1"
CHECKPOINT_ENTRIES = ("model_cfg", "state_dict", "image_size", "mean", "std")


def save_checkpoint(model: torch.nn.Module, model_cfg: dict, path: str | os.PathLike, *,
                    model_name: str = "custom", mean: Sequence[float] = OPENAI_MEAN,
                    std: Sequence[float] = OPENAI_STD, half: bool = False,
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``model`` in the project's checkpoint format (loadable with weights_only=True).

    ``half`` stores floating tensors as float16 (``load_state_dict`` copies them into the
    float32 model, so loading is unchanged); ``extra`` is kept under ``"training"``.
    """
    dtype = torch.float16 if half else torch.float32
    state = {k: v.detach().cpu().to(dtype) if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "model_name": str(model_name),
        "model_cfg": copy.deepcopy(model_cfg),
        "state_dict": state,
        "image_size": square_size(model_cfg["vision_cfg"]["image_size"]),
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
    }
    if extra:
        ckpt["training"] = extra
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def read_weights_file(path: Path) -> Any:
    """A weights file read with torch.load(weights_only=True), or a ModelLoadError saying why not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # torch's "looks like a TorchScript archive" warning
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle/zip errors come in many types
        if "TorchScript" in str(exc):
            raise ModelLoadError(
                f"{path} is a TorchScript archive (OpenAI's original CLIP .pt format), which cannot be "
                "loaded with torch.load(weights_only=True); use open_clip's conversion of the same "
                "weights (open_clip_pytorch_model.bin from the Hugging Face hub, e.g. "
                "timm/vit_base_patch32_clip_224.openai or timm/resnet50x16_clip.openai)"
            ) from None
        raise ModelLoadError(
            f"cannot read weights file {path} with torch.load(weights_only=True): {exc}. "
            "Expected a reclip checkpoint or an open_clip state dict "
            "(OpenAI's TorchScript .pt archives are not accepted; use the open_clip "
            "conversion from the Hugging Face hub, e.g. timm/vit_base_patch32_clip_224.openai)"
        ) from None


def is_reclip_checkpoint(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == CHECKPOINT_FORMAT


def check_entries(ckpt: dict, path: Path) -> None:
    for key in CHECKPOINT_ENTRIES:
        if key not in ckpt:
            raise ModelLoadError(f"reclip checkpoint {path} has no {key!r} entry")
