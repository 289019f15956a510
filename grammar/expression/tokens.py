"""Stage 1, tokens: spaCy splits the text into ``Tok`` records detached from the Doc.

``spacy.blank("en")`` plus the lookup lemmatizer from spacy-lookups-data (pinned in the
project's dependencies: missing, it is an installation error, said loudly); a named
trained pipeline adds POS tags and a dependency parse.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

from grammar.errors import CompileError


class Tok:
    """One spaCy token, detached from its Doc (so a Doc can be injected in tests)."""

    __slots__ = ("i", "text", "lower", "lemma", "ws", "pos", "dep", "head", "start", "end")

    def __init__(self, i: int, text: str, lemma: str, ws: str, pos: str = "", dep: str = "", head: int = -1,
                 start: int | None = None):
        self.i, self.text, self.lower, self.lemma = i, text, text.lower(), (lemma or text).lower()
        self.ws, self.pos, self.dep, self.head = ws, pos, dep, head
        # character offsets of the word in the expression (None for a word made up here)
        self.start = start
        self.end = None if start is None else start + len(text)

    def __repr__(self) -> str:
        return f"Tok({self.text!r})"


_new = object.__new__


def load_nlp(model: str | None):
    """The spaCy pipeline: the blank lookup pipeline, or the named trained one."""
    if model is None:
        return blank_nlp()
    return _trained_nlp(model)


MISSING_LOOKUPS = ("spacy-lookups-data is not installed (the compiler's lemmas and word lists come "
                   "from it): install the project's dependencies, e.g. `pip install spacy-lookups-data`")


@lru_cache(maxsize=1)
def blank_nlp():
    """``spacy.blank("en")`` with the lookup lemmatizer from spacy-lookups-data."""
    import spacy

    nlp = spacy.blank("en")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except (ImportError, ValueError, OSError) as exc:  # the pinned lookups package is missing
        raise CompileError(MISSING_LOOKUPS) from exc
    return nlp


@lru_cache(maxsize=4)
def _trained_nlp(model: str):
    import spacy

    try:
        return spacy.load(model)
    except (OSError, ImportError, ValueError) as exc:
        raise CompileError(
            f"spaCy pipeline {model!r} is not installed: install it with "
            f"`python -m spacy download {model}`, or compile without spacy_model "
            f"(the grammar alone then decides heads and attachments)"
        ) from exc


def text_tokens(text: str, model: str | None = None) -> list[Tok]:
    """Tok list of an expression. Without a trained pipeline only spaCy's tokenizer runs,
    and each word's lemma is read from the lookup lemmatizer's table directly (what the
    lemmatizer component would write, without a pass over the Doc)."""
    pieces = text.split(" ")
    long_pieces = len(max(pieces, key=len)) > MAX_PIECE and bool(_cuts(text))
    if model is not None:
        nlp = load_nlp(model)
        return doc_tokens(nlp(make_doc(nlp, text)) if long_pieces else nlp(text))
    if not long_pieces and pieces == text.split() and _special_chars(blank_nlp().tokenizer).isdisjoint(text):  # see _PIECES
        entries = [_PIECES.get(p) for p in pieces]
        if None in entries:
            entries = _learn_pieces(pieces, entries)
        if entries is not None:
            return _assemble(entries)
    return doc_tokens(make_doc(blank_nlp(), text) if long_pieces else blank_nlp().make_doc(text), lookup_lemma)


# spaCy's tokenizer strips a piece's prefixes and suffixes one at a time, each step working
# over the rest of the piece, so a piece of punctuation costs time quadratic in its length
# (20,000 "(" took 46 s; 4,000 "=" 21 s; "'s" repeated, 101 s). A piece (a run of non-space
# characters) longer than MAX_PIECE that is not letters only (one token, cheap) is cut into
# segments of about that length, which spaCy tokenises one by one. A cut falls, by
# preference, between two non-alphanumeric characters or beside one that is no infix
# (not between two alphanumerics), where spaCy's affix rules split anyway; failing that at
# any edge of a run of letters/digits, which is never cut inside. No piece of ordinary
# text is that long and punctuated (the longest in the dev file and the golden texts: 15).
MAX_PIECE = 24
_LONG_PIECE = re.compile(r"\S{%d,}" % (MAX_PIECE + 1))


def make_doc(nlp: Any, text: str) -> Any:
    """``nlp.make_doc(text)``, in time linear in the text's length (see MAX_PIECE)."""
    cuts = _cuts(text)
    if not cuts:
        return nlp.make_doc(text)
    from spacy.tokens import Doc

    bounds = [0, *cuts, len(text)]
    # spaCy caches a piece's tokens, so the equal segments of a repeated character cost one
    docs = [nlp.make_doc(text[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return Doc.from_docs(docs, ensure_whitespace=False)


def _cuts(text: str) -> list[int]:
    """Where to cut the text's long punctuated pieces (offsets, ascending)."""
    cuts: list[int] = []
    for piece in _LONG_PIECE.finditer(text):
        if not piece.group().isalpha():
            cuts.extend(piece.start() + p for p in _piece_cuts([ch.isalnum() for ch in piece.group()]))
    return cuts


def _piece_cuts(alnum: list[bool]) -> list[int]:
    cuts: list[int] = []
    n = len(alnum)
    start = safe = edge = 0  # the segment's start; the latest safe cut and run edge after it
    for p in range(1, n):
        if p - start > MAX_PIECE and edge > start:
            start = safe if safe > start else edge
            cuts.append(start)
        a, b = alnum[p - 1], alnum[p]
        if a and b:
            continue
        edge = p
        if not a and not b or a and (p + 1 >= n or not alnum[p + 1]) or b and (p < 2 or not alnum[p - 2]):
            safe = p
    return cuts


# spaCy's tokenizer splits a text at single spaces and tokenises each piece on its own
# (caching per piece), so a piece's tokens do not depend on the text around it, except
# through the special cases it matches over the whole Doc afterwards (":)" in one piece
# can change how another piece's ":)" is split). For a text whose whitespace is single
# spaces between pieces (others have whitespace tokens) and that holds no character of
# those special cases (no "'", "-", ".", ":", ...: most expressions), the Tok list is
# assembled from each piece's tokens, learnt from spaCy the first time the piece is seen;
# tests/grammar/test_expression_tokens.py checks it against the Doc path. Entry: the piece's token records (text, lower, lemma, ws, index and offset in the
# piece) when a space follows it and when it ends the text (a hyphen inside a word joins
# its neighbours only there, as in ``doc_tokens``), its token count, its length.
_Record = tuple[str, str, str, str, int, int]
_Entry = tuple[tuple[_Record, ...], tuple[_Record, ...], int, int]
_PIECES: dict[str, _Entry] = {}
_MAX_PIECES = 20_000  # about 16 MB when full (measured: 0.8 kB an entry)
HYPHENS = ("-", "–")


@lru_cache(maxsize=2)
def _special_chars(tokenizer: Any) -> frozenset[str]:
    """The characters, other than letters and digits, of the special cases spaCy's
    tokenizer matches over a whole Doc (those its affix rules would split; see
    ``Tokenizer.add_special_case``). Each such special case holds one of them."""
    fast = tokenizer.faster_heuristics
    return frozenset(ch for case in tokenizer.rules if not case.isspace()
                     and (not fast or tokenizer.find_prefix(case) or tokenizer.find_infix(case)
                          or tokenizer.find_suffix(case) or " " in case)
                     for ch in case if not ch.isalnum())


def _learn_pieces(pieces: list[str], entries: list[_Entry | None]) -> list[_Entry] | None:
    """Fill in the unknown pieces' entries, tokenising them together (a space between each);
    None if spaCy's tokens do not tile them. A piece of letters only that is no special
    case is one token (spaCy's affixes are punctuation, symbols and digits; checked over
    WordNet's words), so it needs no tokenising."""
    learnt = {}
    new = []
    rules = blank_nlp().tokenizer.rules
    for piece in dict.fromkeys(p for p, e in zip(pieces, entries) if e is None):
        if piece.isalpha() and piece not in rules:
            learnt[piece] = _entry([piece], len(piece))
        else:
            new.append(piece)
    words = [t.text for t in blank_nlp().make_doc(" ".join(new))] if new else []
    k = 0
    for piece in new:
        length = len(piece)
        size, start = 0, k
        while size < length and k < len(words):
            size += len(words[k])
            k += 1
        if k == start + 1 and words[start] == piece:
            learnt[piece] = _entry([piece], length)
        elif "".join(words[start:k]) == piece:
            learnt[piece] = _entry(words[start:k], length)
        else:
            return None
    if len(_PIECES) + len(learnt) > _MAX_PIECES:
        _PIECES.clear()
    _PIECES.update(learnt)
    return [e if e is not None else learnt[p] for p, e in zip(pieces, entries)]


def _entry(words: list[str], length: int) -> _Entry:
    if len(words) == 1:  # most pieces are one word
        word = words[0]
        lower, lemma = word.lower(), (lookup_lemma(word) or word).lower()
        return ((word, lower, lemma, " ", 0, 0),), ((word, lower, lemma, "", 0, 0),), 1, length

    def records(final: bool) -> tuple[_Record, ...]:
        out: list[list] = []
        offset = 0
        for m, word in enumerate(words):
            ws = "" if final or m < len(words) - 1 else " "
            if word in HYPHENS and out and not out[-1][3] and not ws:
                out[-1][3] = word
            else:
                out.append([word, word.lower(), (lookup_lemma(word) or word).lower(), ws, m, offset])
            offset += len(word)
        return tuple(tuple(r) for r in out)  # type: ignore[misc]

    return records(False), records(True), len(words), length


def _assemble(entries: list[_Entry]) -> list[Tok]:
    """The Tok list ``doc_tokens`` makes of the Doc whose pieces are these."""
    toks: list[Tok] = []
    append = toks.append
    i = start = 0
    last = len(entries) - 1
    for k, (middle, final, count, length) in enumerate(entries):
        for text, lower, lemma, ws, di, ds in (middle if k < last else final):
            # Tok(i + di, text, lemma, ws, start=at), its forms precomputed (one statement per
            # slot: measured faster than tuple assignment)
            t = _new(Tok)
            t.i = i + di
            t.text = text
            t.lower = lower
            t.lemma = lemma
            t.ws = ws
            t.pos = t.dep = ""
            t.head = -1
            at = start + ds
            t.start = at
            t.end = at + len(text)
            append(t)
        i += count
        start += length + 1
    return toks


def clear_caches() -> None:
    """Forget the per-piece tokens (benchmarks time a cold pass)."""
    _PIECES.clear()


def doc_tokens(doc: Any, lemma: Callable[[str], str] | None = None) -> list[Tok]:
    """Tok list from a spaCy Doc; a hyphen inside a word ("left-most") joins its neighbours.
    ``lemma`` maps a word to its lemma when the Doc carries none."""
    toks: list[Tok] = []
    parsed = bool(getattr(doc, "has_annotation", lambda _: False)("DEP"))
    start = 0  # a Doc's tokens and their trailing whitespace tile its text
    for i, t in enumerate(doc):
        text, ws = t.text, t.whitespace_
        at, start = start, start + len(text) + len(ws)
        if text in HYPHENS and toks and not toks[-1].ws and not ws:
            toks[-1].ws = text  # kept for the text, invisible to matching
            continue
        if text.isspace():
            if toks:
                toks[-1].ws += text
            continue
        if parsed:
            toks.append(Tok(i, text, t.lemma_, ws, t.pos_, t.dep_, t.head.i, at))
        else:  # tags matter only to the dependency-parse head rules
            toks.append(Tok(i, text, lemma(text) if lemma else t.lemma_, ws, start=at))
    return toks


@lru_cache(maxsize=1)
def _lemma_table() -> Any:
    return blank_nlp().get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})


@lru_cache(maxsize=100_000)
def lookup_lemma(word: str) -> str:
    """The lookup lemmatizer's lemma of a word (its table, read as the component reads it)."""
    result = _lemma_table().get(word, word)
    return result if isinstance(result, str) else result[0]
