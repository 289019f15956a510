"""Loading a CLIP model from a spec: one function, ``load_model``, for every spec form."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Sequence

import open_clip
import torch
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import VisionTransformer

from reclip.clip.checkpoint import CHECKPOINT_FORMAT, check_entries, is_reclip_checkpoint, read_weights_file
from reclip.clip.pixels import OPENAI_MEAN, OPENAI_STD, square_size
from reclip.clip.precision import autocast, resolve_precision
from reclip.clip.regionclip import REGION_RESIZE, build_regionclip, is_regionclip, tokenizer_for
from reclip.clip.specs import (
    DEFAULT_ENSEMBLE, SYNTHETIC, SYNTHETIC_PATH, ModelLoadError, _check_arch, _openai_file, _tag_for,
    parse_spec,
)
from reclip.clip.weights import resolve_tag_file
from reclip.files import read_json

CONFIGS = Path(__file__).resolve().parent / "configs"


def vision_family(model: torch.nn.Module) -> str | None:
    """The image tower's family: "vit" (open_clip VisionTransformer), "resnet" (ModifiedResNet) or None.

    ``model`` may be a CLIP model or its visual tower.
    """
    visual = getattr(model, "visual", model)
    if isinstance(visual, VisionTransformer):
        return "vit"
    if isinstance(visual, ModifiedResNet):
        return "resnet"
    return None


def model_config(name: str) -> dict[str, Any]:
    """An architecture config shipped in ``reclip/clip/configs/NAME.json`` (open_clip's layout)."""
    path = CONFIGS / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in CONFIGS.glob("*.json")))
        raise ModelLoadError(f"no model config {name!r} in {CONFIGS} (known: {known})")
    return read_json(path, "model config", ModelLoadError)


@dataclass(eq=False)
class LoadedModel:
    """An open_clip model ready to score: eval mode, on its device, with its preprocessing."""

    name: str
    model: torch.nn.Module
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    tokenizer: Callable[..., torch.Tensor] = field(repr=False)
    #: the region path's input size, (shortest side, longest cap) with the aspect kept, as the
    #: model was trained for regions (RegionCLIP); None = the model's square ``image_size``
    region_resize: tuple[int, int] | None = None
    precision: str = "fp32"     # reclip.clip.precision: the dtype every forward autocasts to

    def autocast(self) -> ContextManager:
        """The context each forward of this model runs in (its ``precision``)."""
        return autocast(self.precision, self.device)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype image pixels must have: that of the first convolution (open_clip's fp16
        conversion leaves embeddings and norms in float32)."""
        conv = getattr(self.model.visual, "conv1", None)
        if isinstance(conv, torch.nn.Module) and getattr(conv, "weight", None) is not None:
            return conv.weight.dtype
        return next(self.model.visual.parameters()).dtype

    @property
    def family(self) -> str | None:
        """The image tower's family (see vision_family)."""
        return vision_family(self.model)


