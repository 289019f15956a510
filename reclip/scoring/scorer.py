"""ClipScorer: CLIP logits for (image, proposals, texts), ReCLIP's way, cached and batched.

For every model and isolation method, each proposal is shown to CLIP (see
``reclip.isolation``) and compared with the text prompt:

    logit = logit_scale.exp() * cosine(image feature, text feature)

summed over the models (ReCLIP's ensemble) and over the methods (ReCLIP's
``method_aggregator="sum"``). Each method brings its prompt (``IsolationMethod.prompt``;
ReCLIP's ``"a photo of " + text.lower()``, for ``shade`` ``text.lower() + " is in red
color."``). With a method that mixes the head (``global_local``) the text feature is
``beta * sentence + (1 - beta) * head phrase`` (mixed before normalising; the head comes
from ``FindText.head``; without one, the sentence alone).
With ``subtract`` (Red Circle's score subtraction) every text's logits are reduced by
the mean logits of the other captions in that bank, per model and method.

Speed: region embeddings are cached (LRU, bounded by entries) under
(image content hash, box, mask hash, method, model), text embeddings under
(prompt, model); all uncached isolated images of one ``score`` call go through each
model's image encoder as one batch (split only beyond ``max_batch``).
``ClipScorer.stats`` counts hits, misses, encoder forwards and images encoded.
A pipelined caller may isolate and resize an image's crops ahead, in a worker thread
(``prepare``), and encode those of several images in one forward (``encode_prepared``, up to
``batch_size`` crops), filling the region cache that ``score`` then reads
(``reclip.scoring.batching``); without them, nothing changes. ``isolate="device"`` makes crop and
blur on the model's device (``reclip.scoring.device_isolation``: logits close to, not equal to,
the CPU path's, which is the default).

A method's options travel with it as a spec (``"global_local?alpha=0.95"``,
``reclip.isolation.parse_method``): the scorer hands each method its own options and knows
none of them. Every forward runs in its model's precision (``LoadedModel.autocast``);
embeddings leave the model as float32.

Model/method pairs a model cannot do (``IsolationMethod.towers``: ``global_local`` needs a
ViT, ``region`` a ResNet) are skipped in an ensemble; a method no model can do is an error.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any, Iterable, Sequence

import numpy as np
import torch
from PIL import Image

from interpreter import Proposal, as_proposals
from primitives import ReclipError
from reclip.clip.loading import LoadedModel, load_models, place, resolve_device
from reclip.clip.pixels import normalise_pixels, square_uint8, to_square
from reclip.clip.text import encode_text
from reclip.caching import ImageKeys, LRUCache
from reclip.isolation import (
    FEATURES,
    IsolationError,
    IsolationMethod,
    MethodSpec,
    check_methods,
    get_method,
    isolate_many,
    parse_method,
    require_masks,
)
from reclip.scoring.batching import PreparedCrops, encode_prepared, prepare_crops
from reclip.scoring.cache import ScorerStats, mask_key
from reclip.scoring.device_isolation import check_isolate, device_squares

DEFAULT_METHODS = ("crop", "blur")          # ReCLIP's
DEFAULT_CACHE_SIZE = 20_000                 # region embeddings (~2 KB each at D=512)
DEFAULT_TEXT_CACHE_SIZE = 5_000
GLOBAL_LOCAL_BETA = 0.5


def _on_device(model: LoadedModel, device: torch.device | str) -> LoadedModel:
    """``model`` itself when it is on ``device``; else a copy placed there (never moved in place)."""
    target = resolve_device(device)
    if model.device == target or (target.index is None and model.device.type == target.type):
        return model
    return dataclasses.replace(model, model=place(copy.deepcopy(model.model), target))


def _normalise(x: torch.Tensor) -> torch.Tensor:
    x = x.float()
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


class ClipScorer:
    """The open_clip Scorer: ``score(image, proposals, texts) -> (len(texts), N)`` logits.

    ``models``: LoadedModel objects (``reclip.clip.load_model``); with ``device``, those not
    already there are copied to it (the caller's objects stay where they are); ``methods``:
    names registered in ``reclip.isolation.ISOLATION``, or specs with options
    (``"global_local?alpha=0.95"``); ``subtract``: None or a bank of captions
    whose mean logits are subtracted (Red Circle). ``cache_size`` / ``text_cache_size``
    bound the embedding caches (entries); ``max_batch`` splits very large encoder batches;
    ``batch_size``: crops of several prepared images per forward in ``encode_prepared`` (None:
    one image's, as ``score`` batches them; ``max_batch`` is raised to it).
    """

    def __init__(self, models: Sequence[LoadedModel] | LoadedModel,
                 methods: Sequence[str | MethodSpec] | str = DEFAULT_METHODS,
                 subtract: Sequence[str] | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE,
                 text_cache_size: int = DEFAULT_TEXT_CACHE_SIZE,
                 beta: float = GLOBAL_LOCAL_BETA, max_batch: int = 256, batch_size: int | None = None,
                 isolate: str = "cpu", device: torch.device | str | None = None):
        if isinstance(models, LoadedModel):
            models = [models]
        self.models = list(models)
        if not self.models or not all(isinstance(m, LoadedModel) for m in self.models):
            raise ReclipError("ClipScorer needs a non-empty list of LoadedModel (see reclip.clip.load_model)")
        if device is not None:
            self.models = [_on_device(m, device) for m in self.models]
        self.methods = check_methods(methods)
        self._specs: dict[str, MethodSpec] = {m: parse_method(m) for m in self.methods}
        self._entries: dict[str, IsolationMethod] = {m: get_method(m) for m in self.methods}
        self._pairs = self._model_method_pairs()
        if isinstance(subtract, str):
            subtract = [subtract]
        self.subtract = [str(s) for s in subtract] if subtract else None
        if not 0.0 <= float(beta) <= 1.0:
            raise ReclipError(f"beta must be in [0, 1]; got {beta}")
        self.beta = float(beta)
        if int(max_batch) < 1:
            raise ReclipError(f"max_batch must be >= 1; got {max_batch}")
        if batch_size is not None and int(batch_size) < 1:
            raise ReclipError(f"batch_size must be >= 1 crops (or None: one image at a time); got {batch_size}")
        self.batch_size = None if batch_size is None else int(batch_size)
        self.max_batch = max(int(max_batch), self.batch_size or 0)
        self.isolate = check_isolate(isolate, [m for m in self.methods if not self.is_features(m)])
        self.region_cache = LRUCache(cache_size)
        self.text_cache = LRUCache(text_cache_size)
        self.stats = ScorerStats()
        self._image_key = ImageKeys()

    @classmethod
    def from_pretrained(cls, models: str | Iterable[str] | None = None,
                        methods: Sequence[str] | str = DEFAULT_METHODS, *,
                        device: torch.device | str | None = None, download: bool | None = None,
                        precision: str | None = None, **options: Any) -> "ClipScorer":
        """Load model specs (default: ReCLIP's RN50x16 + ViT-B-32 OpenAI ensemble) and build a
        scorer; ``precision`` fp32 / fp16 / bf16 (None: fp16 on CUDA, fp32 elsewhere)."""
        loaded = load_models(models if models is None or isinstance(models, str) else list(models),
                             device, download=download, precision=precision)
        return cls(loaded, methods, **options)

    # ------------------------------------------------------------------ public

    def score(self, image: Image.Image, proposals: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(proposals)) float32 logits, summed over models and methods."""
        if not isinstance(image, Image.Image):
            raise ReclipError(f"image must be a PIL image, got {type(image).__name__}")
        proposals = as_proposals(proposals)
        texts = list(texts)
        self.check_masks(proposals)
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        out = np.zeros((len(texts), len(proposals)), dtype=np.float32)
        if not texts:
            return out
        regions = self._region_embeddings(rgb, self.region_keys(image, proposals), proposals)
        for model, method in self._pairs:
            img = regions[(model.name, method)]                         # (N, D) normalised
            scale = float(model.model.logit_scale.exp().float().item())
            txt = self._text_embeddings(model, texts, method)           # (T, D) normalised
            logits = scale * (txt @ img.T)
            if self.subtract:
                logits = logits - self._bank_means(model, method, texts, img, scale)
            out += logits.numpy().astype(np.float32)
        return out

    def prepare(self, image: Image.Image, proposals: Sequence[Any]) -> PreparedCrops:
        """The crops ``score(image, proposals, ...)`` would isolate and resize, made now (CPU; safe
        in a worker thread) for ``encode_prepared``."""
        return prepare_crops(self, image, proposals)

    def encode_prepared(self, prepared: Sequence[PreparedCrops | None]) -> int:
        """Encode the first prepared images' missing crops into the region cache (up to
        ``batch_size`` crops per forward); returns how many images it took (at least one)."""
        return encode_prepared(self, prepared)

    def reset_stats(self) -> None:
        self.stats = ScorerStats()

    def clear_cache(self) -> None:
        self.region_cache.clear()
        self.text_cache.clear()

    # ------------------------------------------------------------------ setup checks

    def _model_method_pairs(self) -> list[tuple[LoadedModel, str]]:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ReclipError(f"the same model is listed twice: {names}")
        pairs = []
        for method, entry in self._entries.items():
            able = [m for m in self.models if entry.runs_on(m.family)]
            if not able:
                raise IsolationError(f"isolation method {method!r} needs {entry.requirement()}; models given: {names}")
            pairs.extend((m, method) for m in able)
        return sorted(pairs, key=lambda p: self.models.index(p[0]))

    def model_method_pairs(self) -> list[tuple[LoadedModel, str]]:
        return list(self._pairs)

    def prepares(self, method: str) -> bool:
        """Whether ``prepare`` makes ``method``'s crops (pixel methods isolated on the CPU)."""
        return not self.is_features(method) and self.isolate == "cpu"

    def is_features(self, method: str) -> bool:
        """Whether ``method`` isolates in the model's features (needs the model), not in pixels."""
        return self._entries[method].family == FEATURES

    def region_keys(self, image: Image.Image, proposals: Sequence[Proposal]) -> list[tuple]:
        """The region cache's key of each proposal: (image content hash, box, mask hash or None)."""
        key = self._image_key(image)
        masked = any(entry.needs_mask for entry in self._entries.values())
        return [(key, p.box, mask_key(p) if masked else None) for p in proposals]

    def check_masks(self, proposals: Sequence[Proposal]) -> None:
        need = [m for m, entry in self._entries.items() if entry.needs_mask]
        if need:
            require_masks(need[0], proposals)

    # ------------------------------------------------------------------ regions

    def _region_embeddings(self, image: Image.Image, keys: list[tuple],
                           proposals: Sequence[Proposal]) -> dict[tuple[str, str], torch.Tensor]:
        """(model name, method) -> (N, D) normalised embeddings, encoding only cache misses."""
        first: dict[tuple, int] = {}
        same_as = [first.setdefault(k, i) for i, k in enumerate(keys)]   # copies share one encoding
        found: dict[tuple[str, str], list[torch.Tensor | None]] = {}
        missing: dict[LoadedModel, list[tuple[str, int]]] = {}
        for model, method in self._pairs:
            row = []
            for i, k in enumerate(keys):
                hit = self.region_cache.get((k, method, model.name))
                row.append(hit)
                if hit is None and same_as[i] == i:
                    missing.setdefault(model, []).append((method, i))
            found[(model.name, method)] = row
            self.stats.region_hits += sum(h is not None for h in row)
            self.stats.region_misses += sum(h is None for h in row)
        isolated: dict[tuple[str, int], Image.Image] = {}
        for model, todo in missing.items():
            for (method, i), emb in zip(todo, self._encode_regions(model, image, proposals, todo, isolated)):
                found[(model.name, method)][i] = emb
                self.region_cache.put((keys[i], method, model.name), emb)
        for row in found.values():
            for i, j in enumerate(same_as):
                if row[i] is None:
                    row[i] = row[j]
        return {k: torch.stack(v) for k, v in found.items()}

    def _encode_regions(self, model: LoadedModel, image: Image.Image, proposals: Sequence[Proposal],
                        todo: list[tuple[str, int]], isolated: dict) -> list[torch.Tensor]:
        """Normalised float32 CPU embeddings for ``todo`` = [(method, proposal index)]."""
        out: dict[tuple[str, int], torch.Tensor] = {}
        pixel_jobs = [(m, i) for m, i in todo if self._entries[m].family != FEATURES]
        if pixel_jobs and self.isolate == "device":
            order, parts = [], []              # every method's squares in one forward
            for m in dict.fromkeys(m for m, _ in pixel_jobs):
                jobs = [(mm, i) for mm, i in pixel_jobs if mm == m]
                parts.append(device_squares(image, [proposals[i] for _, i in jobs], m, model.image_size,
                                            model.device))
                order.extend(jobs)
            out.update(zip(order, self.encode_pixels(model, torch.cat(parts)), strict=True))
        elif pixel_jobs:
            self._isolate(image, proposals, pixel_jobs, isolated)
            squares = [to_square(isolated[j], model.image_size) for j in pixel_jobs]
            for j, emb in zip(pixel_jobs, self._encode_images(model, squares)):
                out[j] = emb
        for method in [m for m, e in self._entries.items() if e.family == FEATURES]:
            idx = [i for m, i in todo if m == method]
            if idx:
                feats = self._features(model, method, image, [proposals[i] for i in idx])
                for i, emb in zip(idx, feats):
                    out[(method, i)] = emb
        return [out[j] for j in todo]

    def _isolate(self, image: Image.Image, proposals: Sequence[Proposal], jobs: list[tuple[str, int]],
                 isolated: dict) -> None:
        """Fill ``isolated`` with the PIL image of each job (shared across models of one call)."""
        by_method: dict[str, list[int]] = {}
        for m, i in jobs:
            if (m, i) not in isolated:
                by_method.setdefault(m, []).append(i)
        for m, idx in by_method.items():
            for i, im in zip(idx, isolate_many(image, [proposals[i] for i in idx], m)):
                isolated[(m, i)] = im

    def _encode_images(self, model: LoadedModel, squares: Sequence[Image.Image]) -> torch.Tensor:
        return self.encode_pixels(model, square_uint8(squares, model.image_size))

    def encode_pixels(self, model: LoadedModel, pixels: torch.Tensor) -> torch.Tensor:
        """Normalised float32 CPU embeddings of (B, 3, S, S) uint8 squares, ``max_batch`` per forward."""
        chunks = []
        with torch.inference_mode(), model.autocast():
            for start in range(0, len(pixels), self.max_batch):
                # uint8 to the device, normalised there: a quarter of the bytes, no float work on the CPU
                batch = pixels[start:start + self.max_batch].to(model.device)
                batch = normalise_pixels(batch, model.mean, model.std).to(dtype=model.dtype)
                chunks.append(_normalise(model.model.encode_image(batch)).cpu())
                self.stats.image_forwards += 1
                self.stats.images_encoded += len(batch)
        return torch.cat(chunks)

    def _features(self, model: LoadedModel, method: str, image: Image.Image,
                  proposals: Sequence[Proposal]) -> torch.Tensor:
        with torch.inference_mode(), model.autocast():
            feats = self._entries[method].run(model, image, proposals, **self._specs[method].kwargs)
        self.stats.image_forwards += 1
        self.stats.images_encoded += len(proposals)
        return _normalise(feats).cpu()

    # ------------------------------------------------------------------ texts

    def _raw_text(self, model: LoadedModel, prompts: Sequence[str]) -> list[torch.Tensor]:
        """Unnormalised float32 text features per prompt, encoding the misses in one batch."""
        got = [self.text_cache.get((p, model.name)) for p in prompts]
        miss = sorted({p for p, g in zip(prompts, got) if g is None})
        self.stats.text_hits += sum(g is not None for g in got)
        self.stats.text_misses += sum(g is None for g in got)
        if miss:
            with torch.inference_mode(), model.autocast():
                tokens = model.tokenizer(miss).to(model.device)
                feats = encode_text(model.model, tokens).float().cpu()
            self.stats.text_forwards += 1
            self.stats.texts_encoded += len(miss)
            new = dict(zip(miss, feats))
            for p, f in new.items():
                self.text_cache.put((p, model.name), f)
            got = [g if g is not None else new[p] for p, g in zip(prompts, got)]
        return got

    def _text_embeddings(self, model: LoadedModel, texts: Sequence[str], method: str) -> torch.Tensor:
        """(T, D) normalised text features for ``method`` (β-mixed with the head where it mixes heads)."""
        entry = self._entries[method]
        sentences = [entry.prompt(t) for t in texts]
        if not entry.mixes_head:
            return _normalise(torch.stack(self._raw_text(model, sentences)))
        heads = [getattr(t, "head", None) for t in texts]
        head_prompts = [entry.prompt(h) for h in heads if h]
        raw = self._raw_text(model, sentences + head_prompts)
        sent, head_feats = raw[:len(texts)], iter(raw[len(texts):])
        mixed = [self.beta * s + (1.0 - self.beta) * next(head_feats) if h else s
                 for s, h in zip(sent, heads)]
        return _normalise(torch.stack(mixed))

    def _bank_means(self, model: LoadedModel, method: str, texts: Sequence[str],
                    img: torch.Tensor, scale: float) -> torch.Tensor:
        """(T, N) mean logits of the bank captions other than each text itself."""
        bank = self.subtract
        bank_logits = scale * (self._text_embeddings(model, bank, method) @ img.T)  # (B, N)
        total = bank_logits.sum(0)
        prompt = self._entries[method].prompt
        bank_prompts = [prompt(b) for b in bank]
        rows = []
        for t in texts:
            own = [j for j, b in enumerate(bank_prompts) if b == prompt(t)]
            n = len(bank) - len(own)
            if n == 0:
                rows.append(torch.zeros_like(total))
            else:
                rows.append((total - bank_logits[own].sum(0)) / n)
        return torch.stack(rows)
