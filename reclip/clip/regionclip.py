"""RegionCLIP checkpoints (Zhong et al., CVPR 2022) as CLIP models: ``regionclip-RN50:PATH``.

RegionCLIP's released pretrained files (``regionclip_pretrained-cc_rn50.pth``,
``regionclip_pretrained-cc_rn50x4.pth``) are detectron2 checkpoints, ``{"model": state_dict}``,
of its ``PretrainFastRCNN`` (``detectron2/modeling/meta_arch/clip_rcnn.py``):

- ``backbone.*``: the visual ResNet, RegionCLIP's copy of CLIP's ``ModifiedResNet``
  (``detectron2/modeling/backbone/clip_backbone.py``) with every BatchNorm a detectron2
  ``FrozenBatchNorm2d`` (weight, bias, running_mean, running_var; no ``num_batches_tracked``),
  ``layer4`` (the RoI head's res5) and ``attnpool`` (``create_att_pool`` for
  ``PretrainRes5ROIHeads``) included. Its module names are CLIP's, as are open_clip's.
- ``lang_encoder.*``: ``CLIPLangEncoder``, CLIP's text transformer (QuickGELU) without
  ``logit_scale``; RegionCLIP divides cosines by ``CLSS_TEMP`` = 0.01 instead.
- not needed to score boxes, and dropped: ``teacher_backbone.*`` (the frozen CLIP that made the
  pseudo labels), ``offline_backbone.*`` / ``offline_proposal_generator.*`` (its pretraining RPN).

The mapping is ``backbone.X`` -> ``visual.X``, ``lang_encoder.X`` -> ``X`` of open_clip's
``RN50-quickgelu`` / ``RN50x4-quickgelu`` (the same shapes: RegionCLIP's depth tables in
``build_clip_resnet_backbone`` / ``build_clip_language_encoder``). Every key is accounted for:
one left over, or one the model needs and the file lacks, is a ModelLoadError naming it.

How RegionCLIP looks at a box, and what reclip keeps (``REGION_RESIZE``): test images are resized
to shortest side 800, longest at most 1333, aspect kept, bilinear (``INPUT.MIN_SIZE_TEST``,
``MAX_SIZE_TEST``; detectron2's ``ResizeShortestEdge`` in the test-time ``DatasetMapper``; the
bicubic ``AUG.INTERPOLATION`` is its image-text pretraining's), normalised with OpenAI's mean/std on 0-1 pixels
(``PIXEL_MEAN``/``PIXEL_STD`` of ``configs/pretrain``); boxes are RoIAligned (``ROIAlignV2``:
aligned, adaptive sampling) on the C4 map (stride 16) to 14x14 (RN50) / 18x18 (RN50x4)
(``POOLER_RESOLUTION``), then ``layer4`` and ``attnpool``: exactly reclip's ``region`` path.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import open_clip
import torch

from reclip.clip.checkpoint import read_weights_file
from reclip.clip.pixels import OPENAI_MEAN, OPENAI_STD
from reclip.clip.specs import ModelLoadError

PREFIX = "regionclip-"
#: RegionCLIP's architectures -> open_clip's configs of the same shapes (QuickGELU text tower).
ARCHS = {"RN50": "RN50-quickgelu", "RN50x4": "RN50x4-quickgelu"}
VISUAL, TEXT = "backbone.", "lang_encoder."
#: Prefixes of a pretraining checkpoint that scoring does not use (teacher CLIP, offline RPN).
UNUSED = ("teacher_backbone.", "teacher_roi_heads.", "offline_backbone.", "offline_proposal_generator.")
CLSS_TEMP = 0.01                      # RegionCLIP's MODEL.CLIP.CLSS_TEMP: logits = cosine / 0.01
REGION_RESIZE = (800, 1333)           # INPUT.MIN_SIZE_TEST, INPUT.MAX_SIZE_TEST


def is_regionclip(arch: str | None) -> bool:
    """Whether a spec's architecture names a RegionCLIP checkpoint (``regionclip-RN50``)."""
    return bool(arch) and arch.lower().startswith(PREFIX)


