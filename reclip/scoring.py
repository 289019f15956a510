"""ClipScorer: CLIP logits for (image, proposals, texts), ReCLIP's way, cached and batched.

For every model and isolation method, each proposal is shown to CLIP (see
``reclip.isolation`` / ``reclip.features``) and compared with the text prompt:

    logit = logit_scale.exp() * cosine(image feature, text feature)

summed over the models (ReCLIP's ensemble) and over the methods (ReCLIP's
``method_aggregator="sum"``). Prompts are ReCLIP's: ``"a photo of " + text.lower()``,
and for ``shade`` ``text.lower() + " is in red color."``. With ``global_local`` the
text feature is ``beta * sentence + (1 - beta) * head phrase`` (mixed before
normalising; the head comes from ``FindText.head``; without one, the sentence alone).
With ``subtract`` (Red Circle's score subtraction) every text's logits are reduced by
the mean logits of the other captions in that bank, per model and method.

Speed: region embeddings are cached (LRU, bounded by entries) under
(image content hash, box, mask hash, method, model), text embeddings under
(prompt, model); all uncached isolated images of one ``score`` call go through each
model's image encoder as one batch (split only beyond ``max_batch``).
``ClipScorer.stats`` counts hits, misses, encoder forwards and images encoded.

Model/method pairs a model cannot do (``global_local`` needs a ViT, ``region`` a
ResNet) are skipped in an ensemble; a method no model can do is an error.
"""

from __future__ import annotations

import hashlib
import importlib
import weakref
from collections import OrderedDict
from dataclasses import dataclass, fields
from typing import Any, Hashable, Iterable, Sequence

import numpy as np
import torch
from PIL import Image

from interpreter import Proposal, as_proposals
from primitives import ReclipError
from reclip.isolation import (
    ALL_METHODS, FEATURE_METHODS, MASK_METHODS, SHADE_SUFFIX, IsolationError, check_methods,
    isolate_many, to_square,
)
from reclip.models import LoadedModel, load_models, square_pixels

PROMPT_PREFIX = "a photo of "
DEFAULT_METHODS = ("crop", "blur")          # ReCLIP's
DEFAULT_CACHE_SIZE = 20_000                 # region embeddings (~2 KB each at D=512)
DEFAULT_TEXT_CACHE_SIZE = 5_000
GLOBAL_LOCAL_ALPHA = 0.85                   # Global-Local CLIP, RefCOCOg (0.95 RefCOCO/+)
GLOBAL_LOCAL_BETA = 0.5


def prompt(text: str, method: str) -> str:
    """The text CLIP reads for ``text`` under ``method`` (ReCLIP's prompts)."""
    if method == "shade":
        return text.lower() + SHADE_SUFFIX
    return PROMPT_PREFIX + text.lower()


class LRUCache:
    """A dict bounded by entries, evicting the least recently used."""

    def __init__(self, max_entries: int):
        if int(max_entries) < 0:
            raise ReclipError(f"cache size must be >= 0 entries; got {max_entries}")
        self.max_entries = int(max_entries)
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: Hashable, value: Any) -> None:
        if self.max_entries == 0:
            return
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.max_entries:
            self._data.popitem(last=False)

    def clear(self) -> None:
        self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class ScorerStats:
    """Counters for tests and benchmarks (``ClipScorer.reset_stats`` zeroes them)."""

    region_hits: int = 0
    region_misses: int = 0
    text_hits: int = 0
    text_misses: int = 0
    image_forwards: int = 0     # image-encoder (or feature-extractor) calls
    images_encoded: int = 0     # isolated images / regions through them
    text_forwards: int = 0
    texts_encoded: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class _ImageKeys:
    """A content hash per PIL image object, computed once while the object lives."""

    def __init__(self) -> None:
        self._keys: dict[int, tuple[weakref.ref, str]] = {}

    def __call__(self, image: Image.Image) -> str:
        entry = self._keys.get(id(image))
        if entry is not None and entry[0]() is image:
            return entry[1]
        digest = hashlib.blake2b(image.tobytes(), digest_size=16)
        digest.update(f"{image.mode}{image.size}".encode())
        key = digest.hexdigest()
        oid = id(image)
        self._keys[oid] = (weakref.ref(image, lambda _r, oid=oid: self._keys.pop(oid, None)), key)
        return key


def _mask_key(proposal: Proposal) -> str | None:
    if proposal.mask is None:
        return None
    bits = np.packbits(proposal.mask)
    return hashlib.blake2b(bits.tobytes() + str(proposal.mask.shape).encode(), digest_size=12).hexdigest()


def _normalise(x: torch.Tensor) -> torch.Tensor:
    x = x.float()
    return x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)


