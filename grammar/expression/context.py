"""Stage 4, context passes: the chunks around the spatial ones settle their categories.

Each pass takes the lexer's chunks and returns a new list (chunks are immutable; a
re-read chunk is a new one): determiners, locatives and "from" become structural
before a direction; a direction that is a part of its owner ("the back of a truck") or
describes a later noun ("cat on middle shelf") goes back to plain words.
"""

from __future__ import annotations

from typing import Sequence

from grammar import lexicon as lx
from grammar.expression.lexer import Chunk
from grammar.expression.places import starts_landmark, starts_noun
from grammar.expression.tables import Tables

# Superlatives that read "the X-est of the Ys" as a superlative over the Ys: those
# ordering by size or depth (a registry entry's axis).
GROUP_AXES = ("size", "depth")


def settle_context(chunks: Sequence[Chunk], tables: Tables) -> list[Chunk]:
    """All context passes, in order; the input list is left as it was."""
    out = mark_function_words(chunks)
    out = demote_part_owners(out, tables)
    out = demote_places_before_nouns(out)
    out = demote_inner_prenominals(out)
    out = demote_with_object_positions(out)
    out = demote_relations_without_landmark(out)
    return join_coordinated_directions(out)


def _as_words(chunks: list[Chunk], start: int, stop: int) -> None:
    """Read chunks[start:stop] as plain words, in this pass's own list."""
    for k in range(start, stop):
        chunks[k] = chunks[k].with_cat("WORD")


