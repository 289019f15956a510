"""Engine specs: which engine answers ``find`` for a ``--model`` string, and its weight.

Any model spec may end in options ``?KEY=VALUE,...`` (as proposal source specs do):
``weight`` scales that model's logits in an ensemble (default 1.0); detector specs also
take ``temperature`` (their logits are divided by it; default 1.0). Detector specs are
``owlv2[:WHERE]`` and ``grounding-dino[:WHERE]``, WHERE a ``save_pretrained`` folder or a
Hugging Face hub id already in the local cache (default: the kind's reference checkpoint).
Everything else is a CLIP spec (``reclip.clip.parse_spec``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reclip.clip.specs import ModelLoadError

DETECTOR_KINDS = {  # spec name -> the hub checkpoint used when no folder or id is given
    "owlv2": "google/owlv2-base-patch16-ensemble",
    "grounding-dino": "IDEA-Research/grounding-dino-tiny",
}
ENGINE_OPTIONS = ("weight", "temperature")
DEFAULT_WEIGHT = 1.0


@dataclass(frozen=True)
class EngineSpec:
    """A parsed model spec: ``kind`` ("clip", "owlv2", "grounding-dino"), ``model`` (the CLIP
    spec, or the detector's folder / hub id) and its ``weight`` and other ``options``."""

    text: str
    kind: str
    model: str
    weight: float = DEFAULT_WEIGHT
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_detector(self) -> bool:
        return self.kind in DETECTOR_KINDS


def split_options(text: str) -> tuple[str, dict[str, float]]:
    """``"SPEC?weight=2,temperature=0.5"`` -> ("SPEC", {"weight": 2.0, "temperature": 0.5})."""
    base, sep, query = text.rpartition("?")
    if not sep or "=" not in query:
        return text, {}
    options: dict[str, float] = {}
    for item in filter(None, (s.strip() for s in query.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in ENGINE_OPTIONS:
            raise ModelLoadError(f"model spec {text!r}: options after '?' are "
                                 f"{' / '.join(k + '=NUMBER' for k in ENGINE_OPTIONS)}; got {item!r}")
        try:
            options[key] = float(value)
        except ValueError:
            raise ModelLoadError(f"model spec {text!r}: {key} must be a number, got {value.strip()!r}") from None
        low, high = OPTION_RANGE
        if not low <= options[key] <= high:     # nan fails too; beyond, the logits underflow or overflow
            raise ModelLoadError(f"model spec {text!r}: {key} must be between {low:g} and {high:g}, "
                                 f"got {value.strip()}")
    return base.strip(), options


OPTION_RANGE = (1e-6, 1e6)     # weight and temperature


def parse_engine_spec(spec: str) -> EngineSpec:
    """Which engine a ``--model`` string names (see the module docstring)."""
    if not isinstance(spec, str) or not spec.strip():
        raise ModelLoadError(f"a model spec must be a non-empty string, got {spec!r}")
    text = spec.strip()
    base, options = split_options(text)
    weight = options.pop("weight", DEFAULT_WEIGHT)
    if not weight > 0:
        raise ModelLoadError(f"model spec {text!r}: weight must be > 0, got {weight}")
    if options.get("temperature", 1.0) <= 0:
        raise ModelLoadError(f"model spec {text!r}: temperature must be > 0, got {options['temperature']}")
    kind, _, where = base.partition(":")
    if kind in DETECTOR_KINDS:
        return EngineSpec(text, kind, where.strip() or DETECTOR_KINDS[kind], weight, options)
    if options:
        raise ModelLoadError(f"model spec {text!r}: temperature applies to detector engines only "
                             f"({', '.join(DETECTOR_KINDS)}); CLIP logits use the model's logit_scale")
    return EngineSpec(text, "clip", base, weight)


def is_detector_spec(spec: Any) -> bool:
    """Whether ``spec`` names a detector engine (without loading anything)."""
    return isinstance(spec, str) and spec.strip().partition(":")[0].partition("?")[0] in DETECTOR_KINDS
