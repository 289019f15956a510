"""Stage 3, lexer: words -> categorised chunks (``DIR`` "left", ``REL`` "next to", ``ORD``
"2nd", ``WORD`` ...), the terminals of ``expression.lark``.

Spatial words are matched on lower-cased surface forms, longest phrase first, against
the lexicon tables; the words around them decide ambiguous ones ("a red top" is
clothing, "top left" a direction). The context passes (``context.py``) then settle the
function words around the spatial chunks.
"""

from __future__ import annotations

from typing import Any, Sequence

from grammar import lexicon as lx
from grammar.expression.places import (
    away_from_landmark, others_at, part_at, scene_at, sided_part_at, starts_noun, word_ahead,
)
from grammar.expression.tables import Tables, numeric_lexeme
from grammar.expression.tokens import Tok
from primitives import Registry


_set = object.__setattr__


class Chunk:
    """One or more words read as one terminal of expression.lark (immutable: a chunk read
    as another category is a new chunk). Equal when category, words and value are."""

    __slots__ = ("cat", "toks", "value", "lower")

    def __init__(self, cat: str, toks: Sequence[Tok], value: Any = None, lower: str | None = None):
        toks = tuple(toks)
        _set(self, "cat", cat)  # a terminal of expression.lark
        _set(self, "toks", toks)
        _set(self, "value", value)  # superlative name, relation name, (n, from_end) for ordinals
        _set(self, "lower", " ".join(t.lower for t in toks) if lower is None else lower)

    def with_cat(self, cat: str) -> "Chunk":
        """The same words read as another category (a new chunk; this one is unchanged)."""
        return self if cat == self.cat else _make(Chunk, cat, self.toks, self.value, self.lower)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Chunk) and (self.cat, self.toks, self.value) == (other.cat, other.toks, other.value)

    __hash__ = None  # type: ignore[assignment]  # compared, never a key

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Chunk is immutable: use with_cat")

    def __repr__(self) -> str:
        return f"Chunk({self.cat}, {self.lower!r})"


def _make(cls: type, cat: str, toks: tuple[Tok, ...], value: Any, lower: str) -> Chunk:
    """A chunk from fields already in their final form (the slots set directly: measured
    twice as fast as ``__init__``, and the lexer makes one chunk per word)."""
    chunk = _new(cls)
    _set_cat(chunk, cat)
    _set_toks(chunk, toks)
    _set_value(chunk, value)
    _set_lower(chunk, lower)
    return chunk


_new = object.__new__
_set_cat, _set_toks, _set_value, _set_lower = (getattr(Chunk, name).__set__ for name in Chunk.__slots__)


def lex(toks: Sequence[Tok], tables: Tables, registry: Registry) -> list[Chunk]:
    """Categorise the words, left to right (a relation may take back the adverb before it)."""
    lowers = _Words([t.lower for t in toks])
    chunks: list[Chunk] = []
    i, n = 0, len(toks)
    starts = tables.sizes  # a word starting no table phrase matches none
    while i < n:
        word = lowers[i]
        size, cats = match(lowers, i, tables) if word in starts or word[0] in _DIGITS else (1, _NO_MATCH)
        if not cats and word not in _SPECIAL_WORDS and (not chunks or chunks[-1].cat not in _DIRECTIONAL):
            # what _categorise decides for it: Chunk("WORD", (toks[i],), None, word), made
            # the way _make does, inlined (one per word)
            chunk = _new(Chunk)
            _set_cat(chunk, "WORD")
            _set_toks(chunk, (toks[i],))
            _set_value(chunk, None)
            _set_lower(chunk, word)
            chunks.append(chunk)
            i += 1
            continue
        chunk = _categorise(lowers, i, size, cats, chunks, tables, registry, toks)
        chunks.append(chunk)
        # a chunk ends at or after word i (it may also take back a word before i)
        i = toks.index(chunk.toks[-1], i) + 1
    return chunks


def only_words(toks: Sequence[Tok], tables: Tables) -> bool:
    """Would ``lex`` read every word as a plain WORD without a second look (no word starts
    a table phrase or is special)? Then its chunks need not be made."""
    lowers = {t.lower for t in toks}
    return lowers.isdisjoint(tables.sizes) and lowers.isdisjoint(_SPECIAL_WORDS) \
        and not any(numeric_lexeme(w) for w in lowers if w[0] in _DIGITS)


