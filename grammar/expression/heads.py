"""Stage 6, heads: which word of a phrase names what it is.

With a trained pipeline, the dependency parse picks each noun phrase's head; without
one, a head is the last noun-like word before the first preposition, clause word or
verb form (WordNet's part-of-speech lists from spacy-lookups-data tell adjectives
from nouns).
"""

from __future__ import annotations

import gzip
import json
import os
from functools import lru_cache
from typing import Sequence

from grammar import lexicon as lx
from grammar.errors import CompileError
from grammar.expression.tokens import HYPHENS, MISSING_LOOKUPS, Tok


@lru_cache(maxsize=1)
def _pos_index() -> dict[str, frozenset[str]]:
    """WordNet word lists by part of speech, from spacy-lookups-data (for adjective-only words)."""
    try:
        import spacy_lookups_data
    except ImportError as exc:
        raise CompileError(MISSING_LOOKUPS) from exc
    path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", "en_lemma_index.json.gz")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise CompileError(f"spacy-lookups-data's word lists could not be read ({path}): {exc}") from exc
    return {k: frozenset(v) for k, v in data.items()}

_INDEX: dict[str, frozenset[str]] = {}  # _pos_index(), bound on first use (the hot path's lookup)


def _in_index(word: str, pos: str) -> bool:
    try:
        return word in _INDEX[pos]
    except KeyError:
        if not _INDEX:
            _INDEX.update(_pos_index())
        return word in _INDEX.get(pos, ())


def _adjective_only(word: str) -> bool:
    return word in lx.COLORS or (_in_index(word, "adj") and not _in_index(word, "noun"))


@lru_cache(maxsize=1 << 16)
def _noun_only(word: str) -> bool:
    return _in_index(word, "noun") and not _in_index(word, "adj") and word not in lx.COLORS


def _verb_form(toks: Sequence[Tok], k: int) -> bool:
    """A verb after the noun: "man sitting on", "chair tucked under", "a zebra stands with"."""
    t = toks[k]
    w = t.lower
    nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
    prev = toks[k - 1].lower
    closing = not nxt or nxt in _CLOSING or not nxt[:1].isalnum() or nxt.endswith("ing")
    if w.endswith("ing") and len(w) > 4 and w not in lx.ING_NOUNS:
        return closing or _noun_only(prev) or _noun_only(toks[k - 1].lemma)
    if w.endswith("ed") and len(w) > 4 and closing:
        return True
    if w != t.lemma and _in_index(t.lemma, "verb") and closing:
        if w in lx.IRREGULAR_PARTICIPLES or not _in_index(w, "noun") and not w.endswith("s"):
            return True  # "seen behind", "held up by"
        if w.endswith("s") and _noun_only(prev) and nxt not in lx.CLAUSE_WORDS \
                and (nxt or not _in_index(t.lemma, "noun")):
            return True  # "a chair sits beneath", "a zebra stands with" (not "two baby bears")
    if w in lx.IRREGULAR_PARTICIPLES and closing and nxt:
        return True
    if w == t.lemma and _in_index(w, "verb") and _noun_only(prev) \
            and (nxt in ("a", "an", "the") or nxt in lx.POSSESSIVES):
        return True  # "a man hold a remote"
    return False


def _possessive_marks(toks: Sequence[Tok]) -> list[Tok]:
    """Drop quotes; "cat ' s" (RefCOCO's spacing) becomes "cat 's"."""
    if _MARKS.isdisjoint([t.lower for t in toks]):
        return list(toks)  # nothing to drop or join (most phrases)
    out: list[Tok] = []
    for k, t in enumerate(toks):
        if t.lower in ("'", "’") and k + 1 < len(toks) and toks[k + 1].lower == "s":
            out.append(Tok(t.i, "'s", "'s", " "))
        elif t.lower == "s" and out and out[-1].lower == "'s":
            continue
        elif t.lower not in ("'", '"', "`", "’"):
            out.append(t)
    return out


_MARKS = frozenset(("'", '"', "`", "’", "s"))  # the words _possessive_marks drops or joins


def is_noun_like(t: Tok) -> bool:
    return _noun_like_word(t.lower)


@lru_cache(maxsize=1 << 16)
def _noun_like_word(w: str) -> bool:
    """Could the word be a head noun? (A function of the word alone, so memoised per word.)"""
    return (w[:1].isalpha() and w not in lx.DETERMINERS and w not in lx.NON_HEADS
            and w not in lx.PREPOSITIONS and w not in lx.CLAUSE_WORDS and w not in ("and", "or")
            and not _adjective_only(w) and not _adverb_only(w))


def clear_caches() -> None:
    """Forget the per-word classes (benchmarks time a cold pass)."""
    _noun_like_word.cache_clear()
    _noun_only.cache_clear()


def _adverb_only(word: str) -> bool:
    """ "partially", "slightly": an -ly adverb WordNet knows as nothing else."""
    return word.endswith("ly") and _in_index(word, "adv") and not _in_index(word, "noun") \
        and not _in_index(word, "adj")