def open_clip_arch(arch: str) -> str:
    """The open_clip config for ``regionclip-NAME``; an unknown NAME is a ModelLoadError."""
    name = arch[len(PREFIX):]
    for known, config in ARCHS.items():
        if name.lower() == known.lower():
            return config
    raise ModelLoadError(f"unknown RegionCLIP architecture {arch!r}; RegionCLIP released "
                         f"{', '.join(PREFIX + a for a in ARCHS)}")


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    state = obj.get("model", obj) if isinstance(obj, dict) else None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(f"{path} is not a RegionCLIP checkpoint: expected a detectron2 file "
                             "{'model': state_dict} of tensors")
    return state


def mapped_state(state: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """RegionCLIP key names -> open_clip's; an unknown prefix is an error naming the keys."""
    out, strange = {}, []
    for key, value in state.items():
        if key.startswith(VISUAL):
            out["visual." + key[len(VISUAL):]] = value
        elif key.startswith(TEXT):
            out[key[len(TEXT):]] = value
        elif not key.startswith(UNUSED):
            strange.append(key)
    if strange:
        raise ModelLoadError(f"{path}: unexpected keys (not backbone., lang_encoder. or the teacher/RPN "
                             f"of pretraining): {_listing(strange)}")
    return out


def _filled(model: torch.nn.Module, mapped: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """What RegionCLIP's file cannot hold by design: FrozenBatchNorm2d keeps no
    ``num_batches_tracked`` (unused in eval mode) and the text tower has no logit scale."""
    own = model.state_dict()
    out = dict(mapped)
    for key, value in own.items():
        if key.endswith(".num_batches_tracked") and key not in out:
            out[key] = torch.zeros_like(value)
    out.setdefault("logit_scale", torch.tensor(math.log(1.0 / CLSS_TEMP)))
    return out


def _check_keys(model: torch.nn.Module, state: dict[str, torch.Tensor], path: Path) -> None:
    own = model.state_dict()
    missing = [_regionclip_name(k) for k in own if k not in state]
    unexpected = [_regionclip_name(k) for k in state if k not in own]
    wrong = [f"{_regionclip_name(k)} {tuple(v.shape)} (expected {tuple(own[k].shape)})"
             for k, v in state.items() if k in own and v.shape != own[k].shape]
    problems = [f"{what}: {_listing(keys)}" for what, keys in
                (("missing keys", missing), ("unexpected keys", unexpected), ("wrong shapes", wrong)) if keys]
    if problems:
        raise ModelLoadError(f"{path} does not fit RegionCLIP's architecture: " + "; ".join(problems))


def _regionclip_name(key: str) -> str:
    """An open_clip key as the RegionCLIP file spells it (for messages)."""
    return VISUAL + key[len("visual."):] if key.startswith("visual.") else TEXT + key


def _listing(keys: list[str], most: int = 8) -> str:
    more = f" and {len(keys) - most} more" if len(keys) > most else ""
    return ", ".join(keys[:most]) + more


def build_regionclip(arch: str, path: Path) -> torch.nn.Module:
    """An open_clip CLIP holding the RegionCLIP checkpoint at ``path`` (float32, CPU)."""
    config = open_clip_arch(arch)
    model = open_clip.CLIP(**open_clip.get_model_config(config))
    state = _filled(model, mapped_state(_state_dict(read_weights_file(path), path), path))
    _check_keys(model, state, path)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()},
                          strict=True)
    open_clip.set_model_preprocess_cfg(model, {
        "size": model.visual.image_size, "mean": OPENAI_MEAN, "std": OPENAI_STD,
        "interpolation": "bicubic", "resize_mode": "squash", "fill_color": 0,
    })
    return model


def tokenizer_for(arch: str) -> Any:
    return open_clip.get_tokenizer(open_clip_arch(arch))