def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``device`` as a torch device this machine has (``default_device()`` for None);
    an unknown name or an accelerator that is not there is a ModelLoadError."""
    if device is None:
        return default_device()
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ModelLoadError(f"unknown device {str(device)!r}: use cpu, cuda, cuda:N or mps") from None
    if device.type != "cpu" and not _available(device.type):
        raise ModelLoadError(f"device {str(device)!r} was asked for but this machine has no "
                             f"{device.type.upper()} device available; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ModelLoadError(f"device {str(device)!r}: this machine has {torch.cuda.device_count()} "
                             "CUDA device(s)")
    return device


def _available(kind: str) -> bool:
    """Whether this machine can run tensors on device type ``kind`` (torch parsed the name;
    xla, meta, ipu... have no backend here, or hold no data, so they are refused)."""
    checks = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available,
              "xpu": lambda: hasattr(torch, "xpu") and torch.xpu.is_available()}
    return kind in checks and bool(checks[kind]())


def place(model: torch.nn.Module, device: torch.device | str | None) -> torch.nn.Module:
    """Eval mode on ``device``, weights in float32 everywhere: half precision is autocast's job
    (``reclip.clip.precision``). (open_clip's ``convert_weights_to_lp`` halves linear and conv
    weights but not a plain ``LayerNorm``'s, so a model built without ``LayerNormFp32`` failed
    on CUDA with mixed dtypes: found on an H200, tests/reclip/test_gpu.py.)"""
    device = resolve_device(device)
    model = model.eval().to(device=device, dtype=torch.float32)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def wrap_model(model: torch.nn.Module, name: str, *, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None, tokenizer: Callable | None = None,
               device: torch.device | str | None = None, precision: str | None = None,
               region_resize: tuple[int, int] | None = None) -> LoadedModel:
    """A LoadedModel around an open_clip CLIP module (placed on ``device``, eval mode, float32
    weights; ``precision`` None = fp16 on CUDA, fp32 elsewhere)."""
    pp = open_clip.get_model_preprocess_cfg(model)
    mean = tuple(float(v) for v in (mean if mean is not None else pp.get("mean", OPENAI_MEAN)))
    std = tuple(float(v) for v in (std if std is not None else pp.get("std", OPENAI_STD)))
    if tokenizer is None:
        tokenizer = open_clip.SimpleTokenizer(context_length=int(getattr(model, "context_length", 77)))
    size = square_size(pp.get("size", getattr(model.visual, "image_size", None)))
    model = place(model, device)
    precision = resolve_precision(precision, next(model.parameters()).device)
    return LoadedModel(name, model, size, mean, std, tokenizer, region_resize, precision)


def model_from_config(model_cfg: dict) -> torch.nn.Module:
    """An open_clip CLIP (random weights) from a config dict like open_clip's model_configs/*.json."""
    cfg = copy.deepcopy(model_cfg)
    custom_text = cfg.pop("custom_text", False) or "hf_model_name" in cfg.get("text_cfg", {})
    if "multimodal_cfg" in cfg:
        raise ModelLoadError("CoCa models are not supported; use a CLIP architecture")
    cls = open_clip.CustomTextCLIP if custom_text else open_clip.CLIP
    try:
        return cls(**cfg)
    except (TypeError, KeyError, ValueError, AssertionError) as exc:
        raise ModelLoadError(f"invalid open_clip model config: {exc}") from None


def _tokenizer_for(model_cfg: dict) -> Callable:
    text_cfg = model_cfg.get("text_cfg", {})
    if text_cfg.get("hf_tokenizer_name"):
        raise ModelLoadError(
            f"model config uses the Hugging Face tokenizer {text_cfg['hf_tokenizer_name']!r}; "
            "reclip checkpoints support CLIP's own BPE tokenizer only"
        )
    return open_clip.SimpleTokenizer(
        context_length=int(text_cfg.get("context_length", 77)), **text_cfg.get("tokenizer_kwargs", {})
    )


def _load_reclip_checkpoint(ckpt: dict, path: Path, name: str, device, precision) -> LoadedModel:
    check_entries(ckpt, path)
    model = model_from_config(ckpt["model_cfg"])
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as exc:
        raise ModelLoadError(f"checkpoint {path} does not match its own model_cfg: {exc}") from None
    size = int(ckpt["image_size"])
    open_clip.set_model_preprocess_cfg(model, {
        "size": size, "mean": tuple(ckpt["mean"]), "std": tuple(ckpt["std"]),
        "interpolation": "bicubic", "resize_mode": "squash", "fill_color": 0,
    })
    return wrap_model(model, name, mean=ckpt["mean"], std=ckpt["std"],
                      tokenizer=_tokenizer_for(ckpt["model_cfg"]), device=device, precision=precision)


def _create_open_clip(arch: str, weights: str, *, quick_gelu: bool, mean=None, std=None):
    pp = {"mean": tuple(mean), "std": tuple(std)} if mean is not None else None
    try:
        return open_clip.create_model(arch, pretrained=weights, force_quick_gelu=quick_gelu,
                                      force_preprocess_cfg=pp, weights_only=True)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"weights file {weights} does not load into open_clip architecture {arch!r}: "
            f"{type(exc).__name__}: {str(exc)[:500]}"
        ) from None


