"""Model specs and loading: one string names a CLIP model, one function loads it.

A spec is one of

- ``"ViT-B-32:openai"``, ``"RN50x16:openai"``: an open_clip architecture name and a
  pretrained tag (``open_clip.list_pretrained()``). ReCLIP's ``"ViT-B/32"`` spelling
  is accepted; a bare name means its ``openai`` tag where one exists.
- ``"NAME:/path/to/weights.pt"``: an open_clip architecture with weights from a file
  (an open_clip state dict, ``.bin``/``.pt``/``.safetensors``, or a reclip checkpoint).
  OpenAI weights were trained with QuickGELU: tags set it themselves; from a file, name
  the ``-quickgelu`` architecture (``ViT-B-32-quickgelu:/path/weights.bin``), or keep
  "openai" in the file's path (as Hugging Face's ``timm/..._clip_224.openai`` cache
  folders do), which turns it on too.
- ``"/path/to/checkpoint.pt"``: a reclip checkpoint (``save_checkpoint``), which carries
  its own architecture config.
- ``"synthetic"``: the project's small shipped checkpoint, ``reclip/assets/synthetic.pt``.

Nothing is downloaded unless it is missing from the local caches and downloads are
allowed (not with ``HF_HUB_OFFLINE=1`` / ``RECLIP_OFFLINE=1``, nor ``download=False``);
missing weights are one ``ModelLoadError`` naming the model, the tag, the places
open_clip looks, and how to provide a file.
"""

from __future__ import annotations

import copy
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from primitives import ReclipError

CHECKPOINT_FORMAT = "reclip-clip-v1"
SYNTHETIC = "synthetic"
SYNTHETIC_PATH = Path(__file__).resolve().parent / "assets" / "synthetic.pt"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_ENSEMBLE = ("RN50x16:openai", "ViT-B-32:openai")   # ReCLIP's
WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


class ModelLoadError(ReclipError):
    """A model spec is malformed, or its weights are missing or do not fit the architecture."""


@dataclass(eq=False)
class LoadedModel:
    """An open_clip model ready to score: eval mode, on its device, with its preprocessing."""

    name: str
    model: torch.nn.Module
    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    tokenizer: Callable[..., torch.Tensor] = field(repr=False)

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
    def is_vit(self) -> bool:
        from open_clip.transformer import VisionTransformer

        return isinstance(self.model.visual, VisionTransformer)

    @property
    def is_resnet(self) -> bool:
        from open_clip.modified_resnet import ModifiedResNet

        return isinstance(self.model.visual, ModifiedResNet)


# ---------------------------------------------------------------------------- input pixels

def normalise_pixels(pixels: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """(B, 3, S, S) float32 ``(x / 255 - mean) / std`` from 0-255 pixels of any dtype."""
    x = pixels.float() / 255.0
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean_t) / std_t


