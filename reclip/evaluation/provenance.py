"""Every resolved setting that can change a figure, recorded in ``run.json`` under ``resolved``,
so a run can be reproduced from its record and two runs compared setting by setting: the reclip
version, a hash of the grammar and lexicon, each model spec with the file its weights come from
and that file's sha256, the scorer's options with their defaults filled in, and the proposals
(a detections file's hash; a source spec's settings as the built source holds them, its
defaults filled in, and the hash of each weights file it names)."""

from __future__ import annotations

import hashlib
import inspect
from importlib import metadata
from pathlib import Path
from typing import Any, Callable

from primitives import ReclipError

ROOT = Path(__file__).resolve().parents[2]
GRAMMAR = ROOT / "grammar"
# ClipScorer's options that change no figure (memory, batching, placement)
NOT_FIGURES = {"self", "models", "methods", "device", "cache_size", "text_cache_size", "max_batch"}
_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str | Path) -> str | None:
    """A file's sha256 (None when it is not a readable file); remembered per (path, size, mtime)."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _hashes:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            return None
        _hashes[key] = digest.hexdigest()
    return _hashes[key]


def reclip_version() -> str:
    try:
        return metadata.version("reclip")
    except metadata.PackageNotFoundError:
        pyproject = ROOT / "pyproject.toml"
        for line in pyproject.read_text(encoding="utf-8").splitlines() if pyproject.is_file() else []:
            if line.startswith("version"):
                return line.split("=", 1)[1].strip().strip('"') + "+checkout"
        return "unknown"


def grammar_sha256() -> str:
    """One hash over the grammar files (*.lark) and the lexicon: what decides how text compiles."""
    digest = hashlib.sha256()
    for path in sorted(GRAMMAR.rglob("*.lark")) + [GRAMMAR / "lexicon.py"]:
        if path.is_file():
            digest.update(path.relative_to(GRAMMAR).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def model_facts(spec: str) -> dict[str, Any]:
    """A model spec, the weights file it resolves to (without downloading) and the file's sha256."""
    from reclip.clip.specs import parse_spec
    from reclip.clip.weights import resolve_tag_file

    try:
        parsed = parse_spec(spec)
        path = parsed.path
        if path is None:
            path = Path(resolve_tag_file(parsed.arch, parsed.tag or "openai", False)[0])
    except (ReclipError, OSError, ValueError, TypeError, KeyError):
        return {"spec": spec, "weights": None, "sha256": None}
    return {"spec": spec, "weights": str(path), "sha256": file_sha256(path)}


def defaults(factory: Callable, skip: set[str] = frozenset()) -> dict[str, Any]:
    """A callable's keyword defaults (JSON-able ones), its first parameter and ``skip`` left out."""
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.name not in skip and p.default is not p.empty
            and isinstance(p.default, (int, float, str, bool, type(None), tuple, list))}


def scorer_options(methods: Any, baseline: bool) -> dict[str, Any]:
    """The scorer's options with defaults filled in; each method with all its options' values
    (its spec carries those that differ from the defaults: ``global_local?alpha=0.95``)."""
    from reclip.isolation import get_method, parse_method
    from reclip.scoring import ClipScorer

    resolved = []
    for method in methods:
        spec = parse_method(method)
        resolved.append({"method": spec.name, **dict(get_method(spec.name).options), **spec.kwargs})
    return {"methods": resolved, "baseline": baseline, **defaults(ClipScorer.__init__, NOT_FIGURES)}


SCALARS = (int, float, str, bool, type(None))


def built_settings(source: Any, depth: int = 0) -> dict[str, Any]:
    """A built proposal source's settings as it holds them (its defaults filled in): the public
    scalar attributes of the innermost object behind the wrappers (``.source``), and the box
    source prompting it (``.prompts``)."""
    while hasattr(source, "source") and depth < 8:
        source, depth = source.source, depth + 1
    out = {k: v for k, v in sorted(vars(source).items()) if not k.startswith("_") and isinstance(v, SCALARS)
           and k not in ("cacheable", "device")} if hasattr(source, "__dict__") else {}
    for key, value in list(out.items()):
        if isinstance(value, str) and Path(value).is_file():
            out[f"{key}_sha256"] = file_sha256(value)
    prompts = getattr(source, "prompts", None)
    if prompts is not None and depth < 8:
        out["prompts"] = built_settings(prompts, depth + 1)
    return out


def proposal_facts(proposals: str | None, built: Any = None) -> dict[str, Any]:
    """gt; a detections file and its hash; or a source spec with the settings of the source built."""
    if proposals is None or proposals == "gt":
        return {"source": proposals}
    if Path(proposals).is_file():
        return {"file": str(Path(proposals).resolve()), "sha256": file_sha256(proposals)}
    return {"spec": proposals, **({"settings": built_settings(built)} if built is not None else {})}


_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def data_facts(files: dict[str, str]) -> dict[str, Any]:
    """The sha256 of each dataset file (a folder: of each annotation file directly in it, images
    left out), so a resume onto a dataset changed in place is refused like one with another model."""
    facts: dict[str, Any] = {}
    for name, value in sorted(files.items()):
        path = Path(value)
        if path.is_dir():
            facts[name] = {p.name: file_sha256(p) for p in sorted(path.iterdir())
                           if p.is_file() and p.suffix.lower() not in _IMAGE_SUFFIXES}
        else:
            facts[name] = file_sha256(path)
    return facts


def resolved_settings(config: Any, built_source: Any = None) -> dict[str, Any]:
    """What ``run.json`` records under ``resolved`` for an ``EvalConfig`` (and the proposal source
    built for it, when it is a spec's)."""
    return {"reclip_version": reclip_version(), "grammar_sha256": grammar_sha256(),
            "data": data_facts(config.files),
            "models": [model_facts(m) for m in config.models],
            "scorer": scorer_options(config.methods, config.baseline),
            "proposals": proposal_facts(config.proposals, built_source)}
