"""Mixing engines: CLIP models and detectors in one Scorer, each with a weight from its spec.

``build_scorer(["owlv2:DIR?weight=0.5", "ViT-B-32:openai"])`` sums the members' logits,
each multiplied by ``weight / temperature`` (both default 1.0, so by default every model
counts once, as ReCLIP's CLIP ensemble sums its models). The scales differ: CLIP's logits
are ``100 * cosine`` (spread over proposals of a few units), a detector's are log-odds
(spread of ten or more between a hit and the background), so a detector tends to lead an
unweighted mix; lower its weight (``?weight=0.3``) to let CLIP's judgement of attributes count.
CLIP specs of one weight share one ``ClipScorer`` (one isolation pass for all of them).
A single model of weight 1 is returned as is (a plain ``ClipScorer`` or detector engine).
"""

from __future__ import annotations

import threading
from dataclasses import fields
from typing import Any, Iterable, Sequence

import numpy as np
from PIL import Image

from primitives import ReclipError
from reclip.clip.loading import resolve_device
from reclip.engines.grounding_dino import GroundingDinoEngine
from reclip.engines.owlv2 import Owlv2Engine
from reclip.engines.specs import EngineSpec, parse_engine_spec
from reclip.scoring import ClipScorer, ScorerStats

ENGINES = {"owlv2": Owlv2Engine, "grounding-dino": GroundingDinoEngine}
_engines: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


def detector_engine(kind: str, where: str, device: Any = None,
                    precision: str | None = None) -> Owlv2Engine | GroundingDinoEngine:
    """The engine of one detector model, shared by scorers and proposal sources (so the
    proposal source's forward of an image is the scorer's too)."""
    key = (kind, str(where), str(resolve_device(device)), precision)
    with _lock:
        if key not in _engines:
            _engines[key] = ENGINES[kind](where, device=device, precision=precision)
        return _engines[key]


class WeightedEnsemble:
    """A Scorer summing ``weight * member.score(...)`` over its members."""

    def __init__(self, members: Sequence[tuple[Any, float]]) -> None:
        if not members:
            raise ReclipError("an ensemble needs at least one scorer")
        self.members = [(scorer, float(weight)) for scorer, weight in members]

    def score(self, image: Image.Image, proposals: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        out = None
        for scorer, weight in self.members:
            logits = weight * np.asarray(scorer.score(image, proposals, texts), dtype=np.float64)
            out = logits if out is None else out + logits
        return out.astype(np.float32)

    @property
    def stats(self) -> ScorerStats:
        """The members' counters, added up."""
        total = ScorerStats()
        for scorer, _ in self.members:
            for f in fields(ScorerStats):
                setattr(total, f.name, getattr(total, f.name) + getattr(scorer.stats, f.name, 0))
        return total

    def reset_stats(self) -> None:
        for scorer, _ in self.members:
            scorer.reset_stats()


def build_scorer(models: str | Iterable[str] | None = None, *, device: Any = None,
                 download: bool | None = None, **clip_options: Any) -> Any:
    """The Scorer that ``models`` (specs, see ``reclip.engines.specs``) name; ``clip_options``
    (methods, subtract, ...) go to the CLIP scorer. None: ReCLIP's CLIP ensemble."""
    if models is None:
        return ClipScorer.from_pretrained(None, device=device, download=download, **clip_options)
    specs = [parse_engine_spec(m) for m in ([models] if isinstance(models, str) else list(models))]
    if not specs:
        raise ReclipError("no models given; e.g. models=['ViT-B-32:openai'] or ['owlv2:DIR']")
    members: list[tuple[Any, float]] = []
    clip_groups: dict[float, list[EngineSpec]] = {}
    for spec in specs:
        if spec.is_detector:
            engine = detector_engine(spec.kind, spec.model, device, clip_options.get("precision"))
            members.append((engine, spec.weight / spec.options.get("temperature", 1.0)))
        else:
            clip_groups.setdefault(spec.weight, []).append(spec)
    for weight, group in clip_groups.items():
        clip = ClipScorer.from_pretrained([s.model for s in group], device=device, download=download,
                                          **clip_options)
        members.append((clip, weight))
    names = [s.text.partition("?")[0] for s in specs]
    if len(set(names)) != len(names):
        raise ReclipError(f"the same model is listed twice: {names}")
    if len(members) == 1 and members[0][1] == 1.0:
        return members[0][0]
    return WeightedEnsemble(members)