def square_pixels(images: Sequence[Any], image_size: int, mean: Sequence[float], std: Sequence[float],
                  device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A model's input batch from PIL images: RGB, bicubic square resize (aspect not kept,
    as ReCLIP), normalised, on ``device`` in ``dtype``."""
    import numpy as np

    from reclip.isolation import to_square

    arrays = np.stack([np.asarray(to_square(im, image_size), dtype=np.uint8) for im in images])
    x = torch.from_numpy(arrays).permute(0, 3, 1, 2)
    return normalise_pixels(x, mean, std).to(device=device, dtype=dtype)


# ---------------------------------------------------------------------------- devices

def default_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _place(model: torch.nn.Module, device: torch.device | str | None) -> torch.nn.Module:
    """Eval mode on ``device``; half precision on CUDA (open_clip's fp16 recipe)."""
    import open_clip

    device = torch.device(device) if device is not None else default_device()
    model = model.eval().to(device)
    if device.type == "cuda":
        open_clip.convert_weights_to_lp(model, dtype=torch.float16)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def _size(value: Any) -> int:
    """open_clip image sizes may be ints or (h, w) pairs; our resize is square."""
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ModelLoadError(f"non-square model input size {tuple(value)} is not supported")
        value = value[0]
    return int(value)


def wrap_model(model: torch.nn.Module, name: str, *, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None, tokenizer: Callable | None = None,
               device: torch.device | str | None = None) -> LoadedModel:
    """A LoadedModel around an open_clip CLIP module (placed on ``device``, eval mode)."""
    import open_clip

    pp = open_clip.get_model_preprocess_cfg(model)
    mean = tuple(float(v) for v in (mean if mean is not None else pp.get("mean", OPENAI_MEAN)))
    std = tuple(float(v) for v in (std if std is not None else pp.get("std", OPENAI_STD)))
    if tokenizer is None:
        tokenizer = open_clip.SimpleTokenizer(context_length=int(getattr(model, "context_length", 77)))
    size = _size(pp.get("size", getattr(model.visual, "image_size", None)))
    return LoadedModel(name, _place(model, device), size, mean, std, tokenizer)


def model_from_config(model_cfg: dict) -> torch.nn.Module:
    """An open_clip CLIP (random weights) from a config dict like open_clip's model_configs/*.json."""
    import open_clip

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
    import open_clip

    text_cfg = model_cfg.get("text_cfg", {})
    if text_cfg.get("hf_tokenizer_name"):
        raise ModelLoadError(
            f"model config uses the Hugging Face tokenizer {text_cfg['hf_tokenizer_name']!r}; "
            "reclip checkpoints support CLIP's own BPE tokenizer only"
        )
    return open_clip.SimpleTokenizer(
        context_length=int(text_cfg.get("context_length", 77)), **text_cfg.get("tokenizer_kwargs", {})
    )


# ------------------------------------------------------------------- reclip checkpoints

def save_checkpoint(model: torch.nn.Module, model_cfg: dict, path: str | os.PathLike, *,
                    model_name: str = "custom", mean: Sequence[float] = OPENAI_MEAN,
                    std: Sequence[float] = OPENAI_STD) -> Path:
    """Write ``model`` in the project's checkpoint format (loadable with weights_only=True)."""
    image_size = _size(model_cfg["vision_cfg"]["image_size"])
    state = {k: v.detach().cpu().float() if v.is_floating_point() else v.detach().cpu()
             for k, v in model.state_dict().items()}
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "model_name": str(model_name),
        "model_cfg": copy.deepcopy(model_cfg),
        "state_dict": state,
        "image_size": image_size,
        "mean": [float(v) for v in mean],
        "std": [float(v) for v in std],
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


def _read_file(path: Path) -> Any:
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


def _load_reclip_checkpoint(ckpt: dict, path: Path, name: str, device) -> LoadedModel:
    import open_clip

    for key in ("model_cfg", "state_dict", "image_size", "mean", "std"):
        if key not in ckpt:
            raise ModelLoadError(f"reclip checkpoint {path} has no {key!r} entry")
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
                      tokenizer=_tokenizer_for(ckpt["model_cfg"]), device=device)


# ------------------------------------------------------------------------ model specs

@dataclass(frozen=True)
class ModelSpec:
    """A parsed spec: ``arch`` (open_clip name or None) with a ``tag`` or a weights ``path``."""

    text: str
    arch: str | None
    tag: str | None = None
    path: Path | None = None


def _looks_like_path(s: str) -> bool:
    return (os.sep in s or "/" in s or s.startswith(".") or s.startswith("~")
            or s.lower().endswith(WEIGHT_SUFFIXES) or os.path.isfile(s))


def _is_arch(name: str) -> bool:
    import open_clip

    return open_clip.get_model_config(name) is not None


def parse_spec(spec: str) -> ModelSpec:
    """Split a model spec string (see the module docstring)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ModelLoadError(f"a model spec must be a non-empty string, got {spec!r}")
    text = spec.strip()
    if text == SYNTHETIC:
        return ModelSpec(text, None, path=SYNTHETIC_PATH)
    if os.path.isfile(os.path.expanduser(text)) or (
            _looks_like_path(text) and ":" not in text and not _is_arch(text.replace("/", "-"))):
        return ModelSpec(text, None, path=Path(os.path.expanduser(text)))
    arch, sep, rest = text.partition(":")
    arch = arch.strip().replace("/", "-")   # ReCLIP/OpenAI spell ViT-B/32
    rest = rest.strip()
    if not arch:
        raise ModelLoadError(f"model spec {spec!r} has no architecture name before ':'")
    if sep and not rest:
        raise ModelLoadError(f"model spec {spec!r} has nothing after ':'; give a tag or a file path")
    if rest and _looks_like_path(rest):
        return ModelSpec(text, arch, path=Path(os.path.expanduser(rest)))
    return ModelSpec(text, arch, tag=rest or None)


def _openai_file(spec: ModelSpec) -> bool:
    """OpenAI's weights need QuickGELU; a file whose path says "openai" (as the Hugging Face
    cache's timm/*_clip_*.openai folders do) gets it, as the ``openai`` tag would."""
    import open_clip

    if spec.arch.endswith("-quickgelu") or "openai" not in str(spec.path).lower():
        return False
    return bool(open_clip.get_pretrained_cfg(spec.arch, "openai").get("quick_gelu", False))


