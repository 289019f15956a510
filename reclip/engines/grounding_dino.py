"""Grounding DINO (transformers' ``GroundingDinoForObjectDetection``) as a ``find`` engine and a
box source for given texts.

Grounding DINO is text-conditioned: its boxes come from a forward over the image *and* a
prompt. A ``score`` call's texts become phrases (lower case, '.' removed: it separates
phrases) packed in order into prompts ``"p1 . p2 . p3 ."`` of at most the model's
``max_text_len`` tokens, so one forward usually answers every ``find`` of an expression.
Forwards are cached per (image content, prompt's phrases); the proposal source asks for
the same texts, so its forward is the scorer's.

A phrase's score for a box is the **mean of the box's token logits over that phrase's own
tokens** (found by the tokenizer's character offsets within the prompt). The stock
post-processing takes a max over every token of the prompt, so with several phrases in one
prompt a box would score as its best phrase for all of them; the max over the phrase's own
tokens would let "left" alone decide "the left lion"; the mean asks the box to fit the
whole phrase. Logits are log-odds (before the sigmoid), as OWLv2's. Proposals that are not
the forward's boxes are scored by ``reclip.engines.boxes``'s rule.
"""

from __future__ import annotations

import re
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

FORWARD_CACHE = 32   # (image, prompt) forwards: 900 boxes x phrases each, small
SEPARATOR = " . "


@dataclass(frozen=True)
class PromptChunk:
    """One prompt: its phrases and, per phrase, the indices of its own tokens."""

    phrases: tuple[str, ...]
    prompt: str
    input_ids: tuple[int, ...]
    tokens: tuple[tuple[int, ...], ...]


@dataclass
class Forward:
    """One (image, prompt) forward: boxes (Q, 4) in pixels, phrase logits (phrases, Q)."""

    boxes: np.ndarray
    logits: np.ndarray


def phrase_of(text: str) -> str:
    """A find text as a Grounding DINO phrase: lower case, no '.', single spaces."""
    return re.sub(r"\s+", " ", str(text).lower().replace(".", " ")).strip() or "object"


