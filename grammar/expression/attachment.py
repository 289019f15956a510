"""Stage 7, attachment: which phrase each spatial phrase describes.

By default every spatial phrase describes the referent. A dependency parse (trained
pipeline) attaches a phrase whose governor lies in an earlier landmark to that
landmark; a relative clause ("the plate that is left of the bowl") attaches the phrase
after it to the noun phrase just before it; a counting direction ("from the left")
belongs to the ordinal just before it. Each step returns a new Parsed (or its input,
when it changes nothing).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from grammar import lexicon as lx
from grammar.expression.lexer import Chunk
from grammar.expression.parser import Parsed, Phrase, Pre, Tail
from grammar.expression.tokens import Tok
from grammar.ordinals import ordinal_number


def flat(chunks: Sequence[Chunk]) -> list[Tok]:
    """The words of a run of chunks."""
    return [t for c in chunks for t in c.toks]


def attach(parsed: Parsed, by_parse: bool) -> Parsed:
    """All attachment steps, in order."""
    if by_parse:
        parsed = attach_by_parse(parsed)
    parsed = resolve_relative_clauses(parsed)
    if not by_parse:
        parsed = attach_containment_low(parsed)
    return attach_counting_directions(parsed)


def attach_containment_low(parsed: Parsed) -> Parsed:
    """ "sitting behind the driver and the child in the carriage": "in X" right after a
    landmark says where that landmark is (the nearest noun), not the referent."""
    tails = list(parsed.tails)
    for k in range(1, len(tails)):
        tail, before = tails[k], tails[k - 1]
        if tail.kind == "relation" and tail.attach < 0 and tail.relation is not None \
                and tail.relation.lower in lx.CONTAINMENT_WORDS and before.landmark is not None \
                and before.kind == "relation":
            tails[k] = replace(tail, attach=k - 1)
    return replace(parsed, tails=tuple(tails))


def attach_by_parse(parsed: Parsed) -> Parsed:
    """With a dependency parse: a spatial phrase whose governor lies in an earlier
    landmark describes that landmark ("cup next to the plate on the left")."""
    owner: dict[int, int] = {}
    if parsed.target is not None:
        for t in flat(parsed.target.words):
            owner[t.i] = -1
    by_i: dict[int, Tok] = {t.i: t for c in parsed.chunks for t in c.toks}
    tails = list(parsed.tails)
    for k, tail in enumerate(tails):
        spatial = tail.dirs or ((tail.relation,) if tail.relation else ())
        if k > 0 and spatial:
            tok = spatial[0].toks[0]
            for _ in range(8):  # climb the governors until one lies in a known phrase
                if tok.head == tok.i or tok.head not in by_i:
                    break
                tok = by_i[tok.head]
                if tok.i in owner:
                    tails[k] = replace(tail, attach=owner[tok.i])
                    break
        if tail.landmark is not None:
            for t in flat(tail.landmark.words):
                owner[t.i] = k
    return replace(parsed, tails=tuple(tails))


def _relative_clause_at_end(words: Sequence[Chunk]) -> tuple[int, Chunk | None] | None:
    """Where a trailing relative clause opener starts in a phrase's words ("plate that is",
    "women who are standing", "plate that is the second"), and the ordinal it ends with."""
    for m in range(len(words) - 2, -1, -1):
        if words[m].lower in lx.RELATIVE_PRONOUNS and words[m + 1].lower in lx.COPULAS:
            break
    else:
        if len(words) > 2 and words[-3].lower in ("at", "in") and words[-2].lower == "the" \
                and isinstance(words[-1].value, tuple):
            return len(words) - 3, words[-1]  # "the tie at the second (from the left)"
        return None
    rest = words[m + 2:]
    while rest and rest[0].lower in lx.CLAUSE_ADVERBS:
        rest = rest[1:]
    if rest and rest[0].lower in ("the", "a"):
        rest = rest[1:]
    ordinal = None
    if rest and (ordinal_number(rest[0].lower) is not None or rest[0].lower in lx.LAST_ORDINALS) \
            and isinstance(rest[0].value, tuple):
        ordinal, rest = rest[0], rest[1:]
    return (m, ordinal) if not rest else None


def _without_clause(phrase: Phrase) -> Phrase | None:
    """The phrase with its trailing relative clause opener taken out, or None if it has none."""
    clause = _relative_clause_at_end(phrase.words)
    if clause is None:
        return None
    m, ordinal = clause
    pre = phrase.pre
    if ordinal is not None and pre.ordinal is None:
        pre = Pre(ordinal, pre.dirs)
    return Phrase(phrase.words[:m], pre)


def resolve_relative_clauses(parsed: Parsed) -> Parsed:
    """ "the circle over the square that is right of the star": the spatial phrase after a
    relative clause describes the noun phrase just before the clause (a landmark, or the
    referent), and "that is" leaves that phrase's find text. An ordinal inside the clause
    ("that is second from the left") becomes the phrase's own ordinal."""
    target = parsed.target
    tails = list(parsed.tails)
    for k in range(len(tails)):
        before = tails[k - 1] if k > 0 else None
        if before is not None and not before.landmark:
            # "the cup on the left that is next to the plate": the clause describes the referent
            clause = _relative_clause_at_end(before.words)
            if clause is not None:
                tails[k - 1] = replace(before, words=before.words[:clause[0]])
            continue
        phrase = target if before is None else before.landmark
        if phrase is None:
            continue
        shorter = _without_clause(phrase)
        if shorter is None:
            continue
        if before is None:
            target = shorter
        else:
            tails[k - 1] = replace(before, landmark=shorter)
            if before.kind != "between":
                tails[k] = replace(tails[k], attach=k - 1)
    return _with(parsed, target, tails)


def _with(parsed: Parsed, target: Phrase | None, tails: list[Tail]) -> Parsed:
    """``parsed`` with this target and these tails: itself when none of them changed."""
    if target is parsed.target and all(a is b for a, b in zip(tails, parsed.tails)):
        return parsed
    return replace(parsed, target=target, tails=tuple(tails))


def attach_counting_directions(parsed: Parsed) -> Parsed:
    """ "the star right of the second circle from the left": the direction an ordinal counts
    from belongs to the ordinal just before it, the landmark's, not to the referent."""
    tails = list(parsed.tails)
    for k in range(1, len(tails)):
        tail, before = tails[k], tails[k - 1]
        landmark = before.landmark
        if tail.kind == "from" and tail.attach < 0 and before.kind != "between" \
                and landmark is not None and landmark.pre.ordinal is not None:
            tails[k] = replace(tail, attach=k - 1)
    return _with(parsed, parsed.target, tails)
