"""Train the small synthetic CLIP: ``reclip train-synthetic --out PATH --seed S``.

An open_clip CLIP built from its own config (:data:`MODEL_CFG`: a 96 px ViT with 8 px
patches, 6 layers of width 128; a 4-layer text transformer of width 64; CLIP's standard
BPE tokenizer) is trained contrastively with open_clip's ``ClipLoss`` on single objects
of generated scenes, isolated exactly as the scorer isolates them (``reclip.isolation``:
``crop`` and ``blur``, squashed to the model's square input), paired with captions that
name some or all of their attributes, the way a compiled program's finds do ("a photo
of small red circle", "a photo of red circle", "a photo of circle", "a photo of the red
circle") and with the whole expressions that refer to them (a compiled program's first
find).

ClipLoss treats every other pair in a batch as a negative, so a batch never holds an
image that also fits another pair's caption (a red circle next to the caption
"circle"): batches are drawn greedily without such conflicts (hence ~15 pairs, not 32).

The token embedding (49408 x width, most of the parameters) stays at its seeded random
initialisation: only a few dozen words are used and a fixed random vector per token is
as good as a learned one here; it keeps the optimiser cheap. The checkpoint is written
in reclip's format (``reclip.models``) with float16 tensors, so it fits the 10 MB budget
(9.3 MB); it loads through ``reclip.models.load_model`` like any other checkpoint.

Why 96 px: at 64 px a small shape in the ``blur`` view is ~7 px, a patch or two, and
"circle" scored the circles of a scene unevenly (cosine spread 0.13 vs 0.03 for crops);
superlatives and ordinals weigh candidates by those scores. Validation (seed 1, 204
expressions), full system: 64 px 93% at its best temperature, 96 px 98.5%.

The stored logit scale (``score_scale``, 2.5) is the scorer's temperature, chosen on the
validation seed 1 after training; the test seed of the README table is 2; training
scenes come from ``--seed`` (0 for the shipped checkpoint).

CPU only, one torch thread by default (``--threads``; on a 2-core machine shared with
other jobs a second thread mostly spin-waits: measured 0.025 s vs 1.6 s for one tiny
step); reproducible from the seed (same thread count).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from primitives import ReclipError
from reclip.models import OPENAI_MEAN, OPENAI_STD, normalise_pixels
from reclip.synth import COLOURS, SHAPES, SIZES, generate, phrase_attributes

MODEL_NAME = "reclip-synthetic-vit-tiny"
MODEL_CFG: dict[str, Any] = {
    "embed_dim": 128,
    "vision_cfg": {"image_size": 96, "layers": 6, "width": 128, "head_width": 32, "patch_size": 8},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 4},
}
METHODS = ("crop", "blur")
MEAN, STD = OPENAI_MEAN, OPENAI_STD
PROMPT = "a photo of "

_SIZE_IDS = {s: i for i, s in enumerate(SIZES)}
_COLOUR_IDS = {c: i for i, c in enumerate(COLOURS)}
_SHAPE_IDS = {s: i for i, s in enumerate(SHAPES)}
ANY = -1


def prompt(text: str) -> str:
    """The scorer's text for a find: "a photo of " + text, lower-cased (ReCLIP)."""
    return PROMPT + text.lower()


def attribute_code(attrs: dict[str, str]) -> tuple[int, int, int]:
    """(size, colour, shape) ids; ANY where the phrase does not name the attribute."""
    return (_SIZE_IDS.get(attrs.get("size", ""), ANY), _COLOUR_IDS.get(attrs.get("colour", ""), ANY),
            _SHAPE_IDS.get(attrs.get("shape", ""), ANY))


@dataclass
class ObjectSample:
    """One isolated object (one image per method) and the texts that describe it."""

    images: list[int]                  # rows of the image tensor, one per method
    code: tuple[int, int, int]         # its full attributes
    expressions: list[str] = field(default_factory=list)