_NO_MATCH: dict[str, Any] = {}
_DIGITS = frozenset("0123456789")  # an ordinal in digits ("11th") starts with one
# A word in no table is a plain WORD unless it is one of these or follows a direction.
_SPECIAL_WORDS = frozenset(lx.CAMERA_SUPERLATIVES) | lx.COMPARATIVE_WORDS | {"in"}
_DIRECTIONAL = ("DIR", "PART")
# Superlatives of size and depth describe a noun after them, never a frame ("large window").
GROUP_SIZE_AXES = ("size", "depth")


def match(lowers: Sequence[str], i: int, tables: Tables) -> tuple[int, dict[str, Any]]:
    """The longest table phrase starting at word i: (its length, its categories)."""
    for size in tables.sizes.get(lowers[i], ()):  # the lengths of the phrases it starts, longest first
        if i + size <= len(lowers):
            cats = tables.lexemes.get(tuple(lowers[i:i + size]))
            if cats:
                return size, cats
    word = lowers[i]
    return 1, numeric_lexeme(word) if word[0] in _DIGITS else _NO_MATCH  # "11th": an ordinal in digits


class _Words(list):
    """The lower-cased words of one ``lex`` call, with what is worked out about them once
    (so that questions about the words ahead cost time linear in the text's length)."""

    # set on first use (list's own constructor makes one: lex makes one per expression)
    __slots__ = ("ahead", "_opener")

    def answers(self) -> dict[tuple[int, bool], bool]:
        """_is_dir_ahead's answers so far."""
        try:
            return self.ahead
        except AttributeError:
            self.ahead = {}
            return self.ahead

    def opener_before(self, i: int) -> bool:
        """Does a word opening another object's phrase ("with", "holding") come before i?"""
        try:
            opener = self._opener
        except AttributeError:
            opener = self._opener = next((k for k, w in enumerate(self) if w in lx.IN_CLAUSE_OPENERS), len(self))
        return opener < i


def _is_dir_ahead(lowers: _Words, j: int, tables: Tables, through_determiners: bool = True) -> bool:
    """Does a direction (possibly after intensifiers / a determiner) start at j? A word that
    is both a direction and an intensifier ("furthest") is the intensifier when a direction
    follows it. Worked out with a stack of pending positions, each answer kept: a run of
    such words is as long as the text, too long for recursion or for rescanning."""
    memo = lowers.answers()
    start = (j, through_determiners)
    pending = [start]
    while pending:
        key = pending[-1]
        if key in memo:
            pending.pop()
            continue
        j, det = key
        if j >= len(lowers):
            memo[key] = False
            continue
        size, cats = match(lowers, j, tables)
        if "dir" in cats:
            if "int" not in cats:
                memo[key] = True
                continue
            after = memo.get((j + size, True))
            if after is None:
                pending.append((j + size, True))
                continue
            if not after:
                memo[key] = True
                continue
        if "int" in cats or det and lowers[j] in lx.DETERMINERS:
            after = memo.get((j + size, det))
            if after is None:
                pending.append((j + size, det))
                continue
            memo[key] = after
        else:
            memo[key] = False
    return memo[start]


