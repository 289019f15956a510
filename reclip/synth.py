"""A synthetic spatial benchmark: scenes of coloured shapes and referring expressions.

``reclip synth --out DIR --scenes N --seed S`` writes ``DIR/images/*.png`` and
``DIR/expressions.jsonl``, one JSON record per expression:

    {"id", "scene", "image" (path relative to DIR), "width", "height",
     "proposals": [{"box": [x0, y0, x1, y1], "mask": COCO RLE, "label": "small red circle",
                    "attributes": {"size", "colour", "shape"}}, ...],
     "expression", "kind", "gold" (index into proposals), "gold_box", "gold_mask",
     "program" (gold program text), "seed"}

Kinds: ``attribute`` ("the red circle"), ``relation`` ("the circle left of the blue
square"), ``superlative`` ("the leftmost triangle"), ``ordinal`` ("the second circle
from the left"), ``between``, ``nested`` (a relation whose landmark is itself a
relation or a superlative) and ``compound`` ("the top left star").

The gold program is the *structure* the expression means, without the compiler's
whole-expression conjunct: a compiled program is
``and(find("<expression>"), <structure>)``; the gold program is ``<structure>``. Its
finds name the attribute phrase and carry the shape as head:
``relate(find("circle", head="circle"), left_of, find("blue square", head="square"))``.

Every expression is unambiguous by construction: its referent satisfies the spatial
condition with a pixel margin and every other object fitting the description fails it
with a margin, and the gold program, run through the real interpreter with a scorer
that knows the gold attributes (:class:`GoldAttributeScorer`), must pick the referent
clearly; candidates that fail are discarded. Everything is deterministic in the seed.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from grammar.ast import Find, Node, Ordinal, Program, Relate, Superlative
from interpreter import Proposal, ProposalGraph, execute
from primitives import REGISTRY, ReclipError
from primitives.boxes import areas, centres_x, centres_y
from reclip.proposals_io import decode_mask, encode_mask

IMAGE_SIZE = 224
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "green": (40, 160, 60),
    "blue": (35, 75, 215),
    "yellow": (235, 200, 25),
    "purple": (135, 55, 185),
}
SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star")
SIZES: dict[str, tuple[int, int]] = {"small": (24, 30), "big": (44, 54)}  # side in pixels
KINDS: tuple[str, ...] = (
    "attribute", "relation", "superlative", "ordinal", "between", "nested", "compound",
)
MIN_OBJECTS, MAX_OBJECTS = 3, 8
MAX_OVERLAP = 0.0   # intersection / smaller box area; 0: boxes never overlap
GAP = 3             # pixels kept free between boxes
MARGIN = 10.0       # pixels by which a spatial fact must hold (and fail for distractors)
CLEAR_RATIO = 1.5   # the gold object's probability over the runner-up's, gold attributes
AREA_RATIO = 0.6    # "smallest"/"largest": the runner-up's area differs at least this much

# Relations the templates express, with their words (target first).
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "left_of": ("left of", "to the left of", "on the left of"),
    "right_of": ("right of", "to the right of", "on the right of"),
    "above": ("above", "over"),
    "below": ("below", "under", "beneath"),
}
# Superlatives: (prefix forms, postfix forms).
SUPERLATIVE_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "leftmost": (("leftmost", "left"), ("on the left", "on the far left")),
    "rightmost": (("rightmost", "right"), ("on the right", "on the far right")),
    "topmost": (("topmost", "top", "highest"), ("at the top",)),
    "bottommost": (("bottom", "lowest"), ("at the bottom",)),
    "largest": (("biggest", "largest"), ()),
    "smallest": (("smallest",), ()),
}
ORDINAL_WORDS = {1: ("first",), 2: ("second", "2nd"), 3: ("third", "3rd")}
ORDINAL_FROM = {"leftmost": "left", "rightmost": "right", "topmost": "top", "bottommost": "bottom"}
CORNERS = (("topmost", "leftmost"), ("topmost", "rightmost"),
           ("bottommost", "leftmost"), ("bottommost", "rightmost"))
CORNER_WORDS = {"topmost": "top", "bottommost": "bottom", "leftmost": "left", "rightmost": "right"}


# -- scenes --------------------------------------------------------------------------
@dataclass
class SceneObject:
    shape: str
    colour: str
    size: str
    box: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False)

    @property
    def label(self) -> str:
        return f"{self.size} {self.colour} {self.shape}"

    @property
    def attributes(self) -> dict[str, str]:
        return {"size": self.size, "colour": self.colour, "shape": self.shape}


@dataclass
class Scene:
    image: Image.Image
    objects: list[SceneObject]

    @property
    def boxes(self) -> np.ndarray:
        return np.array([o.box for o in self.objects], dtype=np.float64)

    def proposals(self) -> list[Proposal]:
        return [Proposal(o.box, o.mask, o.label) for o in self.objects]


def scene_rng(seed: int, index: int) -> np.random.Generator:
    """Scene ``index`` of run ``seed``: independent of how many scenes come before."""
    return np.random.default_rng(np.random.SeedSequence([seed, index]))


def make_scene(rng: np.random.Generator, size: int = IMAGE_SIZE) -> Scene:
    """Background plus 3-8 shapes; attributes drawn from a small per-scene palette so
    that repeated shapes and colours (which relations and ordinals need) are common."""
    image = _background(rng, size)
    n = int(rng.integers(MIN_OBJECTS, MAX_OBJECTS + 1))
    shapes = list(rng.choice(SHAPES, size=int(rng.integers(2, 4)), replace=False))
    colours = list(rng.choice(list(COLOURS), size=int(rng.integers(2, 5)), replace=False))
    objects: list[SceneObject] = []
    for _ in range(n):
        for _attempt in range(60):
            size_name = str(rng.choice(list(SIZES)))
            side = int(rng.integers(*SIZES[size_name]))
            x0 = int(rng.integers(4, size - side - 4))
            y0 = int(rng.integers(4, size - side - 4))
            shape = str(rng.choice(shapes))
            mask, soft = _shape_mask(shape, x0, y0, side, size, rng)
            box = _mask_box(mask)
            if _fits(box, [o.box for o in objects]):
                colour = str(rng.choice(colours))
                _paint(image, soft, _jitter(COLOURS[colour], rng))
                objects.append(SceneObject(shape, colour, size_name, box, mask))
                break
    return Scene(image, objects)


def _background(rng: np.random.Generator, size: int) -> Image.Image:
    base = rng.integers(200, 246) + rng.integers(-12, 13, size=3)
    arr = np.broadcast_to(np.clip(base, 0, 255), (size, size, 3)).astype(np.float64).copy()
    style = rng.choice(["plain", "noise", "stripes", "checker"])
    if style == "noise":
        noise = Image.fromarray(rng.normal(128, 60, (size, size)).clip(0, 255).astype(np.uint8))
        noise = np.asarray(noise.filter(ImageFilter.GaussianBlur(2)), dtype=np.float64) - 128
        arr += noise[..., None] * 0.4
    elif style in ("stripes", "checker"):
        period = int(rng.integers(8, 24))
        yy, xx = np.mgrid[:size, :size]
        pattern = (xx // period) % 2 if style == "stripes" else ((xx // period) + (yy // period)) % 2
        if style == "stripes" and rng.random() < 0.5:
            pattern = (yy // period) % 2
        arr += (pattern[..., None] - 0.5) * rng.uniform(8, 18)
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")


def _shape_mask(shape: str, x0: int, y0: int, side: int, size: int,
                rng: np.random.Generator) -> tuple[np.ndarray, Image.Image]:
    """Binary mask and 4x-supersampled antialiased alpha of one shape."""
    ss = 4
    big = Image.new("L", (size * ss, size * ss), 0)
    d = ImageDraw.Draw(big)
    x, y, s = x0 * ss, y0 * ss, side * ss
    if shape == "circle":
        d.ellipse([x, y, x + s, y + s], fill=255)
    elif shape == "square":
        inset = s * 0.08  # squares look bigger than circles of the same side
        d.rectangle([x + inset, y + inset, x + s - inset, y + s - inset], fill=255)
    elif shape == "triangle":
        h = s * math.sqrt(3) / 2
        top = y + (s - h) / 2
        d.polygon([(x + s / 2, top), (x + s, top + h), (x, top + h)], fill=255)
    elif shape == "star":
        cx, cy, r_out = x + s / 2, y + s / 2 + s * 0.04, s / 2
        pts = []
        for k in range(10):
            r = r_out if k % 2 == 0 else r_out * 0.45
            a = -math.pi / 2 + k * math.pi / 5
            pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        d.polygon(pts, fill=255)
    else:  # pragma: no cover - SHAPES is closed
        raise ReclipError(f"unknown shape {shape!r}")
    soft = big.resize((size, size), Image.Resampling.BOX)
    return np.asarray(soft) >= 128, soft


def _mask_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _fits(box: Sequence[int], others: Iterable[Sequence[int]]) -> bool:
    for o in others:
        w = min(box[2], o[2]) - max(box[0], o[0]) + GAP
        h = min(box[3], o[3]) - max(box[1], o[1]) + GAP
        if w > 0 and h > 0:
            inter = max(0, w - GAP) * max(0, h - GAP)
            smaller = min((box[2] - box[0]) * (box[3] - box[1]), (o[2] - o[0]) * (o[3] - o[1]))
            if MAX_OVERLAP <= 0 or inter / smaller > MAX_OVERLAP:
                return False
    return True


def _jitter(rgb: tuple[int, int, int], rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-15, 16), 0, 255)) for c in rgb)


def _paint(image: Image.Image, alpha: Image.Image, rgb: tuple[int, int, int]) -> None:
    image.paste(Image.new("RGB", image.size, rgb), (0, 0), alpha)


# -- the gold-attribute oracle ----------------------------------------------------------
_PLURALS = {f"{s}s": s for s in SHAPES}
_SIZE_WORDS = {"small": "small", "little": "small", "tiny": "small",
               "big": "big", "large": "big"}


def phrase_attributes(text: str) -> dict[str, str]:
    """Attributes named by a find text's first noun phrase: words up to the first shape.

    "small red circle" -> {size, colour, shape}; "the circle left of the blue square"
    -> {shape: circle} (the landmark belongs to another phrase).
    """
    out: dict[str, str] = {}
    for word in text.lower().replace(",", " ").split():
        word = _PLURALS.get(word, word)
        if word in COLOURS:
            out.setdefault("colour", word)
        elif word in _SIZE_WORDS:
            out.setdefault("size", _SIZE_WORDS[word])
        elif word in SHAPES:
            out["shape"] = word
            break
    return out


def matches(attributes: dict[str, str], wanted: dict[str, str]) -> bool:
    return all(attributes.get(k) == v for k, v in wanted.items())


class GoldAttributeScorer:
    """A Scorer that knows each proposal's attributes (from its label): high logits
    where the find text's attributes all match, low elsewhere."""

    def __init__(self, high: float = 20.0, low: float = 0.0):
        self.high, self.low = high, low

    def score(self, image: Image.Image, proposals: Sequence[Proposal],
              texts: Sequence[str]) -> np.ndarray:
        attrs = [label_attributes(p.label or "") for p in proposals]
        out = np.full((len(texts), len(proposals)), self.low)
        for t, text in enumerate(texts):
            wanted = phrase_attributes(str(text))
            for i, a in enumerate(attrs):
                if wanted and matches(a, wanted):
                    out[t, i] = self.high
        return out