class ClipScorer:
    """The open_clip Scorer: ``score(image, proposals, texts) -> (len(texts), N)`` logits.

    ``models``: LoadedModel objects (``reclip.models.load_model``); ``methods``: names
    from ``reclip.isolation.ALL_METHODS``; ``subtract``: None or a bank of captions
    whose mean logits are subtracted (Red Circle). ``cache_size`` / ``text_cache_size``
    bound the embedding caches (entries); ``max_batch`` splits very large encoder batches.
    """

    def __init__(self, models: Sequence[LoadedModel] | LoadedModel, methods: Sequence[str] | str = DEFAULT_METHODS,
                 subtract: Sequence[str] | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE,
                 text_cache_size: int = DEFAULT_TEXT_CACHE_SIZE, alpha: float = GLOBAL_LOCAL_ALPHA,
                 beta: float = GLOBAL_LOCAL_BETA, max_batch: int = 256,
                 device: torch.device | str | None = None):
        if isinstance(models, LoadedModel):
            models = [models]
        self.models = list(models)
        if not self.models or not all(isinstance(m, LoadedModel) for m in self.models):
            raise ReclipError("ClipScorer needs a non-empty list of LoadedModel (see reclip.models.load_model)")
        if device is not None:
            from reclip.models import _place

            for m in self.models:
                m.model = _place(m.model, device)
        self.methods = check_methods(methods, ALL_METHODS)
        self._pairs = self._model_method_pairs()
        if isinstance(subtract, str):
            subtract = [subtract]
        self.subtract = [str(s) for s in subtract] if subtract else None
        for name, v in (("alpha", alpha), ("beta", beta)):
            if not 0.0 <= float(v) <= 1.0:
                raise ReclipError(f"{name} must be in [0, 1]; got {v}")
        self.alpha, self.beta = float(alpha), float(beta)
        if int(max_batch) < 1:
            raise ReclipError(f"max_batch must be >= 1; got {max_batch}")
        self.max_batch = int(max_batch)
        self.region_cache = LRUCache(cache_size)
        self.text_cache = LRUCache(text_cache_size)
        self.stats = ScorerStats()
        self._image_key = _ImageKeys()

    @classmethod
    def from_pretrained(cls, models: str | Iterable[str] | None = None,
                        methods: Sequence[str] | str = DEFAULT_METHODS, *,
                        device: torch.device | str | None = None, download: bool | None = None,
                        **options: Any) -> "ClipScorer":
        """Load model specs (default: ReCLIP's RN50x16 + ViT-B-32 OpenAI ensemble) and build a scorer."""
        loaded = load_models(models if models is None or isinstance(models, str) else list(models),
                             device, download=download)
        return cls(loaded, methods, **options)

    # ------------------------------------------------------------------ public

    def score(self, image: Image.Image, proposals: Sequence[Any], texts: Sequence[str]) -> np.ndarray:
        """(len(texts), len(proposals)) float32 logits, summed over models and methods."""
        if not isinstance(image, Image.Image):
            raise ReclipError(f"image must be a PIL image, got {type(image).__name__}")
        proposals = as_proposals(proposals)
        texts = list(texts)
        self._check_masks(proposals)
        key = self._image_key(image)
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        out = np.zeros((len(texts), len(proposals)), dtype=np.float32)
        if not texts:
            return out
        regions = self._region_embeddings(rgb, key, proposals)
        for model, method in self._pairs:
            img = regions[(model.name, method)]                         # (N, D) normalised
            scale = float(model.model.logit_scale.exp().float().item())
            txt = self._text_embeddings(model, texts, method)           # (T, D) normalised
            logits = scale * (txt @ img.T)
            if self.subtract:
                logits = logits - self._bank_means(model, method, texts, img, scale)
            out += logits.numpy().astype(np.float32)
        return out

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
        for method in self.methods:
            able = [m for m in self.models if _can_do(m, method)]
            if not able:
                need = "a ViT model (e.g. ViT-B-32)" if method == "global_local" else "a ResNet model (e.g. RN50x16)"
                raise IsolationError(f"isolation method {method!r} needs {need}; models given: {names}")
            pairs.extend((m, method) for m in able)
        return sorted(pairs, key=lambda p: self.models.index(p[0]))

    def _check_masks(self, proposals: Sequence[Proposal]) -> None:
        need = [m for m in self.methods if m in MASK_METHODS]
        if need and any(p.mask is None for p in proposals):
            i = next(i for i, p in enumerate(proposals) if p.mask is None)
            raise IsolationError(
                f"isolation method {need[0]!r} needs proposal masks, but proposal {i} "
                f"(box {list(proposals[i].box)}) has none; pass Proposal(box, mask=HxW bool array) "
                "or choose methods without masks (crop, blur, shade, circle, region)"
            )

    # ------------------------------------------------------------------ regions

    def _region_embeddings(self, image: Image.Image, image_key: str,
                           proposals: Sequence[Proposal]) -> dict[tuple[str, str], torch.Tensor]:
        """(model name, method) -> (N, D) normalised embeddings, encoding only cache misses."""
        keys = [(image_key, p.box, _mask_key(p) if any(m in MASK_METHODS for m in self.methods) else None)
                for p in proposals]
        found: dict[tuple[str, str], list[torch.Tensor | None]] = {}
        missing: dict[LoadedModel, list[tuple[str, int]]] = {}
        for model, method in self._pairs:
            row = []
            for i, k in enumerate(keys):
                hit = self.region_cache.get((k, method, model.name))
                row.append(hit)
                if hit is None:
                    missing.setdefault(model, []).append((method, i))
            found[(model.name, method)] = row
            self.stats.region_hits += sum(h is not None for h in row)
            self.stats.region_misses += sum(h is None for h in row)
        isolated: dict[tuple[str, int], Image.Image] = {}
        for model, todo in missing.items():
            for (method, i), emb in zip(todo, self._encode_regions(model, image, proposals, todo, isolated)):
                found[(model.name, method)][i] = emb
                self.region_cache.put((keys[i], method, model.name), emb)
        return {k: torch.stack(v) for k, v in found.items()}

    def _encode_regions(self, model: LoadedModel, image: Image.Image, proposals: Sequence[Proposal],
                        todo: list[tuple[str, int]], isolated: dict) -> list[torch.Tensor]:
        """Normalised float32 CPU embeddings for ``todo`` = [(method, proposal index)]."""
        out: dict[tuple[str, int], torch.Tensor] = {}
        pixel_jobs = [(m, i) for m, i in todo if m not in FEATURE_METHODS]
        if pixel_jobs:
            self._isolate(image, proposals, pixel_jobs, isolated)
            squares = [to_square(isolated[j], model.image_size) for j in pixel_jobs]
            for j, emb in zip(pixel_jobs, self._encode_images(model, squares)):
                out[j] = emb
        for method in FEATURE_METHODS:
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
        chunks = []
        with torch.inference_mode():
            for start in range(0, len(squares), self.max_batch):
                batch = square_pixels(squares[start:start + self.max_batch], model.image_size,
                                      model.mean, model.std, model.device, model.dtype)
                chunks.append(_normalise(model.model.encode_image(batch)).cpu())
                self.stats.image_forwards += 1
                self.stats.images_encoded += len(batch)
        return torch.cat(chunks)

    def _features(self, model: LoadedModel, method: str, image: Image.Image,
                  proposals: Sequence[Proposal]) -> torch.Tensor:
        features = _features_module(method)
        with torch.inference_mode():
            if method == "global_local":
                feats = features.global_local_features(model.model, image, proposals, model.image_size,
                                                       model.mean, model.std, alpha=self.alpha)
            else:
                boxes = np.array([p.box for p in proposals], dtype=np.float64)
                feats = features.region_features(model.model, image, boxes, model.image_size,
                                                 model.mean, model.std)
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
            with torch.inference_mode():
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
        """(T, D) normalised text features for ``method`` (β-mixed with the head for global_local)."""
        sentences = [prompt(t, method) for t in texts]
        if method != "global_local":
            return _normalise(torch.stack(self._raw_text(model, sentences)))
        heads = [getattr(t, "head", None) for t in texts]
        head_prompts = [prompt(h, method) for h in heads if h]
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
        bank_prompts = [prompt(b, method) for b in bank]
        rows = []
        for t in texts:
            own = [j for j, b in enumerate(bank_prompts) if b == prompt(t, method)]
            n = len(bank) - len(own)
            if n == 0:
                rows.append(torch.zeros_like(total))
            else:
                rows.append((total - bank_logits[own].sum(0)) / n)
        return torch.stack(rows)