def mark_function_words(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Right to left: determiners, locatives and "from" are structural only before a direction."""
    out = list(chunks)
    for j in range(len(out) - 1, -1, -1):
        c = out[j]
        if c.cat != "WORD":
            continue
        nxt = out[j + 1].cat if j + 1 < len(out) else ""
        word = c.lower
        if word in lx.DETERMINERS and nxt in ("DIR", "FAR", "ORD"):
            out[j] = c.with_cat("DET")
        elif word == "from" and (nxt in ("DIR", "FAR") or (nxt == "DET" and _dir_after(out, j + 2))):
            out[j] = c.with_cat("FROM")
        elif word in lx.LOCATIVES and (nxt in ("DIR", "FAR") or (nxt == "DET" and _dir_after(out, j + 2))):
            out[j] = c.with_cat("LOC")
    return out


def join_coordinated_directions(chunks: Sequence[Chunk]) -> list[Chunk]:
    """ "to the right and front side of a plate": "and" between two directions joins them
    into one compound direction."""
    out = list(chunks)
    for j in range(1, len(out) - 1):
        if out[j].cat == "WORD" and out[j].lower in ("and", "&") and out[j - 1].cat == "DIR" \
                and _dir_after(out, j + 1):
            out[j] = out[j].with_cat("AND")
    return out


def _dir_after(chunks: Sequence[Chunk], j: int) -> bool:
    return j < len(chunks) and chunks[j].cat in ("DIR", "FAR")


def demote_part_owners(chunks: Sequence[Chunk], tables: Tables) -> list[Chunk]:
    """ "the back of a truck", "top of the cake": a part of its owner, not a relation."""
    out = list(chunks)
    j = -1
    while j + 1 < len(out):  # a group merged into one PART chunk shortens the list as it goes
        j += 1
        c = out[j]
        if c.cat != "DIR":
            continue
        k = j + 1
        while k < len(out) and out[k].cat == "PART":
            k += 1
        if k >= len(out) or out[k].cat != "OF":
            continue
        start = j
        while start > 0 and out[start - 1].cat in ("DET", "FAR"):
            start -= 1
        has_det = start < j and out[start].cat == "DET"
        # after "on the" or after "the right and": a place of the referent, not a part
        after_loc = start > 0 and out[start - 1].cat == "LOC" or start > 1 and out[start - 2].cat == "DIR" \
            and out[start - 1].cat == "WORD" and out[start - 1].lower in ("and", "&")
        if after_loc and out[start - 1].lower == "on" and c.lower in lx.SURFACE_PARTS and k == j + 1:
            _as_words(out, start - 1, k + 1)  # "on the back of a toilet": on its surface, not behind it
            continue
        noun_like = c.lower in lx.NOUN_LIKE_DIRECTIONS or k > j + 1
        if not after_loc and (not noun_like or k == j + 1) \
                and _group_after(out, k, c, noun_like, tables, opens=has_det and start == 0):
            continue
        after_noun = start == j and j > 0 and out[j - 1].cat == "WORD" and starts_noun(out[j - 1].lower)
        if c.lower in lx.SURFACE_PARTS and after_noun:
            continue  # "a car back of man": a relation ("behind"), there is no determiner for a part
        if not after_loc and (has_det or noun_like):
            _as_words(out, start, k + 1)
    return out


def _group_after(chunks: list[Chunk], k: int, direction: Chunk, noun_like: bool, tables: Tables,
                 opens: bool = False) -> bool:
    """ "the bigger of the two dogs", "the left of the two men": a superlative over the
    group; "of" and the group words become one PART chunk (dropped from the text), in
    the calling pass's own list. ``opens``: "the" and the direction open the expression,
    so a plural after "of" is the group too ("the left of all the men")."""
    m = k + 1
    while m < len(chunks) and chunks[m].cat == "WORD" and (chunks[m].lower in ("the", "these", "those") or (
            chunks[m].lower == "all" and m + 1 < len(chunks) and chunks[m + 1].lower in ("the", "other", "others"))):
        m += 1  # "of the two", "of all the others"
    group = m < len(chunks) and chunks[m].lower in lx.SCENE_GROUPS | {"other"}
    if group:
        m += 1
    elif opens and not noun_like and m > k + 1 and m < len(chunks) and _plural_noun(chunks[m]):
        group = True  # the plural stays: it names the referent's kind
    if not (group or (tables.axes.get(direction.value) in GROUP_AXES and not noun_like)) or m >= len(chunks):
        return False
    if chunks[m - 1].lower in ("other", "others") and any(c.cat == "WORD" for c in chunks[:k - 1]):
        while m < len(chunks) and chunks[m].cat == "WORD" and starts_noun(chunks[m].lower):
            m += 1  # "dough in the middle of the other items": the group's noun is the referent's
    chunks[k:m] = [Chunk("PART", [t for c in chunks[k:m] for t in c.toks])]
    return True


def _plural_noun(chunk: Chunk) -> bool:
    word = chunk.toks[0]
    return chunk.cat == "WORD" and starts_noun(word.lower) and word.lemma != word.lower


def demote_places_before_nouns(chunks: Sequence[Chunk]) -> list[Chunk]:
    """ "cat on middle shelf", "train on the far right rail": the direction describes the
    next noun, not the referent, so the place stays text."""
    out = list(chunks)
    for j, c in enumerate(out):
        if c.cat != "LOC":
            continue
        k = j + 1
        while k < len(out) and out[k].cat in ("DET", "FAR", "DIR"):
            k += 1
        if k < len(out) and out[k].cat == "WORD" and starts_noun(out[k].lower):
            _as_words(out, j, k)
    return out


def demote_inner_prenominals(chunks: Sequence[Chunk]) -> list[Chunk]:
    """ "a lady holding a baby and a giant slice of pizza": a direction before a later
    noun (after the referent's words, without a preposition) describes that noun."""
    out = list(chunks)
    for j in range(1, len(out)):
        if out[j].cat not in ("DET", "FAR", "DIR") or out[j - 1].cat != "WORD":
            continue
        k = j
        while k < len(out) and out[k].cat in ("DET", "FAR", "DIR"):
            k += 1
        if k < len(out) and k > j and out[k - 1].cat == "DIR" and out[k].cat == "WORD" \
                and starts_noun(out[k].lower):
            _as_words(out, j, k)
    return out


def demote_relations_without_landmark(chunks: Sequence[Chunk]) -> list[Chunk]:
    """A relation needs a landmark after it: "man over on the left", "inside wall of the bathtub"."""
    out = list(chunks)
    if out[0].cat == "REL" and len(out) > 1 and not starts_landmark(out[1].lower):
        out[0] = out[0].with_cat("WORD")
    for j, c in enumerate(out):
        landmark_next = j + 1 < len(out) and out[j + 1].cat in ("WORD", "DET", "ORD", "DIR", "FAR")
        if c.cat in ("REL", "TERN") and (not landmark_next or _pronoun_at(out, j + 1)):
            out[j] = c.with_cat("WORD")
    return out


def _pronoun_at(chunks: Sequence[Chunk], j: int) -> bool:
    """ "a spoon inside of it", "a jacket over it": the pronoun is the referent itself, so
    the phrase describes it and relates it to nothing ("her" before a noun is a possessive)."""
    if chunks[j].lower not in lx.PRONOUN_LANDMARKS:
        return False
    return j + 1 >= len(chunks) or not starts_noun(chunks[j + 1].lower)


def demote_with_object_positions(chunks: Sequence[Chunk]) -> list[Chunk]:
    """ "a plate with a fork on top", "chair with a blanket on back": a bare position word on
    "on" after a with-phrase locates the with-object, not the referent."""
    out = list(chunks)
    seen_with = False
    for j, c in enumerate(out):
        seen_with = seen_with or (c.cat == "WORD" and c.lower == "with")
        if not seen_with or c.cat != "LOC" or c.lower != "on":
            continue
        k = j + 1
        if k < len(out) and out[k].cat == "DET":
            k += 1
        bare = k < len(out) and out[k].cat == "DIR" and out[k].lower in lx.WITH_OBJECT_POSITIONS
        if bare and (k + 1 >= len(out) or out[k + 1].cat == "WORD"):
            _as_words(out, j, k + 1)
    return out