def _part_prefix(toks: Sequence[Tok]) -> bool:
    """Only describers before a part word: "the left side of", "face and upper body of"."""
    return all(not _noun_only(t.lower) or t.lower in lx.DETERMINERS or t.lower in lx.NON_HEADS
               or t.lower in lx.OWNER_PARTS or t.lower in lx.DIRECTION_WORDS
               or t.lower in lx.SIZE_WORDS or t.lower in lx.MATERIALS or t.lower in ("and", ",", "&")
               or t.lower.isdigit() for t in toks)


def _picture_of(toks: Sequence[Tok]) -> bool:
    """Do the words end in a picture word of the first noun phrase ("blur image", not
    "a mirror taking a picture")? A picture of X then names X."""
    return toks[-1].lower in lx.PICTURE_PARTS and not any(
        t.lower in lx.DETERMINERS or t.lower.endswith("ing") or _verb_form(toks, n)
        for n, t in enumerate(toks[:-1]) if n > 0)


def _head_heuristic(toks: Sequence[Tok], landmark: bool = False) -> Tok | None:
    """Last noun-like word of the first simple noun phrase (no parser available). A
    possessive names the possessed noun ("the cat's water dish"), except that a referent's
    possessed part names its owner ("a horse's head", like "the back of a truck").

    "the back of a truck", "one of the men": the owner is the referent, so each part's "of"
    is followed to its owner's phrase, and a phrase with no head falls back to the one that
    led to it. A loop, not recursion: a chain of parts ("the left of the left of ...") is as
    long as the text."""
    toks = _possessive_marks(toks)  # idempotent, so once for every phrase of the chain
    chain: list[list[Tok]] = []
    while True:
        toks = _without_fillers(toks)
        k = _owner_of(toks)
        if k is None:
            break
        chain.append(toks)
        toks = toks[k + 1:]
    head = _phrase_head(toks, landmark)
    while head is None and chain:
        head = _phrase_head(chain.pop(), landmark)
    return head


def _without_fillers(toks: list[Tok]) -> list[Tok]:
    start = 0
    while start < len(toks) - 1 and toks[start].lower in lx.LEADING_FILLERS \
            and not (toks[start].lower in lx.PICTURE_FILLERS and toks[start + 1].lower not in lx.LEADING_FILLERS):
        start += 1
    return toks[start:] if start else toks


def _owner_of(toks: list[Tok]) -> int | None:
    """The position of the "of" after a part word near the start ("the back of"), if any."""
    for k, t in enumerate(toks[:6]):
        part = toks[k - 1].lower if k > 0 else ""
        if t.lower == "of" and (part in lx.OWNER_PARTS or part[:-1] in lx.OWNER_PARTS) \
                and (_picture_of(toks[:k]) or _part_prefix(toks[:k - 1])):
            return k
        if t.lower in lx.PREPOSITIONS or (t.lower in lx.CLAUSE_WORDS and t.lower != "and"):
            return None
    return None


def _phrase_head(toks: list[Tok], landmark: bool) -> Tok | None:
    """The head of the first simple noun phrase of the words."""
    span: list[Tok] = []
    describers = _Describers(span)
    for k, t in enumerate(toks):
        if span and t.lower in POSSESSIVE_MARKS and _possessed_after(toks, k):
            if not landmark and _possessed_part(toks, k):
                break  # "a horse's head": the owner
            span = []  # "the cat's water dish", "under the man's arm": the possessed noun
            describers = _Describers(span)
            continue
        if span and _ends_phrase(toks, k, describers):
            break
        span.append(t)
    nouns = [t for t in span if is_noun_like(t)]
    if len(nouns) >= 2 and nouns[-1].lower in lx.COMPOUND_PARTS and _noun_only(nouns[-2].lower) \
            and nouns[-2].lower not in lx.MATERIALS \
            and nouns[-2] is span[span.index(nouns[-1]) - 1]:
        return nouns[-2]  # "chair legs", "table top", "pizza slice"
    if nouns:
        return nouns[-1]
    words = [t for t in span if t.lower[:1].isalpha() and t.lower not in lx.NON_HEADS]
    return words[-1] if words else (span[-1] if span else None)


POSSESSIVE_MARKS = ("'s", "’s")


class _Describers:
    """Are a growing span's words adjectives, counts and hyphenated modifiers only, so far
    ("two silver", "high - end")? A word's answer is final once the word after it is in
    the span, so each word is checked once, however long a run of describers grows
    ("and and and ..." would otherwise cost time quadratic in its length)."""

    __slots__ = ("span", "known")

    def __init__(self, span: list[Tok]):
        self.span, self.known = span, 0  # span[:known] are describers, each with its neighbours

    def __call__(self) -> bool:
        span = self.span
        for n in range(self.known, len(span)):
            if not _describer(span, n):
                return False
            if n < len(span) - 1:
                self.known = n + 1
        return True