def label_attributes(label: str) -> dict[str, str]:
    size, colour, shape = (label.split() + ["", "", ""])[:3]
    return {"size": size, "colour": colour, "shape": shape}


def gold_check(scene_proposals: Sequence[Proposal], program: Node, gold: int,
               ratio: float = CLEAR_RATIO) -> tuple[bool, np.ndarray]:
    """Run ``program`` with gold attributes; True when ``gold`` wins by ``ratio``."""
    graph = ProposalGraph(scene_proposals)
    res = execute(Program(program), graph, GoldAttributeScorer(), None)  # type: ignore[arg-type]
    p = res.scores
    others = np.delete(p, gold)
    ok = res.index == gold and (others.size == 0 or p[gold] >= ratio * others.max())
    return bool(ok), p


# -- expressions ----------------------------------------------------------------------
@dataclass
class Expression:
    text: str
    kind: str
    gold: int
    program: Node


def _phrase(attrs: dict[str, str]) -> str:
    return " ".join(attrs[k] for k in ("size", "colour", "shape") if k in attrs)


def _find(attrs: dict[str, str]) -> Find:
    return Find(_phrase(attrs), head=attrs["shape"])


def _matching(scene: Scene, wanted: dict[str, str]) -> list[int]:
    return [i for i, o in enumerate(scene.objects) if matches(o.attributes, wanted)]