def phrase_tokens(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[tuple[int, ...]]:
    """Per character span, the token positions whose characters lie inside it (special tokens,
    with offset (0, 0), never do)."""
    out = []
    for start, end in spans:
        out.append(tuple(i for i, (a, b) in enumerate(offsets) if b > a and start <= a and b <= end))
    return out


class GroundingDinoEngine:
    """The Scorer contract on Grounding DINO: ``score(image, proposals, texts) -> (T, N)``."""

    kind = "grounding-dino"

    def __init__(self, where: str, *, device: Any = None, precision: str | None = None,
                 forward_cache: int = FORWARD_CACHE) -> None:
        self.name = f"grounding-dino:{where}"
        self.model, self.processor = load_detector("grounding-dino", where, device)
        self.precision = resolve_precision(precision, self.device)   # forwards under autocast
        self.max_tokens = int(self.model.config.max_text_len)
        self.forwards = LRUCache(forward_cache)
        self.stats = ScorerStats()
        self._image_key = ImageKeys()

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # ------------------------------------------------------------------ prompts

    def chunks(self, texts: Sequence[str]) -> list[PromptChunk]:
        """The texts' distinct phrases packed, in order, into prompts that fit the model."""
        phrases = list(dict.fromkeys(phrase_of(t) for t in texts))
        groups: list[list[str]] = []
        used = self.max_tokens
        for phrase in phrases:
            cost = len(self.processor.tokenizer(phrase, add_special_tokens=False)["input_ids"]) + 1  # + its '.'
            if groups and used + cost <= self.max_tokens:
                groups[-1].append(phrase)
                used += cost
            else:
                groups.append([phrase])
                used = 2 + cost   # [CLS] ... [SEP]
        return [self._chunk(tuple(g)) for g in groups]

    def _chunk(self, phrases: tuple[str, ...]) -> PromptChunk:
        prompt = SEPARATOR.join(phrases) + " ."
        spans, at = [], 0
        for p in phrases:
            spans.append((at, at + len(p)))
            at += len(p) + len(SEPARATOR)
        enc = self.processor.tokenizer(prompt, return_offsets_mapping=True, truncation=True,
                                       max_length=self.max_tokens)
        tokens = phrase_tokens(enc["offset_mapping"], spans)
        if not all(tokens):  # a phrase cut off entirely by truncation: it cannot be scored
            lost = [p for p, t in zip(phrases, tokens) if not t]
            raise ReclipError(f"grounding-dino: no tokens left for {lost} in a {self.max_tokens}-token prompt")
        return PromptChunk(phrases, prompt, tuple(enc["input_ids"]), tuple(tokens))

    # ------------------------------------------------------------------ forwards

    def forward(self, image: Image.Image, chunk: PromptChunk) -> Forward:
        """The cached forward of ``image`` with ``chunk``'s prompt."""
        key = (self._image_key(image), chunk.phrases)
        found = self.forwards.get(key)
        if found is not None:
            self.stats.region_hits += 1
            return found
        self.stats.region_misses += 1
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        token_logits, boxes = self._run_model(rgb, chunk)
        rows = [token_logits[:, list(t)].mean(axis=1) for t in chunk.tokens]
        found = Forward(cxcywh_to_xyxy(boxes, rgb.size[0], rgb.size[1], *rgb.size), np.stack(rows))
        self.forwards.put(key, found)
        return found

    def _run_model(self, image: Image.Image, chunk: PromptChunk) -> tuple[np.ndarray, np.ndarray]:
        """(Q, L) token logits and (Q, 4) normalised cxcywh boxes of one forward."""
        pixels = self.processor.image_processor(images=image, return_tensors="pt")
        ids = torch.tensor([chunk.input_ids], device=self.device)
        with torch.inference_mode(), autocast(self.precision, self.device):
            out = self.model(pixel_values=pixels["pixel_values"].to(self.device),
                             pixel_mask=pixels["pixel_mask"].to(self.device), input_ids=ids,
                             attention_mask=torch.ones_like(ids), token_type_ids=torch.zeros_like(ids))
        self.stats.image_forwards += 1
        self.stats.images_encoded += 1
        self.stats.text_forwards += 1
        self.stats.texts_encoded += len(chunk.phrases)
        logits = out.logits[0, :, :ids.shape[1]].float().cpu().numpy().astype(np.float64)
        return logits, out.pred_boxes[0].float().cpu().numpy()

    def predictions(self, image: Image.Image, texts: Sequence[str]) -> list[tuple[Forward, int]]:
        """Per text, the forward that answered it and its row there."""
        where: dict[str, tuple[Forward, int]] = {}
        for chunk in self.chunks(texts):
            fwd = self.forward(image, chunk)
            where.update({p: (fwd, i) for i, p in enumerate(chunk.phrases)})
        return [where[phrase_of(t)] for t in texts]

    # ------------------------------------------------------------------ the contract

    def score(self, image: Image.Image, proposals: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(proposals)) float32 logits (see the module docstring)."""
        if not isinstance(image, Image.Image):
            raise ReclipError(f"image must be a PIL image, got {type(image).__name__}")
        proposals = as_proposals(proposals)
        out = np.zeros((len(texts), len(proposals)), dtype=np.float32)
        for k, (fwd, row) in enumerate(self.predictions(image, list(texts))):
            out[k] = proposal_scores(fwd.boxes, fwd.logits[row:row + 1], proposals)[0]
        return out

    def text_boxes(self, image: Image.Image, texts: Sequence[str], *, max_proposals: int, nms_iou: float,
                   min_score: float) -> list[Proposal]:
        """Boxes for ``texts``: every forward's boxes, each scored by its best phrase
        (sigmoid of the phrase score, labelled with that phrase), NMS, top K."""
        boxes, scores, labels = [], [], []
        for chunk in self.chunks(texts):
            fwd = self.forward(image, chunk)
            best = fwd.logits.argmax(axis=0)
            boxes.append(fwd.boxes)
            scores.append(1.0 / (1.0 + np.exp(-fwd.logits.max(axis=0))))
            labels.extend(chunk.phrases[b] for b in best)
        if not boxes:
            return []
        all_boxes, all_scores = np.concatenate(boxes), np.concatenate(scores)
        keep = nms_order(all_boxes, all_scores, nms_iou, max_proposals)
        return [Proposal([float(v) for v in all_boxes[i]], None, labels[i], float(all_scores[i]))
                for i in keep if all_scores[i] >= min_score]

    def reset_stats(self) -> None:
        self.stats = ScorerStats()

    def clear_cache(self) -> None:
        self.forwards.clear()
