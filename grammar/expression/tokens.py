"""Stage 1, tokens: spaCy splits the text into ``Tok`` records detached from the Doc.

``spacy.blank("en")`` plus the lookup lemmatizer from spacy-lookups-data (pinned in the
project's dependencies: missing, it is an installation error, said loudly); a named
trained pipeline adds POS tags and a dependency parse.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

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


def doc_tokens(doc: Any) -> list[Tok]:
    """Tok list from a spaCy Doc; a hyphen inside a word ("left-most") joins its neighbours."""
    toks: list[Tok] = []
    parsed = bool(getattr(doc, "has_annotation", lambda _: False)("DEP"))
    for t in doc:
        if t.text in ("-", "–") and toks and not toks[-1].ws and not t.whitespace_:
            toks[-1].ws = t.text  # kept for the text, invisible to matching
            continue
        if t.is_space:
            if toks:
                toks[-1].ws += t.text
            continue
        toks.append(Tok(t.i, t.text, t.lemma_, t.whitespace_, t.pos_, t.dep_ if parsed else "",
                        t.head.i if parsed else -1, t.idx))
    return toks