@dataclass
class TrainingSet:
    pixels: torch.Tensor               # (M, 3, S, S) uint8
    objects: list[ObjectSample]


def caption_phrases(size: str, colour: str, shape: str) -> list[str]:
    """Attribute phrases a compiled find may carry for this object (partial ones too)."""
    big = {"big": ["big", "large"], "small": ["small", "little"]}[size]
    phrases = [f"{s} {colour} {shape}" for s in big] + [f"{colour} {shape}"] * 4
    phrases += [f"{s} {shape}" for s in big] + [shape] * 4 + [colour, f"{colour} object", f"{colour} one"]
    return phrases


def sample_caption(obj: ObjectSample, rng: np.random.Generator) -> str:
    """A caption for the object: an attribute phrase (maybe with an article) or an
    expression that refers to it."""
    if obj.expressions and rng.random() < 0.3:
        return obj.expressions[int(rng.integers(len(obj.expressions)))]
    size, colour, shape = (list(SIZES)[obj.code[0]], list(COLOURS)[obj.code[1]], list(SHAPES)[obj.code[2]])
    phrases = caption_phrases(size, colour, shape)
    text = phrases[int(rng.integers(len(phrases)))]
    r = rng.random()
    return f"the {text}" if r < 0.25 else f"a {text}" if r < 0.35 else text


def build_training_set(seed: int, scenes: int, image_size: int, methods: Sequence[str] = METHODS,
                       progress: bool = False) -> TrainingSet:
    """Generate scenes and isolate every object with every method, as the scorer does."""
    from reclip.isolation import isolate_many, to_square

    rows: list[np.ndarray] = []
    objects: list[ObjectSample] = []
    items = generate(seed, scenes)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, total=scenes, desc="scenes", unit="scene", file=sys.stderr)
    for _, scene, exprs in items:
        proposals = scene.proposals()
        first = len(objects)
        for o in scene.objects:
            objects.append(ObjectSample([], attribute_code(o.attributes)))
        for method in methods:
            for k, img in enumerate(isolate_many(scene.image, proposals, method)):
                objects[first + k].images.append(len(rows))
                rows.append(np.asarray(to_square(img, image_size), dtype=np.uint8))
        for e in exprs:
            objects[first + e.gold].expressions.append(e.text)
    pixels = torch.from_numpy(np.stack(rows)).permute(0, 3, 1, 2).contiguous()
    return TrainingSet(pixels, objects)


def fits(caption_code: Sequence[int], object_code: Sequence[int]) -> bool:
    return all(c == ANY or c == o for c, o in zip(caption_code, object_code))


def caption_code(text: str) -> tuple[int, int, int]:
    """What a caption requires of an object (an expression: its first noun phrase's attributes)."""
    return attribute_code(phrase_attributes(text))


def draw_batch(data: TrainingSet, rng: np.random.Generator, size: int,
               pool: int = 400) -> tuple[list[int], list[str]]:
    """Up to ``size`` (image row, caption) pairs where no image fits another pair's caption."""
    obj_codes = np.empty((0, 3), dtype=np.int64)
    cap_codes = np.empty((0, 3), dtype=np.int64)
    rows: list[int] = []
    texts: list[str] = []
    for idx in rng.integers(len(data.objects), size=pool):
        obj = data.objects[int(idx)]
        text = sample_caption(obj, rng)
        cap = np.array(caption_code(text))
        code = np.array(obj.code)
        if len(rows):
            # does any caption in the batch fit this object, or this caption any object?
            if np.any(np.all((cap_codes == ANY) | (cap_codes == code), axis=1)):
                continue
            if np.any(np.all((cap == ANY) | (cap == obj_codes), axis=1)):
                continue
        rows.append(obj.images[int(rng.integers(len(obj.images)))])
        texts.append(prompt(text))
        obj_codes = np.vstack([obj_codes, code])
        cap_codes = np.vstack([cap_codes, cap])
        if len(rows) == size:
            break
    return rows, texts