def _descriptions(obj: SceneObject) -> list[dict[str, str]]:
    """Noun phrases for an object, always with its shape: "circle", "red circle"."""
    return [{"shape": obj.shape}, {"colour": obj.colour, "shape": obj.shape}]


def _unique_description(scene: Scene, i: int, rng: np.random.Generator) -> dict[str, str] | None:
    options = [d for d in _descriptions(scene.objects[i]) if _matching(scene, d) == [i]]
    return options[int(rng.integers(len(options)))] if options else None


def _the(terse: bool) -> str:
    return "" if terse else "the "


class _Geometry:
    """Centres and areas of a scene's boxes, and margin-checked spatial facts."""

    def __init__(self, scene: Scene):
        b = scene.boxes
        self.cx, self.cy, self.area = centres_x(b), centres_y(b), areas(b)
        self.between = REGISTRY.matrix("between", b)

    def key(self, kind: str) -> np.ndarray:
        return {"leftmost": -self.cx, "rightmost": self.cx, "topmost": -self.cy,
                "bottommost": self.cy, "largest": self.area, "smallest": -self.area}[kind]

    def holds(self, relation: str, i: int, j: int, margin: float = MARGIN) -> bool:
        if relation == "left_of":
            return self.cx[i] < self.cx[j] - margin
        if relation == "right_of":
            return self.cx[i] > self.cx[j] + margin
        if relation == "above":
            return self.cy[i] < self.cy[j] - margin
        if relation == "below":
            return self.cy[i] > self.cy[j] + margin
        raise ReclipError(f"no geometry for relation {relation!r}")

    def fails(self, relation: str, i: int, j: int, margin: float = MARGIN) -> bool:
        opposite = {"left_of": "right_of", "right_of": "left_of", "above": "below", "below": "above"}
        return self.holds(opposite[relation], i, j, margin)

    def extreme(self, kind: str, members: Sequence[int]) -> int | None:
        """The member most ``kind`` by a clear margin over every other, else None: a
        position ahead by MARGIN pixels, an area at most AREA_RATIO of the next (smallest)
        or the next at most AREA_RATIO of it (largest)."""
        if len(members) < 2:
            return None
        key = self.key(kind)
        first, second = sorted(members, key=lambda m: -key[m])[:2]
        if kind in ("largest", "smallest"):
            small, large = sorted((self.area[first], self.area[second]))
            clear = small <= AREA_RATIO * large
        else:
            clear = key[first] - key[second] >= MARGIN
        return first if clear else None

    def ordered(self, kind: str, members: Sequence[int], upto: int) -> list[int] | None:
        """Members in ``kind`` order when the first ``upto``+1 are spaced by a margin."""
        key = self.key(kind)
        order = sorted(members, key=lambda m: -key[m])
        for a, b in zip(order[: upto + 1], order[1: upto + 1]):
            if key[a] - key[b] < MARGIN:
                return None
        return order