def _tokenizer_for_arch(arch: str) -> Callable:
    try:
        return open_clip.get_tokenizer(arch)
    except Exception as exc:
        raise ModelLoadError(f"cannot build the tokenizer of {arch!r} offline: {exc}") from None


def load_model(spec: str, device: torch.device | str | None = None, *,
               download: bool | None = None, precision: str | None = None) -> LoadedModel:
    """Resolve a model spec and load it: eval mode, on ``device`` (CUDA if present), running in
    ``precision`` (``reclip.clip.precision``; None = fp16 on CUDA, fp32 elsewhere).

    ``download``: None = allowed unless HF_HUB_OFFLINE/RECLIP_OFFLINE is set; False = never.
    """
    parsed = parse_spec(spec)
    if parsed.path is not None:
        if not parsed.path.is_file():
            if parsed.text == SYNTHETIC:
                raise ModelLoadError(
                    f"the shipped synthetic checkpoint is missing: {SYNTHETIC_PATH} "
                    "(reinstall reclip, or regenerate it with the synthetic benchmark's trainer)"
                )
            raise ModelLoadError(f"weights file not found: {parsed.path} (from model spec {spec!r})")
        if is_regionclip(parsed.arch):
            return wrap_model(build_regionclip(parsed.arch, parsed.path), parsed.text,
                              tokenizer=tokenizer_for(parsed.arch), device=device, precision=precision,
                              region_resize=REGION_RESIZE)
        obj = read_weights_file(parsed.path)
        if is_reclip_checkpoint(obj):
            return _load_reclip_checkpoint(obj, parsed.path, parsed.text, device, precision)
        if parsed.arch is None:
            raise ModelLoadError(
                f"{parsed.path} is not a reclip checkpoint (no format={CHECKPOINT_FORMAT!r}); "
                f"for an open_clip state dict name its architecture: '--model ViT-B-32:{parsed.path}'"
            )
        del obj
        _check_arch(parsed.arch)
        model = _create_open_clip(parsed.arch, str(parsed.path), quick_gelu=_openai_file(parsed))
        return wrap_model(model, parsed.text, tokenizer=_tokenizer_for_arch(parsed.arch), device=device,
                          precision=precision)
    if is_regionclip(parsed.arch):
        raise ModelLoadError(f"model spec {spec!r}: a RegionCLIP model loads from its checkpoint file, "
                             f"'{parsed.arch}:/path/to/regionclip_pretrained-cc_rn50.pth'")
    _check_arch(parsed.arch)
    tag = _tag_for(parsed.arch, parsed.tag)
    weights, cfg = resolve_tag_file(parsed.arch, tag, download)
    model = _create_open_clip(parsed.arch, weights, quick_gelu=bool(cfg.get("quick_gelu", False)),
                              mean=cfg.get("mean", OPENAI_MEAN), std=cfg.get("std", OPENAI_STD))
    name = f"{parsed.arch}:{tag}"
    return wrap_model(model, name, mean=cfg.get("mean"), std=cfg.get("std"),
                      tokenizer=_tokenizer_for_arch(parsed.arch), device=device, precision=precision)


def load_models(specs: str | LoadedModel | Sequence[str | LoadedModel] | None,
                device: torch.device | str | None = None, *,
                download: bool | None = None, precision: str | None = None) -> list[LoadedModel]:
    """Several specs (or already-loaded models); None = ReCLIP's ensemble."""
    if specs is None:
        specs = DEFAULT_ENSEMBLE
    if isinstance(specs, (str, LoadedModel)):
        specs = [specs]
    specs = list(specs)
    if not specs:
        raise ModelLoadError("no models given; e.g. models=['ViT-B-32:openai']")
    out = [s if isinstance(s, LoadedModel) else load_model(s, device, download=download, precision=precision)
           for s in specs]
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ModelLoadError(f"the same model is listed twice: {names}")
    return out