def build_model(model_cfg: dict[str, Any] = MODEL_CFG, seed: int = 0) -> torch.nn.Module:
    from reclip.models import model_from_config

    torch.manual_seed(seed)
    return model_from_config(model_cfg)


def normalise(pixels: torch.Tensor, mean: Sequence[float] = MEAN,
              std: Sequence[float] = STD) -> torch.Tensor:
    return normalise_pixels(pixels, mean, std)


def batch_loss(model: torch.nn.Module, data: TrainingSet, rows: Sequence[int], texts: Sequence[str],
               loss_fn: Callable | None = None, tokenizer: Callable | None = None,
               token_cache: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """ClipLoss of one batch of (image row, prompt) pairs."""
    import open_clip

    loss_fn = loss_fn or open_clip.ClipLoss()
    if tokenizer is None:
        tokenizer = open_clip.SimpleTokenizer(context_length=int(model.context_length))
    cache = token_cache if token_cache is not None else {}
    for t in texts:
        if t not in cache:
            cache[t] = tokenizer([t])[0]
    tokens = torch.stack([cache[t] for t in texts])
    image_features = model.encode_image(normalise(data.pixels[list(rows)]), normalize=True)
    text_features = model.encode_text(tokens, normalize=True)
    return loss_fn(image_features, text_features, model.logit_scale.exp())


@dataclass
class TrainConfig:
    seed: int = 0
    steps: int = 2200
    scenes: int = 600
    batch: int = 32
    lr: float = 1e-3
    warmup: int = 100
    weight_decay: float = 0.05
    threads: int = 1
    # The contrastive temperature: None learns it (clamped to max_logit_scale); a
    # number fixes it (a fixed 8 trained a worse model here: 79% vs 85% full-system
    # accuracy on the validation seed).
    logit_scale: float | None = None
    max_logit_scale: float = 30.0
    # The logit scale written into the checkpoint, i.e. the scorer's temperature
    # (ClipScorer sums crop + blur logits, so its softmax sees twice this). Chosen on
    # a validation seed (1), never on the test seed; None keeps the training value.
    score_scale: float | None = 2.5


def train(cfg: TrainConfig, *, model_cfg: dict[str, Any] = MODEL_CFG,
          log: Callable[[str], None] = print, progress: bool = False,
          data: TrainingSet | None = None) -> tuple[torch.nn.Module, list[float]]:
    """Train from scratch; returns the model (eval mode) and the loss of every step."""
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train(cfg, model_cfg, log, progress, data)
    finally:
        torch.set_num_threads(previous_threads)


def _train(cfg: TrainConfig, model_cfg: dict[str, Any], log: Callable[[str], None], progress: bool,
           data: TrainingSet | None) -> tuple[torch.nn.Module, list[float]]:
    import open_clip

    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, 7]))
    image_size = int(model_cfg["vision_cfg"]["image_size"])
    t0 = time.time()
    if data is None:
        data = build_training_set(cfg.seed, cfg.scenes, image_size, progress=progress)
    log(f"training set: {len(data.objects)} objects, {len(data.pixels)} isolated images "
        f"({time.time() - t0:.0f} s)")
    model = build_model(model_cfg, cfg.seed)
    model.train()
    model.token_embedding.requires_grad_(False)   # see the module docstring
    if cfg.logit_scale is not None:
        with torch.no_grad():
            model.logit_scale.fill_(math.log(cfg.logit_scale))
        model.logit_scale.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    loss_fn = open_clip.ClipLoss()
    tokenizer = open_clip.SimpleTokenizer(context_length=int(model_cfg["text_cfg"]["context_length"]))
    token_cache: dict[str, torch.Tensor] = {}
    max_scale = math.log(cfg.max_logit_scale)
    losses: list[float] = []
    steps = range(cfg.steps)
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="train", unit="step", file=sys.stderr)
    t1 = time.time()
    for step in steps:
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        rows, texts = draw_batch(data, rng, cfg.batch)
        loss = batch_loss(model, data, rows, texts, loss_fn, tokenizer, token_cache)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, max_scale)
        losses.append(float(loss.detach()))
        if (step + 1) % 100 == 0 or step == 0:
            recent = np.mean(losses[-100:])
            log(f"step {step + 1}/{cfg.steps}  loss {recent:.4f}  "
                f"logit scale {model.logit_scale.exp().item():.1f}  batch {len(rows)}  "
                f"{time.time() - t1:.0f} s")
    if cfg.score_scale is not None:
        with torch.no_grad():
            model.logit_scale.fill_(math.log(cfg.score_scale))
    model.eval()
    return model, losses