def _pick(rng: np.random.Generator, items: Sequence[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _attribute(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = []
    for i, o in enumerate(scene.objects):
        for d in (*_descriptions(o), o.attributes):
            if _matching(scene, d) == [i]:
                options.append((i, d))
                break  # the shortest unique description
    if not options:
        return None
    i, d = _pick(rng, options)
    text = _pick(rng, ["the {}", "{}", "the {}", "a {}"]).format(_phrase(d))
    return Expression(text, "attribute", i, _find(d))


def _relation_options(scene: Scene, g: _Geometry, landmark_ok: Callable[[int], bool] | None = None
                      ) -> list[tuple[int, dict[str, str], str, int]]:
    """(target, its description, relation, landmark) where the description fits 2+
    objects and only the target stands in the relation to the landmark."""
    out = []
    n = len(scene.objects)
    for t in range(n):
        for d in _descriptions(scene.objects[t]):
            group = _matching(scene, d)
            if len(group) < 2:
                continue
            for rel in RELATION_WORDS:
                for lm in range(n):
                    if lm in group or (landmark_ok and not landmark_ok(lm)):
                        continue
                    if g.holds(rel, t, lm) and all(g.fails(rel, o, lm) for o in group if o != t):
                        out.append((t, d, rel, lm))
    return out


def _relation_text(rng: np.random.Generator, target: str, rel: str, landmark: str) -> str:
    terse = rng.random() < 0.3
    word = _pick(rng, RELATION_WORDS[rel])
    if terse:
        return f"{target} {word} {landmark}"
    return _pick(rng, [
        "the {t} {w} the {l}", "the {t} {w} the {l}", "the {t} that is {w} the {l}",
        "a {t} {w} the {l}",
    ]).format(t=target, w=word, l=landmark)


def _relation(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    unique = {i: _unique_description(scene, i, rng) for i in range(len(scene.objects))}
    options = _relation_options(scene, g, lambda lm: unique[lm] is not None)
    if not options:
        return None
    t, d, rel, lm = _pick(rng, options)
    text = _relation_text(rng, _phrase(d), rel, _phrase(unique[lm]))
    return Expression(text, "relation", t, Relate(_find(d), rel, _find(unique[lm])))


def _superlative_options(scene: Scene, g: _Geometry, kinds: Sequence[str],
                         max_group: int = 4) -> list[tuple[int, dict[str, str], str]]:
    out = []
    for i, o in enumerate(scene.objects):
        for d in _descriptions(o):
            group = _matching(scene, d)
            if not 2 <= len(group) <= max_group:
                continue
            for kind in kinds:
                if kind in ("largest", "smallest"):
                    sizes = [scene.objects[m].size for m in group]
                    if sizes.count(o.size) != 1:  # the size class must single it out
                        continue
                if g.extreme(kind, group) == i:
                    out.append((i, d, kind))
    return out


def _superlative_text(rng: np.random.Generator, kind: str, phrase: str, terse: bool) -> str:
    prefix, postfix = SUPERLATIVE_WORDS[kind]
    if postfix and (not prefix or rng.random() < 0.4):
        return f"{_the(terse)}{phrase} {_pick(rng, postfix)}"
    word = _pick(rng, prefix)
    # now and then a terse comparative for a bare shape: "bigger circle"
    if kind in ("largest", "smallest") and len(phrase.split()) == 1 and rng.random() < 0.3 and terse:
        word = {"largest": "bigger", "smallest": "smaller"}[kind]
    return f"{_the(terse)}{word} {phrase}"


def _superlative(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = _superlative_options(scene, g, list(SUPERLATIVE_WORDS))
    if not options:
        return None
    i, d, kind = _pick(rng, options)
    text = _superlative_text(rng, kind, _phrase(d), terse=rng.random() < 0.3)
    return Expression(text, "superlative", i, Superlative(kind, _find(d)))


def _ordinal(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = []
    for i, o in enumerate(scene.objects):
        for d in _descriptions(o):
            group = _matching(scene, d)
            if not 3 <= len(group) <= 5:
                continue
            for kind in ORDINAL_FROM:
                order = g.ordered(kind, group, upto=min(3, len(group) - 1))
                if order is None:
                    continue
                n = order.index(i) + 1
                if n in (2, 3):
                    options.append((i, d, kind, n))
    if not options:
        return None
    i, d, kind, n = _pick(rng, options)
    word = _pick(rng, ORDINAL_WORDS[n])
    side = ORDINAL_FROM[kind]
    terse = rng.random() < 0.3
    text = _pick(rng, ["{the}{w} {p} from the {s}", "{the}{w} {p} from the {s}",
                       "{the}{w} {p} from {s}"]).format(the=_the(terse), w=word,
                                                        p=_phrase(d), s=side)
    return Expression(text, "ordinal", i, Ordinal(n, kind, _find(d)))


def _between(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    unique = {i: _unique_description(scene, i, rng) for i in range(len(scene.objects))}
    landmarks = [i for i, d in unique.items() if d is not None]
    options = []
    for t, o in enumerate(scene.objects):
        for d in _descriptions(o):
            group = _matching(scene, d)
            if len(group) < 2:
                continue
            for a in landmarks:
                for b in landmarks:
                    if a >= b or a in group or b in group:
                        continue
                    if g.between[t, a, b] >= 0.6 and all(g.between[x, a, b] <= 0.02
                                                         for x in group if x != t):
                        options.append((t, d, a, b))
    if not options:
        return None
    t, d, a, b = _pick(rng, options)
    if rng.random() < 0.5:
        a, b = b, a
    la, lb = _phrase(unique[a]), _phrase(unique[b])
    terse = rng.random() < 0.3
    text = (f"{_phrase(d)} between {la} and {lb}" if terse else
            _pick(rng, ["the {t} between the {a} and the {b}", "the {t} in between the {a} and the {b}",
                        "the {t} that is between the {a} and the {b}"]).format(t=_phrase(d), a=la, b=lb))
    return Expression(text, "between", t, Relate(_find(d), "between", _find(unique[a]), _find(unique[b])))


def _nested(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    """A relation whose landmark is a superlative or a relation phrase."""
    sup = {i: (d, k) for i, d, k in _superlative_options(
        scene, g, ["leftmost", "rightmost", "topmost", "bottommost"], max_group=3)}
    unique = {i: _unique_description(scene, i, rng) for i in range(len(scene.objects))}
    rel = {}
    for lm, d, r, m in _relation_options(scene, g, lambda j: unique[j] is not None):
        rel.setdefault(lm, (d, r, m))
    landmark_ok = lambda j: j in sup or j in rel  # noqa: E731
    options = _relation_options(scene, g, landmark_ok)
    # the landmark phrase must describe a group the target is not in
    options = [o for o in options if not matches(scene.objects[o[0]].attributes,
                                                 (sup.get(o[3]) or rel.get(o[3]))[0])]
    if not options:
        return None
    t, d, r, lm = _pick(rng, options)
    use_sup = lm in sup and (lm not in rel or rng.random() < 0.5)
    if use_sup:
        ld, kind = sup[lm]
        landmark_text = f"{_pick(rng, SUPERLATIVE_WORDS[kind][0])} {_phrase(ld)}"
        landmark_node: Node = Superlative(kind, _find(ld))
    else:
        ld, r2, m = rel[lm]
        landmark_text = f"{_phrase(ld)} {'that is ' if rng.random() < 0.5 else ''}" \
                        f"{_pick(rng, RELATION_WORDS[r2])} the {_phrase(unique[m])}"
        landmark_node = Relate(_find(ld), r2, _find(unique[m]))
    word = _pick(rng, RELATION_WORDS[r])
    text = f"the {_phrase(d)} {word} the {landmark_text}"
    return Expression(text, "nested", t, Relate(_find(d), r, landmark_node))


def compound_program(vertical: str, horizontal: str, find: Find) -> Node:
    """"top left star" -> superlative(leftmost, superlative(topmost, find("star"))), the
    compiler's reading; the other order agrees because the generator requires the
    referent to be extreme on both axes."""
    return Superlative(horizontal, Superlative(vertical, find))


def _compound(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = []
    for i, o in enumerate(scene.objects):
        for d in _descriptions(o):
            group = _matching(scene, d)
            if not 2 <= len(group) <= 4:
                continue
            for v, h in CORNERS:
                if g.extreme(v, group) == i and g.extreme(h, group) == i:
                    options.append((i, d, v, h))
    if not options:
        return None
    i, d, v, h = _pick(rng, options)
    corner = f"{CORNER_WORDS[v]} {CORNER_WORDS[h]}"
    if v == "topmost" and rng.random() < 0.25:
        corner = f"upper {CORNER_WORDS[h]}"
    terse = rng.random() < 0.3
    text = (f"{corner} {_phrase(d)}" if terse else
            _pick(rng, ["the {c} {p}", "the {c} {p}", "the {p} in the {c} corner",
                        "the {p} at the {c}"]).format(c=corner, p=_phrase(d)))
    return Expression(text, "compound", i, compound_program(v, h, _find(d)))


GENERATORS: dict[str, Callable[[Scene, _Geometry, np.random.Generator], Expression | None]] = {
    "attribute": _attribute, "relation": _relation, "superlative": _superlative,
    "ordinal": _ordinal, "between": _between, "nested": _nested, "compound": _compound,
}


def scene_expressions(scene: Scene, rng: np.random.Generator,
                      kinds: Sequence[str] = KINDS) -> list[Expression]:
    """At most one expression per kind, each checked with the gold-attribute oracle."""
    g = _Geometry(scene)
    proposals = scene.proposals()
    out = []
    for kind in kinds:
        expr = GENERATORS[kind](scene, g, rng)
        if expr is not None and gold_check(proposals, expr.program, expr.gold)[0]:
            out.append(expr)
    return out


def generate(seed: int, scenes: int, *, min_expressions: int = len(KINDS),
             start: int = 0) -> Iterator[tuple[int, Scene, list[Expression]]]:
    """``scenes`` scenes (index, scene, expressions); a layout that supports fewer than
    ``min_expressions`` kinds is redrawn (from the same scene's random stream)."""
    for index in range(start, start + scenes):
        rng = scene_rng(seed, index)
        best: tuple[Scene, list[Expression]] | None = None
        for _ in range(12):
            scene = make_scene(rng)
            exprs = scene_expressions(scene, rng)
            if best is None or len(exprs) > len(best[1]):
                best = (scene, exprs)
            if len(exprs) >= min_expressions:
                break
        assert best is not None
        yield index, best[0], best[1]


# -- records --------------------------------------------------------------------------
def scene_records(scene_id: str, image_path: str, scene: Scene,
                  expressions: Sequence[Expression], seed: int) -> list[dict[str, Any]]:
    proposals = [{"box": list(o.box), "mask": encode_mask(o.mask), "label": o.label,
                  "attributes": o.attributes} for o in scene.objects]
    w, h = scene.image.size
    out = []
    for k, e in enumerate(expressions):
        out.append({
            "id": f"{scene_id}-{k}", "scene": scene_id, "image": image_path,
            "width": w, "height": h, "proposals": proposals,
            "expression": e.text, "kind": e.kind, "gold": e.gold,
            "gold_box": list(scene.objects[e.gold].box), "gold_mask": proposals[e.gold]["mask"],
            "program": str(e.program), "seed": seed,
        })
    return out


def write_dataset(out: str | Path, scenes: int, seed: int, progress: bool = False) -> Path:
    """Write images/ and expressions.jsonl under ``out``; returns the JSONL path."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    path = out / "expressions.jsonl"
    items = generate(seed, scenes)
    if progress:
        from tqdm import tqdm

        items = tqdm(items, total=scenes, desc="scenes", unit="scene")
    with path.open("w", encoding="utf-8") as f:
        for index, scene, exprs in items:
            scene_id = f"s{seed}-{index:06d}"
            rel = f"images/{scene_id}.png"
            scene.image.save(out / rel)
            for rec in scene_records(scene_id, rel, scene, exprs, seed):
                f.write(json.dumps(rec) + "\n")
    return path


def dataset_file(path: str | Path) -> Path:
    """A dataset directory's expressions.jsonl (or the file itself)."""
    path = Path(path)
    if path.is_dir():
        path = path / "expressions.jsonl"
    if not path.is_file():
        raise ReclipError(
            f"no synthetic dataset at {path}: write one with `reclip synth --out DIR`"
        )
    return path


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Records of a dataset (directory or JSONL); ``image`` resolved to an absolute path."""
    path = dataset_file(path)
    records = []
    with path.open(encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ReclipError(f"{path}:{line_no}: not valid JSON: {exc}") from None
            rec["image_path"] = str((path.parent / rec.get("image", "")).resolve())
            records.append(rec)
    return records


def record_proposals(record: dict[str, Any], masks: bool = True) -> list[Proposal]:
    return [Proposal(p["box"], decode_mask(p["mask"]) if masks and p.get("mask") else None,
                     p.get("label")) for p in record["proposals"]]


# -- command line ---------------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "synth", help="generate the synthetic spatial benchmark (shapes + expressions)",
        description="Write scenes of coloured shapes (PNG) and unambiguous referring "
                    "expressions with gold boxes, masks and programs (expressions.jsonl).")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--scenes", type=int, default=100, help="number of scenes (default 100)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scenes < 1:
        raise ReclipError(f"--scenes must be at least 1, got {args.scenes}")
    path = write_dataset(args.out, args.scenes, args.seed, progress=True)
    counts: dict[str, int] = {}
    for rec in read_records(path):
        counts[rec["kind"]] = counts.get(rec["kind"], 0) + 1
    total = sum(counts.values())
    print(f"wrote {total} expressions on {args.scenes} scenes to {path}")
    print("  " + ", ".join(f"{k}: {counts.get(k, 0)}" for k in KINDS))
    return 0