def _categorise(lowers, i, size, cats, chunks, tables, registry, toks) -> Chunk:
    span = list(toks[i:i + size])
    nxt = lowers[i + size] if i + size < len(lowers) else ""
    prev = chunks[-1] if chunks else None

    camera = _camera_superlative(lowers, i, toks, tables, registry)
    if camera is not None:
        return camera
    if lowers[i] in lx.CAMERA_SUPERLATIVES and away_from_landmark(lowers, i + size):
        return Chunk("WORD", span)  # "farthest away from the doors": no primitive measures it
    if "ord" in cats:
        return Chunk("ORD", span, cats["ord"])
    if "tern" in cats:
        middle = "middle" in lowers[i:i + size] and "middle" in registry.names("superlative")
        if middle and (scene_at(lowers, i + size - 1, frames=True) or others_at(lowers, i + size)):
            return Chunk("DIR", span[:-1], "middle")  # "in the middle of the picture / the others"
        return Chunk("TERN", span, cats["tern"])
    if "int" in cats and _is_dir_ahead(lowers, i + size, tables):
        return Chunk("FAR", span)
    if prev is not None and prev.cat in ("DIR", "PART") and part_at(lowers, i):
        return Chunk("PART", list(toks[i:i + part_at(lowers, i)]))
    if prev is not None and prev.cat in ("DIR", "PART"):
        frames = prev.cat == "PART" or prev.toks[-1].lower in lx.FRAME_REGIONS
        bare_scene = lowers[i] in lx.SCENE_NOUNS and not word_ahead(lowers, i + 1) \
            and tables.axes.get(prev.value) not in GROUP_SIZE_AXES  # "a large window" is a noun
        scene = scene_at(lowers, i, frames) or int(bare_scene)
        if scene:
            return Chunk("SCENE", list(toks[i:i + scene]))
        if lowers[i] == "of":
            return Chunk("OF", span[:1])
    if lowers[i] == "in" and tables.containment and _contains_object(lowers, i, tables):
        return _relation_chunk(span[:1], tables.containment, lowers, i + 1, toks, chunks)
    comparative = _comparative(lowers, i, toks, tables, registry, chunks)
    if comparative is not None:
        return comparative
    if "rel" in cats and "dir" not in cats:
        return _relation_chunk(span, cats["rel"], lowers, i + size, toks, chunks)
    if "dir" in cats:
        # "above left" is a compound direction; "above the leftmost star" a relation whose
        # landmark is a superlative: a determiner between them marks the landmark
        if "rel" in cats and nxt not in ("of", "") and lowers[i] in lx.PREPOSITIONS \
                and not _is_dir_ahead(lowers, i + size, tables, through_determiners=False) \
                and word_ahead(lowers, i + size):
            return _relation_chunk(span, cats["rel"], lowers, i + size, toks, chunks)
        if _spatial_in_context(lowers, i, size, tables):
            return Chunk("DIR", span, cats["dir"])
    return Chunk("WORD", span[:1])


def _contains_object(lowers: _Words, i: int, tables: Tables) -> bool:
    """Is "in" at i containment in an object ("a man in a car", "the cat in the chair"), not
    clothing, colour, scene or area ("in a red shirt", "in the snow"), and not inside another
    object's with-phrase ("plant with a rose in a pot")?"""
    if lowers.opener_before(i):
        return False
    j = i + 1
    if j >= len(lowers) or not (lowers[j] in lx.DETERMINERS or lowers[j] in lx.POSSESSIVES):
        return False
    words: list[str] = []
    for w in lowers[j + 1:j + 6]:
        if not w[:1].isalpha() or w in lx.PREPOSITIONS or w in lx.CLAUSE_WORDS or w in ("and", "or") \
                or w in lx.DETERMINERS or (w.endswith("ing") and w not in lx.ING_NOUNS):
            break
        words.append(w)
    if not words or words[-1] in lx.COLORS:
        return False
    for w in words:  # "in the far left", "in the top corner": a place; "the smaller pot": an object
        cats = tables.lexeme(w)
        if "int" in cats or "ord" in cats and w == words[-1] \
                or "dir" in cats and tables.axes.get(cats["dir"]) not in GROUP_SIZE_AXES:
            return False
    return not any(w in lx.IN_NOT_CONTAINERS or w.rstrip("s") in lx.IN_NOT_CONTAINERS for w in words)


def _comparative(lowers, i, toks, tables, registry, chunks) -> Chunk | None:
    """ "bigger than X", "higher than X" (a superlative's comparative relation), "closer to X
    (than the others)" (the relation of "close to"): relations to X."""
    word = lowers[i]
    nxt = lowers[i + 1] if i + 1 < len(lowers) else ""
    if word in lx.COMPARATIVE_TO and nxt == "to":
        name = registry.words("relation").get(lx.COMPARATIVE_TO[word])
        if name and word_ahead(lowers, i + 2) and lowers[i + 2] not in lx.CAMERA_NOUNS \
                and (i + 3 >= len(lowers) or lowers[i + 3] not in lx.CAMERA_NOUNS):
            return _relation_chunk(list(toks[i:i + 2]), name, lowers, i + 2, toks, chunks)
    if word not in lx.COMPARATIVE_WORDS or nxt != "than":
        return None
    name = registry.words("relation").get(word)
    if name is None and word in lx.COMPARATIVE_SUPERLATIVES:
        name = tables.comparatives.get(lx.COMPARATIVE_SUPERLATIVES[word])
    if name is None or name not in registry.names("relation"):
        return None
    return _relation_chunk(list(toks[i:i + 2]), name, lowers, i + 2, toks, chunks)


