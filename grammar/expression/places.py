"""Tests on the lower-cased words around a spatial word: does a noun, a landmark, a part,
a scene or frame ("of the picture", "of the table"), a group ("the other items") or a paired
part ("right arm") start here? Used by the lexer and the context passes."""

from __future__ import annotations

from typing import Sequence

from grammar import lexicon as lx


def word_ahead(lowers: Sequence[str], j: int) -> bool:
    return j < len(lowers) and lowers[j][:1].isalnum()


def others_at(lowers: Sequence[str], j: int) -> bool:
    """ "(in the middle of) the other items", "all the others": the group the referent is
    one of, so the phrase picks from it (a count, "the two plates", makes it "between")."""
    while j < len(lowers) and lowers[j] in ("the", "all"):
        j += 1
    if j >= len(lowers) or lowers[j] not in ("other", "others", "rest"):
        return False
    after = lowers[j + 1] if j + 1 < len(lowers) else ""
    return not (after.isdigit() or after in lx.QUANTITIES)


def sided_part_at(lowers: Sequence[str], j: int) -> bool:
    """A paired part at j ("arm of the man", "his right hand"), not "right hand side / picture"."""
    if j >= len(lowers) or lowers[j] not in lx.SIDED_PARTS:
        return False
    after = lowers[j + 1] if j + 1 < len(lowers) else ""
    return lowers[j] not in ("hand", "hands") or not after or after in lx.PREPOSITIONS \
        or after in lx.CLAUSE_WORDS or not after[:1].isalnum()


def part_at(lowers: Sequence[str], i: int) -> int:
    for size in (2, 1):
        if " ".join(lowers[i:i + size]) in lx.DIRECTION_PARTS:
            return size
    return 0


def scene_at(lowers: Sequence[str], i: int, frames: bool = False) -> int:
    """Length of "of the picture" / "in this image" / "of the two" starting at i, else 0;
    with ``frames`` (after a region word) also "of the table", "of the pen": the surface
    or area the referent lies in."""
    if i >= len(lowers) or lowers[i] not in lx.SCENE_PREPOSITIONS:
        return 0
    j = i + 1
    if lowers[j:j + 2] in (["all", "the"], ["all", "others"]):
        j += 1  # "of all the others"
    if j < len(lowers) and lowers[j] in ("the", "this", "that", "these", "those"):
        j += 1
    if j >= len(lowers):
        return 0
    if lowers[j] in lx.SCENE_NOUNS:
        return j + 1 - i
    if frames and lowers[j] in ("a", "an") and j == i + 1:
        j += 1  # "the right and front side of a plate": a frame, not a scene group
        if j >= len(lowers) or lowers[j] not in lx.FRAME_NOUNS:
            return 0
    after = lowers[j + 1] if j + 1 < len(lowers) else ""
    if frames and lowers[j] in lx.FRAME_NOUNS and not starts_noun(after):
        return group_members(lowers, j + 1) - i
    after = lowers[j + 1] if j + 1 < len(lowers) else ""
    if lowers[i] == "of" and lowers[j] in lx.SCENE_GROUPS and not starts_noun(after) \
            and after not in lx.DETERMINERS and after != "other":
        return j + 1 - i  # "on the left of the two", "of them" (not "of all the other bowls")
    return 0


def group_members(lowers: Sequence[str], j: int) -> int:
    """Where a frame that is a group ends: after "of three elephants" in "a row of three
    elephants" (its members are the referent's kind), else at j."""
    if j + 1 >= len(lowers) or lowers[j] != "of" or lowers[j - 1] not in lx.GROUP_FRAMES:
        return j
    k = j + 1
    while k < len(lowers) and (lowers[k] in lx.QUANTITIES or lowers[k] in lx.DETERMINERS or lowers[k].isdigit()):
        k += 1
    return k + 1 if k < len(lowers) and starts_noun(lowers[k]) else j


def away_from_landmark(lowers: Sequence[str], j: int) -> bool:
    """ "(farthest) away from X", "(furthest) from X" where X is not the viewer."""
    if j < len(lowers) and lowers[j] == "away":
        j += 1
    if j >= len(lowers) or lowers[j] != "from":
        return False
    return j + 1 < len(lowers) and lowers[j + 1] not in lx.CAMERA_NOUNS \
        and (j + 2 >= len(lowers) or lowers[j + 2] not in lx.CAMERA_NOUNS)


def starts_landmark(word: str) -> bool:
    return (word in lx.DETERMINERS or word in lx.QUANTITIES or word in lx.POSSESSIVES
            or word.isdigit() or word in lx.CAMERA_NOUNS)


def starts_noun(word: str) -> bool:
    return (word[:1].isalpha() and word not in lx.PREPOSITIONS and word not in lx.CLAUSE_WORDS
            and word not in lx.DETERMINERS and word not in lx.POSSESSIVES and word not in ("and", "or")
            and not word.endswith("ing") and not word.endswith("ed") and word not in lx.POSTNOMINAL)
