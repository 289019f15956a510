"""Stage 1, tokens: spaCy splits the text into ``Tok`` records detached from the Doc.

``spacy.blank("en")`` plus the lookup lemmatizer from spacy-lookups-data (pinned in the
project's dependencies: missing, it is an installation error, said loudly); a named
trained pipeline adds POS tags and a dependency parse.
"""

from __future__ import annotations

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
    if model is not None:
        return doc_tokens(load_nlp(model)(text))
    return doc_tokens(blank_nlp().make_doc(text), lookup_lemma)


def doc_tokens(doc: Any, lemma: Callable[[str], str] | None = None) -> list[Tok]:
    """Tok list from a spaCy Doc; a hyphen inside a word ("left-most") joins its neighbours.
    ``lemma`` maps a word to its lemma when the Doc carries none."""
    toks: list[Tok] = []
    parsed = bool(getattr(doc, "has_annotation", lambda _: False)("DEP"))
    start = 0  # a Doc's tokens and their trailing whitespace tile its text
    for i, t in enumerate(doc):
        text, ws = t.text, t.whitespace_
        at, start = start, start + len(text) + len(ws)
        if text in ("-", "–") and toks and not toks[-1].ws and not ws:
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
