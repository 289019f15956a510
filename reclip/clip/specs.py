"""Model specs: one string names a CLIP model, in one of four forms:

- ``"tag"``: ``"ViT-B-32:openai"``, ``"RN50x16:openai"``: an open_clip architecture name and a
  pretrained tag (``open_clip.list_pretrained()``). ReCLIP's ``"ViT-B/32"`` spelling
  is accepted; a bare name means its ``openai`` tag where one exists.
- ``"file"``: ``"NAME:/path/to/weights.pt"``: an open_clip architecture with weights from a file
  (an open_clip state dict, ``.bin``/``.pt``/``.safetensors``, or a reclip checkpoint).
  OpenAI weights were trained with QuickGELU: tags set it themselves; from a file, name
  the ``-quickgelu`` architecture (``ViT-B-32-quickgelu:/path/weights.bin``), or keep
  "openai" in the file's path (as Hugging Face's ``timm/..._clip_224.openai`` cache
  folders do), which turns it on too.
- ``"checkpoint"``: ``"/path/to/checkpoint.pt"``: a reclip checkpoint (``reclip.clip.checkpoint``),
  which carries its own architecture config.
- ``"synthetic"``: the project's small shipped checkpoint, ``reclip/assets/synthetic.pt``.

A ``"file"`` spec whose name is ``regionclip-RN50`` or ``regionclip-RN50x4`` loads one of
RegionCLIP's released detectron2 checkpoints (``reclip.clip.regionclip``).

Nothing is downloaded unless it is missing from the local caches and downloads are
allowed (see ``reclip.clip.weights``).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path

import open_clip

from primitives import ReclipError

SYNTHETIC = "synthetic"
SYNTHETIC_PATH = Path(__file__).resolve().parent.parent / "assets" / "synthetic.pt"
DEFAULT_ENSEMBLE = ("RN50x16:openai", "ViT-B-32:openai")   # ReCLIP's
WEIGHT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors", ".ckpt")


class ModelLoadError(ReclipError):
    """A model spec is malformed, or its weights are missing or do not fit the architecture."""


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
    if spec.arch.endswith("-quickgelu") or "openai" not in str(spec.path).lower():
        return False
    return bool(open_clip.get_pretrained_cfg(spec.arch, "openai").get("quick_gelu", False))


def _check_arch(arch: str) -> None:
    if open_clip.get_model_config(arch) is None:
        close = difflib.get_close_matches(arch, open_clip.list_models(), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ModelLoadError(f"unknown open_clip architecture {arch!r}{hint} (see open_clip.list_models())")


def _tag_for(arch: str, tag: str | None) -> str:
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