def save_half_checkpoint(model: torch.nn.Module, path: str | Path, *,
                         model_cfg: dict[str, Any] = MODEL_CFG, model_name: str = MODEL_NAME,
                         extra: dict[str, Any] | None = None) -> Path:
    """reclip's checkpoint format (see reclip.models.save_checkpoint) with float16 tensors.

    ``load_state_dict`` copies them into the float32 model, so loading is unchanged.
    """
    from reclip.models import CHECKPOINT_FORMAT

    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    ckpt = {
        "format": CHECKPOINT_FORMAT,
        "model_name": model_name,
        "model_cfg": copy.deepcopy(model_cfg),
        "state_dict": state,
        "image_size": int(model_cfg["vision_cfg"]["image_size"]),
        "mean": list(MEAN),
        "std": list(STD),
    }
    if extra:
        ckpt["training"] = extra
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, path)
    return path


# -- command line ---------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train-synthetic", help="train the small CLIP of the synthetic benchmark (CPU)",
        description="Train a tiny open_clip CLIP contrastively on isolated objects of "
                    "generated scenes and their attribute captions; writes a reclip checkpoint.")
    p.add_argument("--out", required=True, help="checkpoint path to write (e.g. synthetic.pt)")
    p.add_argument("--seed", type=int, default=0, help="random seed of data and model (default 0)")
    p.add_argument("--steps", type=int, default=TrainConfig.steps,
                   help=f"optimiser steps (default {TrainConfig.steps})")
    p.add_argument("--scenes", type=int, default=TrainConfig.scenes,
                   help=f"training scenes to generate (default {TrainConfig.scenes})")
    p.add_argument("--batch", type=int, default=TrainConfig.batch,
                   help=f"pairs per batch (default {TrainConfig.batch})")
    p.add_argument("--threads", type=int, default=TrainConfig.threads,
                   help="torch CPU threads (default 1: on a shared 2-core machine a second thread spin-waits)")
    p.add_argument("--score-scale", type=float, default=TrainConfig.score_scale,
                   help="logit scale stored in the checkpoint (the scorer's temperature; "
                        f"default {TrainConfig.score_scale})")
    p.add_argument("--log", help="also append progress lines to this file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.steps < 1 or args.scenes < 1 or args.batch < 2:
        raise ReclipError("--steps and --scenes must be at least 1 and --batch at least 2")
    log_file = open(args.log, "a", encoding="utf-8") if args.log else None

    def log(line: str) -> None:
        print(line, flush=True)
        if log_file:
            log_file.write(line + "\n")
            log_file.flush()

    cfg = TrainConfig(seed=args.seed, steps=args.steps, scenes=args.scenes, batch=args.batch,
                      threads=args.threads, score_scale=args.score_scale)
    t0 = time.time()
    model, losses = train(cfg, log=log)
    minutes = (time.time() - t0) / 60
    extra = {"config": cfg.__dict__, "minutes": round(minutes, 2),
             "first_loss": float(np.mean(losses[:50])), "final_loss": float(np.mean(losses[-100:]))}
    path = save_half_checkpoint(model, args.out, extra=extra)
    log(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) after {minutes:.1f} min; "
        f"loss {extra['first_loss']:.3f} -> {extra['final_loss']:.3f}")
    log("training: " + json.dumps(extra))
    if log_file:
        log_file.close()
    return 0