def _check_arch(arch: str) -> None:
    import open_clip

    if open_clip.get_model_config(arch) is None:
        import difflib

        close = difflib.get_close_matches(arch, open_clip.list_models(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelLoadError(f"unknown open_clip architecture {arch!r}{hint} (see open_clip.list_models())")


def _tag_for(arch: str, tag: str | None) -> str:
    import open_clip

    tags = open_clip.list_pretrained_tags_by_model(arch)
    if tag is None:
        if "openai" in tags:
            return "openai"
        raise ModelLoadError(
            f"model {arch!r} needs a pretrained tag or a weights file: "
            f"'{arch}:TAG' with TAG one of {tags or '(none known)'}, or '{arch}:/path/to/weights.pt'"
        )
    if not open_clip.is_pretrained_cfg(arch, tag):
        raise ModelLoadError(
            f"unknown pretrained tag {tag!r} for {arch!r}; known tags: {', '.join(tags) or '(none)'}. "
            f"For weights in a file use '{arch}:/path/to/weights.pt'"
        )
    return tag


def offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "RECLIP_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_files(cfg: dict) -> tuple[str | None, list[str]]:
    """The Hugging Face repo and the file names open_clip would fetch for a tag."""
    from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

    hub = cfg.get("hf_hub", "")
    if not hub:
        return None, []
    repo, filename = os.path.split(hub)
    filename = filename or HF_WEIGHTS_NAME
    names = [HF_SAFE_WEIGHTS_NAME] if filename == HF_WEIGHTS_NAME else []
    if filename.endswith((".bin", ".pth")) and filename != HF_WEIGHTS_NAME:
        names.append(filename[:-4] + ".safetensors")
    return repo, names + [filename]


def _url_cache_dir() -> Path:
    return Path(os.path.expanduser("~/.cache/clip"))   # open_clip's default for URL downloads


def _cached_weights(cfg: dict) -> tuple[str | None, list[str]]:
    """A cached weights file for a pretrained cfg (no network), and the places looked at."""
    looked: list[str] = []
    repo, names = _hub_files(cfg)
    if repo:
        try:
            from huggingface_hub import constants, try_to_load_from_cache

            for name in names:
                hit = try_to_load_from_cache(repo, name)
                if isinstance(hit, str) and os.path.isfile(hit):
                    return hit, looked
            looked.append(f"Hugging Face cache {constants.HF_HUB_CACHE} (repo {repo}, files {', '.join(names)})")
        except ImportError:
            pass
    url = cfg.get("url", "")
    if url:
        target = _url_cache_dir() / os.path.basename(url)
        if target.is_file():
            return str(target), looked
        looked.append(f"{target} (download URL {url})")
    return None, looked


def _missing_weights(arch: str, tag: str, looked: list[str], cause: str | None = None) -> ModelLoadError:
    where = "; ".join(looked) or "(no download location known)"
    why = f" Download failed: {cause}." if cause else (
        " Downloads are off (HF_HUB_OFFLINE / RECLIP_OFFLINE set, or download=False)." if offline() else "")
    return ModelLoadError(
        f"weights for model {arch!r} with pretrained tag {tag!r} are not available offline. "
        f"open_clip looked in: {where}.{why} To provide them, either put the file in that cache "
        f"(on a machine with internet, with `pip install open_clip_torch huggingface_hub`, run "
        f"`python -c \"import open_clip; open_clip.create_model('{arch}', pretrained='{tag}')\"` "
        f"and copy the cache over), "
        f"or download the weights file yourself and pass `--model {arch}:/path/to/weights.pt`"
        + (" (OpenAI weights: use the -quickgelu architecture name, e.g. "
           f"`--model {arch}-quickgelu:/path/to/weights.pt`)" if tag == "openai" else "")
    )


def _download_host(cfg: dict) -> str | None:
    """The host open_clip would download a pretrained cfg's weights from."""
    if cfg.get("hf_hub"):
        from urllib.parse import urlparse

        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        return urlparse(endpoint).hostname
    if cfg.get("url"):
        from urllib.parse import urlparse

        return urlparse(cfg["url"]).hostname
    return None


def _reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    import socket

    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _resolve_tag_file(arch: str, tag: str, download: bool | None) -> tuple[str, dict]:
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, tag)
    path, looked = _cached_weights(cfg)
    if path:
        return path, cfg
    if download is False or (download is None and offline()):
        raise _missing_weights(arch, tag, looked)
    host = _download_host(cfg)
    if host and not _reachable(host):
        # Without this check the hub client retries for about a minute per model, printing
        # each failure, before the error a user needs.
        raise _missing_weights(arch, tag, looked, cause=f"cannot reach {host} (no network?)")
    try:
        path = open_clip.download_pretrained(cfg)
    except Exception as exc:  # network errors come from urllib, requests, huggingface_hub...
        first_line = (str(exc).strip().splitlines() or [""])[0][:200]
        raise _missing_weights(arch, tag, looked, cause=f"{type(exc).__name__}: {first_line}") from None
    if not path or not os.path.isfile(path):
        raise _missing_weights(arch, tag, looked)
    return path, cfg


def _create_open_clip(arch: str, weights: str, *, quick_gelu: bool, mean=None, std=None):
    import open_clip

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
    import open_clip

    try:
        return open_clip.get_tokenizer(arch)
    except Exception as exc:
        raise ModelLoadError(f"cannot build the tokenizer of {arch!r} offline: {exc}") from None


def load_model(spec: str, device: torch.device | str | None = None, *,
               download: bool | None = None) -> LoadedModel:
    """Resolve a model spec and load it: eval mode, on ``device`` (CUDA if present), fp16 on CUDA.

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
        obj = _read_file(parsed.path)
        if is_reclip_checkpoint(obj):
            return _load_reclip_checkpoint(obj, parsed.path, parsed.text, device)
        if parsed.arch is None:
            raise ModelLoadError(
                f"{parsed.path} is not a reclip checkpoint (no format={CHECKPOINT_FORMAT!r}); "
                f"for an open_clip state dict name its architecture: '--model ViT-B-32:{parsed.path}'"
            )
        del obj
        _check_arch(parsed.arch)
        model = _create_open_clip(parsed.arch, str(parsed.path), quick_gelu=_openai_file(parsed))
        return wrap_model(model, parsed.text, tokenizer=_tokenizer_for_arch(parsed.arch), device=device)
    _check_arch(parsed.arch)
    tag = _tag_for(parsed.arch, parsed.tag)
    weights, cfg = _resolve_tag_file(parsed.arch, tag, download)
    model = _create_open_clip(parsed.arch, weights, quick_gelu=bool(cfg.get("quick_gelu", False)),
                              mean=cfg.get("mean", OPENAI_MEAN), std=cfg.get("std", OPENAI_STD))
    name = f"{parsed.arch}:{tag}"
    return wrap_model(model, name, mean=cfg.get("mean"), std=cfg.get("std"),
                      tokenizer=_tokenizer_for_arch(parsed.arch), device=device)


def load_models(specs: str | LoadedModel | Sequence[str | LoadedModel] | None,
                device: torch.device | str | None = None, *,
                download: bool | None = None) -> list[LoadedModel]:
    """Several specs (or already-loaded models); None = ReCLIP's ensemble."""
    if specs is None:
        specs = DEFAULT_ENSEMBLE
    if isinstance(specs, (str, LoadedModel)):
        specs = [specs]
    specs = list(specs)
    if not specs:
        raise ModelLoadError("no models given; e.g. models=['ViT-B-32:openai']")
    out = [s if isinstance(s, LoadedModel) else load_model(s, device, download=download) for s in specs]
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise ModelLoadError(f"the same model is listed twice: {names}")
    return out
