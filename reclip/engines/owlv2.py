"""OWLv2 (transformers' ``Owlv2ForObjectDetection``) as a ``find`` engine and a box source.

One image forward per image, however many texts and proposals: the vision tower's patch
features, the predicted boxes (one per patch) and the objectness are cached under the
image's content hash. Each text's query embedding is cached; a ``score`` call then applies
only the small class head to the cached features. Logits are OWLv2's per-box class logits
(log-odds, before the sigmoid): a box at p=0.9 against one at p=0.1 is e^4.4, about 80 times
more likely under the softmax over proposals (a spec's ``temperature`` divides them: see
``reclip.engines.ensemble``).
Proposals that are not OWLv2's boxes are scored by ``reclip.engines.boxes``'s rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from PIL import Image

from interpreter import Proposal, as_proposals
from primitives import ReclipError
from reclip.clip.precision import autocast, resolve_precision
from reclip.engines.boxes import cxcywh_to_xyxy, nms_order, proposal_scores
from reclip.engines.hub import load_detector
from reclip.caching import ImageKeys, LRUCache
from reclip.scoring.cache import ScorerStats

IMAGE_CACHE = 8          # images (a base model's 3,600 patch features are ~11 MB)
TEXT_CACHE = 5_000


@dataclass
class ImageEntry:
    """One image's forward: patch features (P, D), boxes (P, 4) in pixels, objectness (P,)."""

    features: torch.Tensor
    boxes: np.ndarray
    objectness: np.ndarray


class Owlv2Engine:
    """The Scorer contract on OWLv2: ``score(image, proposals, texts) -> (T, N)`` logits."""

    kind = "owlv2"

    def __init__(self, where: str, *, device: Any = None, precision: str | None = None,
                 image_cache: int = IMAGE_CACHE, text_cache: int = TEXT_CACHE) -> None:
        self.name = f"owlv2:{where}"
        self.model, self.processor = load_detector("owlv2", where, device)
        self.precision = resolve_precision(precision, self.device)   # forwards under autocast
        self.image_cache, self.text_cache = LRUCache(image_cache), LRUCache(text_cache)
        self.stats = ScorerStats()
        self._image_key = ImageKeys()
        text_cfg = self.model.config.text_config
        self.max_tokens = int(text_cfg.max_position_embeddings)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def score(self, image: Image.Image, proposals: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(proposals)) float32 logits (see the module docstring)."""
        if not isinstance(image, Image.Image):
            raise ReclipError(f"image must be a PIL image, got {type(image).__name__}")
        proposals = as_proposals(proposals)
        if not texts:
            return np.zeros((0, len(proposals)), dtype=np.float32)
        entry = self.image_entry(image)
        return proposal_scores(entry.boxes, self.box_logits(entry, texts), proposals)

    def box_logits(self, entry: ImageEntry, texts: Sequence[str]) -> np.ndarray:
        """(T, P) class logits of every predicted box."""
        queries = self.text_embeddings(texts)
        with torch.inference_mode(), autocast(self.precision, self.device):
            logits, _ = self.model.class_predictor(entry.features[None], queries[None], None)
        return logits[0].T.float().cpu().numpy().astype(np.float64)

    def image_entry(self, image: Image.Image) -> ImageEntry:
        """The cached forward of ``image`` (computed on the first call for its content)."""
        key = self._image_key(image)
        entry = self.image_cache.get(key)
        if entry is not None:
            self.stats.region_hits += 1
            return entry
        self.stats.region_misses += 1
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        pixels = self.processor.image_processor(images=rgb, return_tensors="pt")["pixel_values"]
        with torch.inference_mode(), autocast(self.precision, self.device):
            feature_map, _ = self.model.image_embedder(pixel_values=pixels.to(self.device))
            features = feature_map.reshape(1, -1, feature_map.shape[-1])
            boxes = self.model.box_predictor(features, feature_map)[0]
            objectness = self.model.objectness_predictor(features)[0]
        self.stats.image_forwards += 1
        self.stats.images_encoded += 1
        side = max(rgb.size)   # OWLv2 pads to a square at the bottom and right, then resizes
        entry = ImageEntry(features[0], cxcywh_to_xyxy(boxes.float().cpu().numpy(), side, side, *rgb.size),
                           objectness.float().cpu().numpy().astype(np.float64))
        self.image_cache.put(key, entry)
        return entry

    def text_embeddings(self, texts: Sequence[str]) -> torch.Tensor:
        """(T, D) query embeddings, encoding the uncached texts in one batch."""
        prompts = [str(t).strip().lower() for t in texts]
        got = [self.text_cache.get(p) for p in prompts]
        miss = sorted({p for p, g in zip(prompts, got) if g is None})
        self.stats.text_hits += sum(g is not None for g in got)
        self.stats.text_misses += sum(g is None for g in got)
        if miss:
            tokens = self.processor.tokenizer(miss, padding="max_length", truncation=True,
                                              max_length=self.max_tokens, return_tensors="pt")
            with torch.inference_mode(), autocast(self.precision, self.device):
                out = self.model.owlv2.get_text_features(input_ids=tokens["input_ids"].to(self.device),
                                                         attention_mask=tokens["attention_mask"].to(self.device))
            feats = out if isinstance(out, torch.Tensor) else out.pooler_output
            self.stats.text_forwards += 1
            self.stats.texts_encoded += len(miss)
            new = dict(zip(miss, feats))
            for p, f in new.items():
                self.text_cache.put(p, f)
            got = [g if g is not None else new[p] for p, g in zip(prompts, got)]
        return torch.stack(got)

    def objectness_boxes(self, image: Image.Image, *, max_proposals: int, nms_iou: float,
                         min_score: float) -> list[Proposal]:
        """Class-agnostic proposals: boxes ranked by objectness (sigmoid), NMS, top K."""
        entry = self.image_entry(image)
        scores = 1.0 / (1.0 + np.exp(-entry.objectness))
        keep = nms_order(entry.boxes, scores, nms_iou, max_proposals)
        return [Proposal([float(v) for v in entry.boxes[i]], None, None, float(scores[i]))
                for i in keep if scores[i] >= min_score]

    def reset_stats(self) -> None:
        self.stats = ScorerStats()

    def clear_cache(self) -> None:
        self.image_cache.clear()
        self.text_cache.clear()
