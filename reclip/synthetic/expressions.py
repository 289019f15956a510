"""Referring expressions for a scene, one generator per expression kind, each checked with
the gold-attribute oracle; ``generate`` yields scenes with their expressions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from grammar.ast import Find, Node, Ordinal, Relate, Superlative
from primitives import REGISTRY, ReclipError
from primitives.boxes import areas, centres_x, centres_y
from reclip.synthetic.oracle import gold_check, matches
from reclip.synthetic.scenes import Scene, SceneObject, make_scene, scene_rng

EXPRESSION_KINDS: tuple[str, ...] = (
    "attribute", "relation", "superlative", "ordinal", "between", "nested", "compound",
)
MARGIN = 10.0       # pixels by which a spatial fact must hold (and fail for distractors)
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


def _shared_descriptions(scene: Scene, smallest: int = 2, largest: int | None = None
                         ) -> Iterator[tuple[int, dict[str, str], list[int]]]:
    """(object, its description, the objects that description fits) for every description of
    every object that fits between ``smallest`` and ``largest`` objects."""
    for i, o in enumerate(scene.objects):
        for d in _descriptions(o):
            group = _matching(scene, d)
            if smallest <= len(group) and (largest is None or len(group) <= largest):
                yield i, d, group


def _unique_description(scene: Scene, i: int, rng: np.random.Generator) -> dict[str, str] | None:
    options = [d for d in _descriptions(scene.objects[i]) if _matching(scene, d) == [i]]
    return options[int(rng.integers(len(options)))] if options else None


def _the(terse: bool) -> str:
    return "" if terse else "the "


class _Geometry:
    """Centres and areas of a scene's boxes, and margin-checked spatial facts."""

    def __init__(self, scene: Scene):
        b = scene.boxes
        self.boxes = b
        self.cx, self.cy, self.area = centres_x(b), centres_y(b), areas(b)
        self.between = REGISTRY.matrix("between", b)

    def key(self, superlative: str) -> np.ndarray:
        """The superlative's key as the registry computes it (larger = more so)."""
        return REGISTRY.key(superlative, self.boxes)

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

    def extreme(self, superlative: str, members: Sequence[int]) -> int | None:
        """The member most ``superlative`` (e.g. leftmost) by a clear margin over every other, else None: a
        position ahead by MARGIN pixels, an area at most AREA_RATIO of the next (smallest)
        or the next at most AREA_RATIO of it (largest)."""
        if len(members) < 2:
            return None
        key = self.key(superlative)
        first, second = sorted(members, key=lambda m: -key[m])[:2]
        if superlative in ("largest", "smallest"):
            small, large = sorted((self.area[first], self.area[second]))
            clear = small <= AREA_RATIO * large
        else:
            clear = key[first] - key[second] >= MARGIN
        return first if clear else None

    def ordered(self, superlative: str, members: Sequence[int], upto: int) -> list[int] | None:
        """Members in ``superlative`` order when the first ``upto``+1 are spaced by a margin."""
        key = self.key(superlative)
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
    for t, d, group in _shared_descriptions(scene, 2):
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


def _superlative_options(scene: Scene, g: _Geometry, superlatives: Sequence[str],
                         max_group: int = 4) -> list[tuple[int, dict[str, str], str]]:
    out = []
    for i, d, group in _shared_descriptions(scene, 2, max_group):
        for superlative in superlatives:
            if superlative in ("largest", "smallest"):
                sizes = [scene.objects[m].size for m in group]
                if sizes.count(scene.objects[i].size) != 1:  # the size class must single it out
                    continue
            if g.extreme(superlative, group) == i:
                out.append((i, d, superlative))
    return out


def _superlative_text(rng: np.random.Generator, superlative: str, phrase: str, terse: bool) -> str:
    prefix, postfix = SUPERLATIVE_WORDS[superlative]
    if postfix and (not prefix or rng.random() < 0.4):
        return f"{_the(terse)}{phrase} {_pick(rng, postfix)}"
    word = _pick(rng, prefix)
    # now and then a terse comparative for a bare shape: "bigger circle"
    if superlative in ("largest", "smallest") and len(phrase.split()) == 1 and rng.random() < 0.3 and terse:
        word = {"largest": "bigger", "smallest": "smaller"}[superlative]
    return f"{_the(terse)}{word} {phrase}"


def _superlative(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = _superlative_options(scene, g, list(SUPERLATIVE_WORDS))
    if not options:
        return None
    i, d, superlative = _pick(rng, options)
    text = _superlative_text(rng, superlative, _phrase(d), terse=rng.random() < 0.3)
    return Expression(text, "superlative", i, Superlative(superlative, _find(d)))


def _ordinal(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    options = []
    for i, d, group in _shared_descriptions(scene, 3, 5):
        for superlative in ORDINAL_FROM:
            order = g.ordered(superlative, group, upto=min(3, len(group) - 1))
            if order is None:
                continue
            n = order.index(i) + 1
            if n in (2, 3):
                options.append((i, d, superlative, n))
    if not options:
        return None
    i, d, superlative, n = _pick(rng, options)
    word = _pick(rng, ORDINAL_WORDS[n])
    side = ORDINAL_FROM[superlative]
    terse = rng.random() < 0.3
    text = _pick(rng, ["{the}{w} {p} from the {s}", "{the}{w} {p} from the {s}",
                       "{the}{w} {p} from {s}"]).format(the=_the(terse), w=word,
                                                        p=_phrase(d), s=side)
    return Expression(text, "ordinal", i, Ordinal(n, superlative, _find(d)))


def _between(scene: Scene, g: _Geometry, rng: np.random.Generator) -> Expression | None:
    unique = {i: _unique_description(scene, i, rng) for i in range(len(scene.objects))}
    landmarks = [i for i, d in unique.items() if d is not None]
    options = []
    for t, d, group in _shared_descriptions(scene, 2):
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
        ld, superlative = sup[lm]
        landmark_text = f"{_pick(rng, SUPERLATIVE_WORDS[superlative][0])} {_phrase(ld)}"
        landmark_node: Node = Superlative(superlative, _find(ld))
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
    for i, d, group in _shared_descriptions(scene, 2, 4):
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
                      kinds: Sequence[str] = EXPRESSION_KINDS) -> list[Expression]:
    """At most one expression per expression kind, each checked with the gold-attribute oracle."""
    g = _Geometry(scene)
    proposals = scene.proposals()
    out = []
    for expression_kind in kinds:
        expr = GENERATORS[expression_kind](scene, g, rng)
        if expr is not None and gold_check(proposals, expr.program, expr.gold)[0]:
            out.append(expr)
    return out


def generate(seed: int, scenes: int, *, min_expressions: int = len(EXPRESSION_KINDS),
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
