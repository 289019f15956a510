"""Pretrained weights: open_clip's caches, offline mode, and the one clear error when missing.

Nothing is downloaded unless it is missing from the local caches and downloads are
allowed (not with ``HF_HUB_OFFLINE=1`` / ``RECLIP_OFFLINE=1``, nor ``download=False``);
missing weights are one ``ModelLoadError`` naming the model, the tag, the places
open_clip looks, and how to provide a file.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import open_clip
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME

from reclip.clip.specs import ModelLoadError


def offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "RECLIP_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _hub_files(cfg: dict) -> tuple[str | None, list[str]]:
    """The Hugging Face repo and the file names open_clip would fetch for a tag."""
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
        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        return urlparse(endpoint).hostname
    if cfg.get("url"):
        return urlparse(cfg["url"]).hostname
    return None


def _reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_tag_file(arch: str, tag: str, download: bool | None) -> tuple[str, dict]:
    """The local weights file of ``arch:tag`` (downloaded if allowed) and its pretrained cfg."""
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