def encode_text(model: torch.nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    """``model.encode_text(tokens)``, skipping the padding after the longest text.

    CLIP's text transformer is causal and pools at the end-of-text token, so the
    positions after the last end-of-text token of the batch cannot change the result;
    dropping them makes a short prompt ~5x cheaper than the full 77-token context.
    Other text towers (custom/HF text, non-causal, other pooling) use encode_text as is.
    """
    import open_clip

    usable = (type(model) is open_clip.CLIP and getattr(model, "attn_mask", None) is not None
              and model.text_pool_type == "argmax" and tokens.ndim == 2)
    if not usable:
        return model.encode_text(tokens)
    length = int(tokens.argmax(dim=-1).max().item()) + 1  # argmax: the EOT id is the largest
    tokens = tokens[:, :length]
    cast_dtype = model.transformer.get_cast_dtype()
    x = model.token_embedding(tokens).to(cast_dtype)
    x = x + model.positional_embedding[:length].to(cast_dtype)
    x = model.transformer(x, attn_mask=model.attn_mask[:length, :length])
    x = model.ln_final(x)
    x = x[torch.arange(x.shape[0], device=x.device), tokens.argmax(dim=-1)]
    if isinstance(model.text_projection, torch.nn.Linear):
        return model.text_projection(x)
    return x @ model.text_projection if model.text_projection is not None else x


def _can_do(model: LoadedModel, method: str) -> bool:
    if method == "global_local":
        return model.is_vit
    if method == "region":
        return model.is_resnet
    return True


def _features_module(method: str):
    try:
        features = importlib.import_module("reclip.features")
    except ImportError as exc:
        raise IsolationError(f"isolation method {method!r} is not available: reclip.features: {exc}") from None
    name = "global_local_features" if method == "global_local" else "region_features"
    if not hasattr(features, name):
        raise IsolationError(f"isolation method {method!r} is not available (reclip.features.{name} missing)")
    return features