def _describer(span: Sequence[Tok], n: int) -> bool:
    w = span[n].lower
    return _adjective_only(w) or w in ("and", ",", "/", "&", *HYPHENS) or w in lx.NON_HEADS \
        or w.isdigit() or _hyphenated(span, n)


def _hyphenated(span: Sequence[Tok], n: int) -> bool:
    """Is span[n] half of a hyphenated modifier ("high - end")?"""
    return any(0 <= m < len(span) and span[m].lower in HYPHENS for m in (n - 1, n + 1))


def _possessed_after(toks: Sequence[Tok], k: int) -> bool:
    """Is the "'s" at k a possessive ("man's arm"), not "is" ("it's a", "man's holding")?"""
    nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
    return (nxt[:1].isalpha() and nxt not in lx.PREPOSITIONS and nxt not in lx.CLAUSE_WORDS
            and nxt not in lx.DETERMINERS and nxt not in lx.POSTNOMINAL and nxt not in lx.NON_HEADS
            and not (nxt.endswith("ing") and nxt not in lx.ING_NOUNS) and not _verb_form(toks, k + 1))


def _possessed_part(toks: Sequence[Tok], k: int) -> bool:
    """Is what the "'s" at k possesses a part of its owner ("horse's head", "woman's profile")?"""
    for t in toks[k + 1:k + 4]:
        if t.lower in lx.OWNER_PARTS:
            return True
        if not t.lower[:1].isalpha() or t.lower in lx.PREPOSITIONS or t.lower in lx.CLAUSE_WORDS:
            break
    return False


def _ends_phrase(toks: Sequence[Tok], k: int, describers: _Describers) -> bool:
    w = toks[k].lower
    nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
    if (toks[k - 1].lower if k else "", w) in lx.PRENOMINAL_PHRASES:
        return False  # "a carry on bag"
    if w in HYPHENS and nxt[:1].isalnum():
        return False  # "high - tech monitor", "four - legged stool": one modifier
    if w in lx.CAMERA_SUPERLATIVES and nxt in ("away", "from"):
        return True  # "a chair far away from the door"
    if w in lx.IDENTIFIER_WORDS and nxt[:1].isdigit():
        return True  # "bus number 908989": the identifier follows the noun
    if w in (",", "/", "and", "&", "-") and describers():
        return False  # "a blue , white and grey tie", "two silver , red and white trains"
    if w in ("and", "or", "&"):
        return nxt in lx.DETERMINERS or nxt in lx.POSSESSIVES
    return w in _BOUNDARY or not w[:1].isalnum() or _verb_form(toks, k)


# Words that end a noun phrase before them; and those that close one after a verb form.
_BOUNDARY = lx.PREPOSITIONS | lx.CLAUSE_WORDS | lx.DETERMINERS | lx.POSSESSIVES | lx.POSTNOMINAL
_CLOSING = _BOUNDARY | lx.NON_HEADS


def _head_from_parse(toks: Sequence[Tok]) -> Tok | None:
    """The phrase's syntactic head: a noun whose head lies outside the phrase."""
    inside = {t.i for t in toks}
    tops = [t for t in toks if t.head not in inside or t.head == t.i]
    for t in tops:
        if t.pos in ("NOUN", "PROPN"):
            if t.lower in lx.OWNER_PARTS:
                owner = _of_object(t, toks)
                if owner is not None:
                    return owner
            return t
    for t in toks:  # a noun governed by a non-noun top (e.g. "there is a laptop")
        if t.pos in ("NOUN", "PROPN") and t.dep in ("nsubj", "attr", "dobj", "ROOT", "appos"):
            return t
    return None


def _of_object(t: Tok, toks: Sequence[Tok]) -> Tok | None:
    of = next((o for o in toks if o.head == t.i and o.lower == "of"), None)
    if of is None:
        return None
    return next((o for o in toks if o.head == of.i and o.pos in ("NOUN", "PROPN")), None)


def find_head(toks: Sequence[Tok], parsed: bool, landmark: bool = False) -> Tok | None:
    """The head word of a phrase; ``landmark``: a possessed part is the landmark itself
    ("under the man's arm": the arm), where a referent's names its owner."""
    head = _head_from_parse(toks) if parsed else None
    return head or _head_heuristic(toks, landmark)


def head_word(tok: Tok | None) -> str | None:
    """The head's lemma; a word WordNet knows as a noun keeps its form ("number", not "numb")."""
    if tok is None or not any(ch.isalnum() for ch in tok.lower):
        return None  # punctuation is no head; callers fall back to "object"
    if tok.lower in lx.PLURAL_ONLY_NOUNS:
        return tok.lower
    if tok.lemma != tok.lower and _in_index(tok.lower, "noun") and not tok.lower.endswith("s") \
            and tok.lower not in lx.IRREGULAR_PLURALS:
        return tok.lower
    return tok.lemma