def _relation_chunk(span, name, lowers, j, toks, chunks) -> Chunk:
    if span[0].lower == "by" and _passive_agent([c.lower for c in chunks[-3:]]):
        return Chunk("WORD", span[:1])  # "skis being used by a woman": the agent, not "near"
    # swallow "of"/"to" after a relation ("inside of", "near to") and an adverb before it
    if j < len(lowers) and lowers[j] in ("of", "to") and span[-1].lower not in ("of", "to"):
        span = span + [toks[j]]
    if chunks and chunks[-1].lower in lx.RELATION_ADVERBS and len(chunks[-1].toks) == 1:
        before = chunks[-2].lower if len(chunks) > 1 else ""
        if chunks[-1].cat == "WORD" or not (before in lx.DETERMINERS or before in lx.LOCATIVES
                                             or before in lx.INTENSIFIERS):
            span = list(chunks.pop().toks) + span
    return Chunk("REL", span, name)


def _participle(word: str) -> bool:
    return (word.endswith("ed") or word.endswith("en")) and len(word) > 3 or word in lx.IRREGULAR_PARTICIPLES


def _passive_agent(before: list[str]) -> bool:
    """Do the words before "by" make it a passive agent ("ridden by", "sat on by", "being led
    by")? A participle of position ("parked by the curb") keeps "by" a place."""
    if not before:
        return False
    verb = before[-2] if before[-1] in lx.PASSIVE_PARTICLES and len(before) > 1 else before[-1]
    if verb in lx.CLAUSE_ADVERBS:
        return False
    marked = len(before) > 1 and before[-2] in lx.PASSIVE_MARKERS
    return _participle(verb) or marked


def _spatial_in_context(lowers: Sequence[str], i: int, size: int, tables: Tables) -> bool:
    """Is the direction word at i a place here, not clothing, a body part or a gaze?"""
    word = lowers[i]
    back = i - 1
    while back >= 0 and (lowers[back] in lx.DETERMINERS or lowers[back] in lx.LOCATIVES
                         or "int" in tables.lexeme(lowers[back])):
        back -= 1
    before = lowers[back] if back >= 0 else ""
    if i > 0 and lowers[i - 1] in lx.POSSESSIVES:
        return False  # "her right hand", "his back"
    if before in lx.GAZE_WORDS:
        return False  # "facing left", "looking to the right"
    nxt = lowers[i + size] if i + size < len(lowers) else ""
    if word in ("left", "right") and sided_part_at(lowers, i + size):
        return False  # "the right arm of the man": which arm, not where it is
    if nxt in lx.VIEWPOINT_NOUNS and word not in lx.CENTRE_WORDS:
        return False  # "a front shot of", "side view": where the camera stood, not a place
    adverb_position = word == "right" and size == 1 and back == i - 1 and nxt != "of"
    if adverb_position and nxt in lx.LOCATIVES | lx.PREPOSITIONS:
        return False  # "right in the middle": an adverb
    if word in lx.NOUN_LIKE_DIRECTIONS and size == 1:
        previous = lowers[i - 1] if i > 0 else ""
        earlier = lowers[i - 2] if i > 1 else ""
        anchors = lx.LOCATIVES | lx.INTENSIFIERS | {"from", ",", "and"}

        def anchored(word: str) -> bool:
            lexeme = tables.lexeme(word)
            # after a relation word it starts a landmark: "under the bottom red triangle"
            return not word or word in anchors or any(c in lexeme for c in ("dir", "ord", "rel"))

        functional = anchored(previous) or (previous in lx.DETERMINERS and anchored(earlier))
        ahead = match(lowers, i + 1, tables)[1] if nxt else {}
        behind = word in lx.SURFACE_PARTS and nxt == "of" and starts_noun(previous)  # "car back of man"
        followed = behind or "dir" in ahead or nxt in lx.DIRECTION_PARTS or (
            previous in lx.DETERMINERS and starts_noun(nxt) and nxt not in lx.SCENE_NOUNS)
        if not functional and not followed:
            return False  # "a red top", "with back to the camera"
    return True


def _camera_superlative(lowers, i, toks, tables, registry) -> Chunk | None:
    """ "closest to the camera", "furthest from us": a superlative, not a relation."""
    word = lowers[i]
    kind = lx.CAMERA_SUPERLATIVES.get(word)
    if kind is None or kind not in registry.names("superlative"):
        return None
    j = i + 1
    if j < len(lowers) and lowers[j] in ("to", "from", "away"):
        j += 1
    if j < len(lowers) and lowers[j] in ("the", "a"):
        j += 1
    if j < len(lowers) and lowers[j] in lx.CAMERA_NOUNS:
        return Chunk("DIR", list(toks[i:j + 1]), kind)
    return None
