"""Referring expression -> Program, as pure stages, each taking the previous one's output:

1. ``tokens``: spaCy splits the text (``doc_tokens``).
2. ``tables``: the phrase table from the registry and ``grammar.lexicon``.
3. ``lexer``: words -> categorised chunks (``lex``).
4. ``context``: the words around spatial chunks settle their categories (``settle_context``).
5. ``parse``: the LALR grammar ``expression.lark`` (Lark's tables) over the chunks'
   categories, memoised per category sequence (``parse``).
6. ``heads``: which word names what a phrase is (``find_head``).
7. ``attach``: which phrase each spatial phrase describes (``attach``).
8. ``build``: the Program, every node with the span of its words (``build``).

No stage changes its input; ``compile_expression`` runs them all.
"""

from __future__ import annotations

from typing import Any

from lark.exceptions import LarkError

from grammar.errors import CompileError
from grammar.expression.attachment import attach
from grammar.expression.builder import NO_STRUCTURE, ONE_FIND, bare_find, build
from grammar.expression.context import settle_context
from grammar.expression.heads import find_head
from grammar.expression.lexer import Chunk, lex, only_words
from grammar.expression.parser import Parsed, parse
from grammar.expression.tables import lexicon_tables
from grammar.expression import heads as _heads, parser as _parser, tokens as _tokens
from grammar.expression.tokens import Tok, blank_nlp, doc_tokens, load_nlp, text_tokens
from grammar.ast import Program
from primitives import REGISTRY, Registry

MAX_CHARS = 20_000

__all__ = [
    "MAX_CHARS", "NO_STRUCTURE", "Chunk", "Parsed", "Tok", "attach", "blank_nlp", "build", "clear_caches", "compile_doc",
    "compile_expression", "compile_tokens", "doc_tokens", "text_tokens", "find_head", "lex", "load_nlp", "parse", "settle_context", "lexicon_tables",
]


def compile_expression(text: str, spacy_model: str | None = None, registry: Registry = REGISTRY) -> Program:
    """Compile a referring expression into a Program.

    ``spacy_model`` names an installed trained spaCy pipeline (e.g. "en_core_web_sm")
    whose dependency parse then chooses heads and attachments; without it the grammar
    alone decides. Raises CompileError for empty or non-text input, for text over
    ``MAX_CHARS`` characters, for nesting deeper than ``grammar.ast.MAX_DEPTH`` and for a
    named pipeline that is not installed; any other text compiles (to a bare find, with
    a note, when no spatial structure is found).
    """
    if not isinstance(text, str):
        raise CompileError(f"expression must be text (str), got {type(text).__name__}")
    if not text.strip():
        raise CompileError("empty expression: nothing to compile")
    if len(text) > MAX_CHARS:
        raise CompileError(f"expression too long: {len(text):,} characters (the limit is {MAX_CHARS:,})")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CompileError("expression holds a lone surrogate (\\ud800-\\udfff), which is not a character") from None
    if spacy_model is not None and not isinstance(spacy_model, str):
        raise CompileError(f"spacy_model must be a pipeline name (str), got {type(spacy_model).__name__}")
    load_nlp(spacy_model)  # a pipeline that is not installed is refused before any text is read
    try:
        toks = text_tokens(text, spacy_model)
    except Exception as exc:  # spaCy refusing a text is the user's problem, said plainly
        raise CompileError(f"spaCy could not tokenise the expression: {exc}") from exc
    return compile_tokens(toks, text, registry)


def clear_caches() -> None:
    """Forget what the stages memoise per piece of text, per word and per category sequence (for
    benchmarks that time one cold pass; the results never depend on it)."""
    _tokens.clear_caches()
    _parser.clear_caches()
    _heads.clear_caches()


def compile_doc(doc: Any, text: str | None = None, registry: Registry = REGISTRY) -> Program:
    """Compile an already-processed spaCy Doc (its parse, if any, picks heads and attachments)."""
    source = doc.text if text is None else text
    if not source.strip():
        raise CompileError("empty expression: nothing to compile")
    return compile_tokens(doc_tokens(doc), source, registry)


def compile_tokens(toks: list[Tok], source: str, registry: Registry = REGISTRY) -> Program:
    """Compile the expression's words (the stages after tokens)."""
    if not toks:
        raise CompileError("expression has no words to compile")
    by_parse = any(t.dep for t in toks)
    table = lexicon_tables(registry)
    chunks = None if only_words(toks, table) else lex(toks, table, registry)
    if chunks is None or all(c.cat == "WORD" for c in chunks):
        # nothing spatial (most expressions): the context passes change only words next to
        # spatial chunks, and the grammar's one reading of words alone is a single noun
        # phrase, which builds to a bare find; running those stages would only say so
        return bare_find(source, toks, by_parse, ONE_FIND)
    chunks = settle_context(chunks, table)
    try:
        parsed = parse(chunks)
    except LarkError as exc:  # the grammar is total over words; this is a safety net
        return bare_find(source, toks, by_parse,
                         f"{NO_STRUCTURE}: the grammar could not structure it ({type(exc).__name__})")
    return build(source, toks, attach(parsed, by_parse), registry, by_parse)
