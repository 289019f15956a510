"""Referring expression -> Program: spaCy tokens, a categorising lexer, a Lark grammar.

The pipeline, one small step each:

1. ``_tokens``: spaCy splits the text (``spacy.blank("en")`` plus the lookup lemmatizer
   from spacy-lookups-data; a named trained pipeline adds POS tags and a dependency parse).
2. ``_lex``: words become categorised chunks (``DIR`` "left", ``REL`` "next to", ``ORD``
   "2nd", ``WORD`` ...). Spatial words are matched on lower-cased surface forms, longest
   phrase first; relation/superlative words come from the registry (cached on its
   ``version``) and the rest from ``grammar.lexicon``. Context rules decide ambiguous
   words ("a red top" is clothing, "top left" a direction).
3. ``_parse``: the LALR grammar ``expression.lark`` over those categories. Chunks are fed
   one at a time; a spatial chunk the grammar cannot take where it stands is read as a
   plain word instead, so every expression parses. LALR was chosen by measurement
   (``benchmarks/bench_compile.py``, same grammar, same 2,011 dev token streams): LALR
   ~30,000-60,000 parses/s, driven token by token as here ~12,000-23,000/s, Earley ~200-400/s.
4. ``_build``: the parse becomes a Program. Relations apply first (innermost), then
   superlatives (vertical word innermost), then an ordinal; the root is
   ``and(find(<whole expression>), <structure>)``, or ``find(<whole>, head=...)`` when
   no structure was found.

Heads: with a trained pipeline, the dependency parse picks each noun phrase's head and
which phrase a later spatial phrase attaches to; without one, a head is the last noun-like
word before the first preposition, clause word or verb form, and every spatial phrase
attaches to the referent. Either way, a relative clause ("the plate that is left of the
bowl", "the woman who is on the left") attaches the spatial phrase after it to the noun
phrase just before it, and "that is" leaves the find text (``_resolve_relative_clauses``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable, Sequence

from lark import Lark, Token, Transformer
from lark.exceptions import LarkError

from grammar import lexicon as lx
from grammar.ast import And, Find, Node, Ordinal, Program, Relate, Superlative
from grammar.errors import CompileError
from primitives import REGISTRY, Registry

MAX_CHARS = 20_000
NO_STRUCTURE = "no spatial structure found"


# -- tokens ----------------------------------------------------------------------------
class Tok:
    """One spaCy token, detached from its Doc (so a Doc can be injected in tests)."""

    __slots__ = ("i", "text", "lower", "lemma", "ws", "pos", "dep", "head")

    def __init__(self, i: int, text: str, lemma: str, ws: str, pos: str = "", dep: str = "", head: int = -1):
        self.i, self.text, self.lower, self.lemma = i, text, text.lower(), (lemma or text).lower()
        self.ws, self.pos, self.dep, self.head = ws, pos, dep, head

    def __repr__(self) -> str:
        return f"Tok({self.text!r})"


def _nlp(model: str | None):
    if model is None:
        return _blank_nlp()
    return _trained_nlp(model)


@lru_cache(maxsize=1)
def _blank_nlp():
    import spacy

    nlp = spacy.blank("en")
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except Exception:  # spacy-lookups-data missing: surface forms still work
        nlp = spacy.blank("en")
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


def _doc_tokens(doc: Any) -> list[Tok]:
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
                        t.head.i if parsed else -1))
    return toks


# -- word tables -----------------------------------------------------------------------
@dataclass
class _Tables:
    lexemes: dict[tuple[str, ...], dict[str, Any]]
    longest: int


# id(registry) -> (registry, its version, tables); the registry is held so its id stays unique
_TABLE_CACHE: dict[int, tuple[Registry, int, _Tables]] = {}


def _tables(registry: Registry) -> _Tables:
    """Phrase table from the registry plus the lexicon, rebuilt when the registry changes."""
    cached = _TABLE_CACHE.get(id(registry))
    if cached is not None and cached[0] is registry and cached[1] == registry.version:
        return cached[2]
    table: dict[tuple[str, ...], dict[str, Any]] = {}

    def add(words: str, cat: str, value: Any) -> None:
        key = tuple(words.split())
        table.setdefault(key, {}).setdefault(cat, value)

    sup_names = set(registry.names("superlative"))
    rel_names = set(registry.names("relation"))
    for word, name in registry.words("superlative").items():
        add(word, "dir", name)
    for word, name in lx.EXTRA_SUPERLATIVES.items():
        if name in sup_names:
            add(word, "dir", name)
    for word, name in registry.words("relation").items():
        if word not in lx.AMBIGUOUS_RELATION_WORDS:
            add(word, "rel", name)
    for word, name in lx.EXTRA_RELATIONS.items():
        if name in rel_names:
            add(word, "rel", name)
    for word, name in registry.words("ternary").items():
        add(word, "tern", name)
    for word, n in lx.ORDINALS.items():
        add(word, "ord", (n, False))
    for word, n in lx.LAST_ORDINALS.items():
        add(word, "ord", (n, True))
    for word in lx.INTENSIFIERS:
        add(word, "int", True)
    tables = _Tables(table, max(len(k) for k in table))
    if len(_TABLE_CACHE) >= 16:
        _TABLE_CACHE.clear()
    _TABLE_CACHE[id(registry)] = (registry, registry.version, tables)
    return tables


# -- lexer: words -> categorised chunks -------------------------------------------------
@dataclass
class Chunk:
    cat: str  # a terminal of expression.lark
    toks: list[Tok]
    value: Any = None  # superlative kind, relation name, (n, from_end) for ordinals

    @property
    def lower(self) -> str:
        return " ".join(t.lower for t in self.toks)


def _lex(toks: Sequence[Tok], tables: _Tables, registry: Registry) -> list[Chunk]:
    lowers = [t.lower for t in toks]
    chunks: list[Chunk] = []
    i, n = 0, len(toks)
    position = {id(t): k for k, t in enumerate(toks)}
    while i < n:
        size, cats = _match(lowers, i, tables)
        chunk = _categorise(lowers, i, size, cats, chunks, tables, registry, toks)
        chunks.append(chunk)
        i = position[id(chunk.toks[-1])] + 1  # a chunk may also take back a word before i
    _mark_function_words(chunks)
    _demote_part_owners(chunks)
    _demote_places_before_nouns(chunks)
    _demote_inner_prenominals(chunks)
    if chunks[0].cat == "REL" and len(chunks) > 1 and not _starts_landmark(chunks[1].lower):
        chunks[0].cat = "WORD"  # "inside wall of the bathtub"
    for j, c in enumerate(chunks):  # a relation needs a landmark after it: "man over on the left"
        landmark_next = j + 1 < len(chunks) and chunks[j + 1].cat in ("WORD", "DET", "ORD", "DIR", "FAR")
        if c.cat in ("REL", "TERN") and not landmark_next:
            c.cat = "WORD"
    return chunks


def _match(lowers: Sequence[str], i: int, tables: _Tables) -> tuple[int, dict[str, Any]]:
    for size in range(min(tables.longest, len(lowers) - i), 0, -1):
        cats = tables.lexemes.get(tuple(lowers[i:i + size]))
        if cats:
            return size, cats
    return 1, {}


def _is_dir_ahead(lowers: Sequence[str], j: int, tables: _Tables, through_determiners: bool = True) -> bool:
    """Does a direction (possibly after intensifiers / a determiner) start at j?"""
    while j < len(lowers):
        size, cats = _match(lowers, j, tables)
        if "dir" in cats and not ("int" in cats and _is_dir_ahead(lowers, j + size, tables)):
            return True
        if "int" in cats or through_determiners and lowers[j] in lx.DETERMINERS:
            j += size
            continue
        return False
    return False


def _categorise(lowers, i, size, cats, chunks, tables, registry, toks) -> Chunk:
    span = list(toks[i:i + size])
    nxt = lowers[i + size] if i + size < len(lowers) else ""
    prev = chunks[-1] if chunks else None

    camera = _camera_superlative(lowers, i, toks, tables, registry)
    if camera is not None:
        return camera
    if "ord" in cats:
        return Chunk("ORD", span, cats["ord"])
    if "tern" in cats:
        middle = "middle" in lowers[i:i + size] and "middle" in registry.names("superlative")
        if middle and _scene_at(lowers, i + size - 1):
            return Chunk("DIR", span[:-1], "middle")  # "in the middle of the picture"
        return Chunk("TERN", span, cats["tern"])
    if "int" in cats and _is_dir_ahead(lowers, i + size, tables):
        return Chunk("FAR", span)
    if prev is not None and prev.cat in ("DIR", "PART") and _part_at(lowers, i):
        return Chunk("PART", list(toks[i:i + _part_at(lowers, i)]))
    if prev is not None and prev.cat in ("DIR", "PART"):
        scene = _scene_at(lowers, i) or int(lowers[i] in lx.SCENE_NOUNS and not _word_ahead(lowers, i + 1))
        if scene:
            return Chunk("SCENE", list(toks[i:i + scene]))
        if lowers[i] == "of":
            return Chunk("OF", span[:1])
    if "rel" in cats and "dir" not in cats:
        return _relation_chunk(span, cats["rel"], lowers, i + size, toks, chunks)
    if "dir" in cats:
        # "above left" is a compound direction; "above the leftmost star" a relation whose
        # landmark is a superlative: a determiner between them marks the landmark
        if "rel" in cats and nxt not in ("of", "") and lowers[i] in lx.PREPOSITIONS \
                and not _is_dir_ahead(lowers, i + size, tables, through_determiners=False) \
                and _word_ahead(lowers, i + size):
            return _relation_chunk(span, cats["rel"], lowers, i + size, toks, chunks)
        if _spatial_in_context(lowers, i, size, tables):
            return Chunk("DIR", span, cats["dir"])
    if lowers[i] in lx.COMPARATIVE_WORDS and nxt == "than":
        name = registry.words("relation").get(lowers[i])
        if name:
            return _relation_chunk(span + [toks[i + 1]], name, lowers, i + 2, toks, chunks)
    return Chunk("WORD", span[:1])


def _relation_chunk(span, name, lowers, j, toks, chunks) -> Chunk:
    if span[0].lower == "by" and chunks and _participle(chunks[-1].lower):
        return Chunk("WORD", span[:1])  # "skis being used by a woman": the agent, not "near"
    # swallow "of"/"to" after a relation ("inside of", "near to") and an adverb before it
    if j < len(lowers) and lowers[j] in ("of", "to") and span[-1].lower not in ("of", "to"):
        span = span + [toks[j]]
    if chunks and chunks[-1].lower in lx.RELATION_ADVERBS and len(chunks[-1].toks) == 1:
        before = chunks[-2].lower if len(chunks) > 1 else ""
        if chunks[-1].cat == "WORD" or not (before in lx.DETERMINERS or before in lx.LOCATIVES
                                             or before in lx.INTENSIFIERS):
            span = chunks.pop().toks + span
    return Chunk("REL", span, name)


def _participle(word: str) -> bool:
    return (word.endswith("ed") or word.endswith("en")) and len(word) > 3 or word in lx.IRREGULAR_PARTICIPLES


def _word_ahead(lowers: Sequence[str], j: int) -> bool:
    return j < len(lowers) and lowers[j][:1].isalnum()


def _spatial_in_context(lowers: Sequence[str], i: int, size: int, tables: _Tables) -> bool:
    """Is the direction word at i a place here, not clothing, a body part or a gaze?"""
    word = lowers[i]
    back = i - 1
    while back >= 0 and (lowers[back] in lx.DETERMINERS or lowers[back] in lx.LOCATIVES
                         or "int" in tables.lexemes.get((lowers[back],), {})):
        back -= 1
    before = lowers[back] if back >= 0 else ""
    if i > 0 and lowers[i - 1] in lx.POSSESSIVES:
        return False  # "her right hand", "his back"
    if before in lx.GAZE_WORDS:
        return False  # "facing left", "looking to the right"
    nxt = lowers[i + size] if i + size < len(lowers) else ""
    adverb_position = word == "right" and size == 1 and back == i - 1 and nxt != "of"
    if adverb_position and nxt in lx.LOCATIVES | lx.PREPOSITIONS:
        return False  # "right in the middle": an adverb
    if word in lx.SIZE_WORDS and nxt in lx.PERSON_NOUNS:
        return False  # "little girl" describes, it does not compare
    if word in lx.NOUN_LIKE_DIRECTIONS and size == 1:
        previous = lowers[i - 1] if i > 0 else ""
        earlier = lowers[i - 2] if i > 1 else ""
        anchors = lx.LOCATIVES | lx.INTENSIFIERS | {"from", ",", "and"}

        def anchored(word: str) -> bool:
            lexeme = tables.lexemes.get((word,), {})
            # after a relation word it starts a landmark: "under the bottom red triangle"
            return not word or word in anchors or any(c in lexeme for c in ("dir", "ord", "rel"))

        functional = anchored(previous) or (previous in lx.DETERMINERS and anchored(earlier))
        ahead = _match(lowers, i + 1, tables)[1] if nxt else {}
        followed = "dir" in ahead or nxt in lx.DIRECTION_PARTS or (
            previous in lx.DETERMINERS and _starts_noun(nxt) and nxt not in lx.SCENE_NOUNS)
        if not functional and not followed:
            return False  # "a red top", "with back to the camera"
    return True


def _part_at(lowers: Sequence[str], i: int) -> int:
    for size in (2, 1):
        if " ".join(lowers[i:i + size]) in lx.DIRECTION_PARTS:
            return size
    return 0


def _scene_at(lowers: Sequence[str], i: int) -> int:
    """Length of "of the picture" / "in this image" / "of the two" starting at i, else 0."""
    if i >= len(lowers) or lowers[i] not in lx.SCENE_PREPOSITIONS:
        return 0
    j = i + 1
    if j < len(lowers) and lowers[j] in ("the", "this", "that", "these", "those"):
        j += 1
    if j >= len(lowers):
        return 0
    if lowers[j] in lx.SCENE_NOUNS:
        return j + 1 - i
    after = lowers[j + 1] if j + 1 < len(lowers) else ""
    if lowers[i] == "of" and lowers[j] in lx.SCENE_GROUPS and not _starts_noun(after):
        return j + 1 - i  # "on the left of the two", "of them"
    return 0


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


def _mark_function_words(chunks: list[Chunk]) -> None:
    """Right to left: determiners, locatives and "from" are structural only before a direction."""
    for j in range(len(chunks) - 1, -1, -1):
        c = chunks[j]
        if c.cat != "WORD":
            continue
        nxt = chunks[j + 1].cat if j + 1 < len(chunks) else ""
        word = c.lower
        if word in lx.DETERMINERS and nxt in ("DIR", "FAR", "ORD"):
            c.cat = "DET"
        elif word == "from" and (nxt in ("DIR", "FAR") or (nxt == "DET" and _dir_after(chunks, j + 2))):
            c.cat = "FROM"
        elif word in lx.LOCATIVES and (nxt in ("DIR", "FAR") or (nxt == "DET" and _dir_after(chunks, j + 2))):
            c.cat = "LOC"


def _dir_after(chunks: list[Chunk], j: int) -> bool:
    return j < len(chunks) and chunks[j].cat in ("DIR", "FAR")


def _demote_part_owners(chunks: list[Chunk]) -> None:
    """ "the back of a truck", "top of the cake": a part of its owner, not a relation."""
    for j, c in enumerate(chunks):
        if c.cat != "DIR":
            continue
        k = j + 1
        while k < len(chunks) and chunks[k].cat == "PART":
            k += 1
        if k >= len(chunks) or chunks[k].cat != "OF":
            continue
        start = j
        while start > 0 and chunks[start - 1].cat in ("DET", "FAR"):
            start -= 1
        has_det = start < j and chunks[start].cat == "DET"
        after_loc = start > 0 and chunks[start - 1].cat == "LOC"
        noun_like = c.lower in lx.NOUN_LIKE_DIRECTIONS or k > j + 1
        if not after_loc and (not noun_like or k == j + 1) and _group_after(chunks, k, c, noun_like):
            continue
        if not after_loc and (has_det or noun_like):
            for d in chunks[start:k + 1]:
                d.cat = "WORD"


def _group_after(chunks: list[Chunk], k: int, direction: Chunk, noun_like: bool = False) -> bool:
    """ "the bigger of the two dogs", "the left of the two men": a superlative over the
    group; "of" and the group words become a PART chunk (dropped from the text)."""
    m = k + 1
    while m < len(chunks) and chunks[m].cat == "WORD" and chunks[m].lower in ("the", "these", "those"):
        m += 1
    group = m < len(chunks) and chunks[m].lower in lx.SCENE_GROUPS | {"other"}
    if group:
        m += 1
    if not (group or (direction.value in lx.SIZE_SUPERLATIVES and not noun_like)) or m >= len(chunks):
        return False
    merged = Chunk("PART", [t for c in chunks[k:m] for t in c.toks])
    chunks[k:m] = [merged]
    return True


def _demote_places_before_nouns(chunks: list[Chunk]) -> None:
    """ "cat on middle shelf", "train on the far right rail": the direction describes the
    next noun, not the referent, so the place stays text."""
    for j, c in enumerate(chunks):
        if c.cat != "LOC":
            continue
        k = j + 1
        while k < len(chunks) and chunks[k].cat in ("DET", "FAR", "DIR"):
            k += 1
        if k < len(chunks) and chunks[k].cat == "WORD" and _starts_noun(chunks[k].lower):
            for d in chunks[j:k]:
                d.cat = "WORD"


def _demote_inner_prenominals(chunks: list[Chunk]) -> None:
    """ "a lady holding a baby and a giant slice of pizza": a direction before a later
    noun (after the referent's words, without a preposition) describes that noun."""
    for j in range(1, len(chunks)):
        if chunks[j].cat not in ("DET", "FAR", "DIR") or chunks[j - 1].cat != "WORD":
            continue
        k = j
        while k < len(chunks) and chunks[k].cat in ("DET", "FAR", "DIR"):
            k += 1
        if k < len(chunks) and k > j and chunks[k - 1].cat == "DIR" and chunks[k].cat == "WORD" \
                and _starts_noun(chunks[k].lower):
            for d in chunks[j:k]:
                d.cat = "WORD"


def _starts_landmark(word: str) -> bool:
    return (word in lx.DETERMINERS or word in lx.QUANTITIES or word in lx.POSSESSIVES
            or word.isdigit() or word in lx.CAMERA_NOUNS)


def _starts_noun(word: str) -> bool:
    return (word[:1].isalpha() and word not in lx.PREPOSITIONS and word not in lx.CLAUSE_WORDS
            and word not in lx.DETERMINERS and word not in lx.POSSESSIVES and word not in ("and", "or")
            and not word.endswith("ing") and not word.endswith("ed") and word not in lx.POSTNOMINAL)


# -- parser ------------------------------------------------------------------------------
@dataclass
class Pre:
    ordinal: Chunk | None = None
    dirs: list[Chunk] = field(default_factory=list)


@dataclass
class Phrase:
    """A noun phrase: its words and the directions/ordinal written in front of it."""

    words: list[Chunk]
    pre: Pre = field(default_factory=Pre)


@dataclass
class Tail:
    kind: str  # "place", "from", "relation", "between"
    dirs: list[Chunk] = field(default_factory=list)
    relation: Chunk | None = None
    landmark: Phrase | None = None
    words: list[Chunk] = field(default_factory=list)  # modifiers that continue the target
    attach: int = -1  # -1: the referent; k >= 0: the landmark of tail k (dependency parse)


class _ToIR(Transformer):
    """Parse tree -> Phrase/Tail records; tokens carry their chunk's index in start_pos."""

    def __init__(self, chunks: list[Chunk]):
        super().__init__()
        self.chunks = chunks

    def _c(self, tok: Token) -> Chunk:
        return self.chunks[tok.start_pos]

    def _words(self, items) -> list[Chunk]:
        return [self._c(t) for t in items if isinstance(t, Token) and t.type == "WORD"]

    def _dirs(self, items) -> list[Chunk]:
        out: list[Chunk] = []
        for t in items:
            if isinstance(t, list):
                out.extend(t)
            elif isinstance(t, Pre):
                out.extend(t.dirs)
        return out

    def expression(self, items):
        return items[0], list(items[1:])

    def headless(self, items):
        return None, list(items)

    def target(self, items):
        pre = next((t for t in items if isinstance(t, Pre)), Pre())
        return Phrase(self._words(items), pre)

    landmark = target

    def pre(self, items):
        ordinal = next((self._c(t) for t in items if isinstance(t, Token) and t.type == "ORD"), None)
        return Pre(ordinal, self._dirs(items))

    def directions(self, items):
        return [self._c(t) for t in items if t.type == "DIR"]

    def place(self, items):
        return self._dirs(items)

    def place_tail(self, items):
        return Tail("place", dirs=self._dirs(items), words=self._words(items))

    def from_direction(self, items):
        return Tail("from", dirs=self._dirs(items), words=self._words(items))

    def direction_relation(self, items):
        return Tail("relation", dirs=self._dirs(items), landmark=items[-1])

    def relation(self, items):
        return Tail("relation", relation=self._c(items[0]), landmark=items[1])

    def between(self, items):
        return Tail("between", relation=self._c(items[0]), landmark=items[1])


@lru_cache(maxsize=1)
def _parser() -> Lark:
    text = resources.files("grammar").joinpath("expression.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", lexer="basic")


def _parse(chunks: list[Chunk]):
    """Parse the chunks with the LALR grammar; a spatial chunk that does not fit where it
    stands is read as a plain word (with the determiners/prepositions just before it)."""
    for _ in range(len(chunks) + 1):
        result = _feed(chunks)
        if not isinstance(result, int):
            return _ToIR(chunks).transform(result)
        j = result
        chunks[j].cat = "WORD"
        while j > 0 and chunks[j - 1].cat in ("DET", "LOC", "FAR", "FROM", "ORD", "DIR", "PART"):
            j -= 1
            chunks[j].cat = "WORD"
    raise RuntimeError("expression grammar did not converge")  # unreachable: all-WORD parses


def _feed(chunks: list[Chunk]):
    """The parse tree, or the index of the chunk where even a plain word cannot go."""
    ip = _parser().parse_interactive()
    for k, c in enumerate(chunks):
        if c.cat != "WORD":
            if c.cat in ip.choices():
                trial = ip.copy(deepcopy_values=False)  # values are never mutated
                try:
                    trial.feed_token(Token(c.cat, c.lower, start_pos=k))
                    ip = trial
                    continue
                except LarkError:
                    pass
            c.cat = "WORD"
        if "WORD" not in ip.choices():
            return k
        try:
            ip.feed_token(Token("WORD", c.lower, start_pos=k))
        except LarkError:
            return k
    try:
        return ip.feed_eof()
    except LarkError:
        spatial = [k for k, c in enumerate(chunks) if c.cat != "WORD"]
        return spatial[-1] if spatial else len(chunks) - 1


# -- heads ----------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _pos_index() -> dict[str, frozenset[str]]:
    """WordNet word lists by part of speech, from spacy-lookups-data (for adjective-only words)."""
    try:
        import gzip
        import json
        import os

        import spacy_lookups_data

        path = os.path.join(os.path.dirname(spacy_lookups_data.__file__), "data", "en_lemma_index.json.gz")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return {k: frozenset(v) for k, v in data.items()}
    except Exception:
        return {}


def _in_index(word: str, pos: str) -> bool:
    return word in _pos_index().get(pos, ())


def _adjective_only(word: str) -> bool:
    return word in lx.COLORS or (_in_index(word, "adj") and not _in_index(word, "noun"))


def _noun_only(word: str) -> bool:
    return _in_index(word, "noun") and not _in_index(word, "adj") and word not in lx.COLORS


def _verb_form(toks: Sequence[Tok], k: int) -> bool:
    """A verb after the noun: "man sitting on", "chair tucked under", "a zebra stands with"."""
    t = toks[k]
    w = t.lower
    nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
    prev = toks[k - 1].lower
    closing = (not nxt or nxt in lx.PREPOSITIONS or nxt in lx.DETERMINERS or nxt in lx.POSSESSIVES
               or nxt in lx.CLAUSE_WORDS or not nxt[:1].isalnum() or nxt.endswith("ing")
               or nxt in lx.NON_HEADS or nxt in lx.POSTNOMINAL)
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
    out: list[Tok] = []
    for k, t in enumerate(toks):
        if t.lower in ("'", "’") and k + 1 < len(toks) and toks[k + 1].lower == "s":
            out.append(Tok(t.i, "'s", "'s", " "))
        elif t.lower == "s" and out and out[-1].lower == "'s":
            continue
        elif t.lower not in ("'", '"', "`", "’"):
            out.append(t)
    return out


def _is_noun_like(t: Tok) -> bool:
    w = t.lower
    return (w[:1].isalpha() and w not in lx.DETERMINERS and w not in lx.NON_HEADS
            and w not in lx.PREPOSITIONS and w not in lx.CLAUSE_WORDS and w not in ("and", "or")
            and not _adjective_only(w))


def _part_prefix(toks: Sequence[Tok]) -> bool:
    """Only describers before a part word: "the left side of", "face and upper body of"."""
    return all(not _noun_only(t.lower) or t.lower in lx.DETERMINERS or t.lower in lx.NON_HEADS
               or t.lower in lx.OWNER_PARTS or t.lower in lx.DIRECTION_WORDS
               or t.lower in lx.SIZE_WORDS or t.lower in ("and", ",", "&") or t.lower.isdigit() for t in toks)


def _head_heuristic(toks: Sequence[Tok]) -> Tok | None:
    """Last noun-like word of the first simple noun phrase (no parser available)."""
    toks = _possessive_marks(toks)
    start = 0
    while start < len(toks) - 1 and toks[start].lower in lx.LEADING_FILLERS:
        start += 1
    toks = toks[start:]
    # "the back of a truck", "one of the men": the owner is the referent
    for k, t in enumerate(toks[:6]):
        part = toks[k - 1].lower if k > 0 else ""
        if t.lower == "of" and (part in lx.OWNER_PARTS or part[:-1] in lx.OWNER_PARTS) \
                and _part_prefix(toks[:k - 1]):
            owner = _head_heuristic(toks[k + 1:])
            if owner is not None:
                return owner
        if t.lower in lx.PREPOSITIONS or (t.lower in lx.CLAUSE_WORDS and t.lower != "and"):
            break
    span: list[Tok] = []
    for k, t in enumerate(toks):
        if span and _ends_phrase(toks, k, span):
            break
        span.append(t)
    nouns = [t for t in span if _is_noun_like(t)]
    if len(nouns) >= 2 and nouns[-1].lower in lx.COMPOUND_PARTS and _noun_only(nouns[-2].lower) \
            and nouns[-2] is span[span.index(nouns[-1]) - 1]:
        return nouns[-2]  # "chair legs", "table top", "pizza slice"
    if nouns:
        return nouns[-1]
    words = [t for t in span if t.lower[:1].isalpha() and t.lower not in lx.NON_HEADS]
    return words[-1] if words else (span[-1] if span else None)


def _ends_phrase(toks: Sequence[Tok], k: int, span: list[Tok]) -> bool:
    w = toks[k].lower
    nxt = toks[k + 1].lower if k + 1 < len(toks) else ""
    only_adjectives = all(_adjective_only(t.lower) or t.lower in ("and", ",", "/", "&") for t in span)
    if w in (",", "/", "and", "&", "-") and only_adjectives:
        return False  # "a blue , white and grey tie"
    if w in ("and", "or", "&"):
        return nxt in lx.DETERMINERS or nxt in lx.POSSESSIVES
    return (w in lx.PREPOSITIONS or w in lx.CLAUSE_WORDS or w in lx.DETERMINERS or w in lx.POSSESSIVES
            or w in lx.POSTNOMINAL or not w[:1].isalnum() or _verb_form(toks, k))


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


def _head(toks: Sequence[Tok], parsed: bool) -> Tok | None:
    head = _head_from_parse(toks) if parsed else None
    return head or _head_heuristic(toks)


def _head_word(tok: Tok | None) -> str | None:
    """The head's lemma; a word WordNet knows as a noun keeps its form ("number", not "numb")."""
    if tok is None or not any(ch.isalnum() for ch in tok.lower):
        return None  # punctuation is no head; callers fall back to "object"
    if tok.lemma != tok.lower and _in_index(tok.lower, "noun") and not tok.lower.endswith("s") \
            and tok.lower not in lx.IRREGULAR_PLURALS:
        return tok.lower
    return tok.lemma


# -- building the program -------------------------------------------------------------------
def _text(toks: Sequence[Tok]) -> str:
    return " ".join("".join(t.text + t.ws for t in toks).split()).strip(" ,.;:!?")


def _flat(chunks: Iterable[Chunk]) -> list[Tok]:
    return [t for c in chunks for t in c.toks]


def _strip_leading(toks: list[Tok], words: frozenset[str]) -> list[Tok]:
    k = 0
    while k < len(toks) - 1 and toks[k].lower in words:
        k += 1
    return toks[k:]


@dataclass
class _Ctx:
    registry: Registry
    parsed: bool
    notes: list[str]


def _find(toks: list[Tok], ctx: _Ctx, plural_to_singular: bool = False) -> Find:
    toks = _strip_leading(toks, lx.DETERMINERS | lx.LEADING_CLAUSE)
    head = _head(toks, ctx.parsed)
    if plural_to_singular:
        toks = [t for t in toks if t.lower not in lx.QUANTITIES and t.lower not in lx.DETERMINERS
                and not t.lower.isdigit()] or toks
    text = _text(toks)
    if not text:
        return Find("object", head="object")
    if plural_to_singular and head is not None and head in toks:
        text = _text([Tok(t.i, (_head_word(t) or t.text) if t is head else t.text, t.lemma, t.ws) for t in toks])
    return Find(text, head=_head_word(head))


def _superlatives(node: Node, dirs: list[Chunk]) -> Node:
    kinds: list[str] = []
    for d in dirs:
        if d.value not in kinds:
            kinds.append(d.value)
    kinds.sort(key=lambda k: 0 if k in lx.VERTICAL else 1)  # stable: vertical innermost
    for kind in kinds:
        node = Superlative(kind, node)
    return node


def _ordinal(node: Node, ordinal: Chunk, dirs: list[Chunk], counted_from: bool, ctx: _Ctx) -> Node:
    """ "second from the left": n-th along leftmost; "last from the left": 1st along rightmost."""
    n, from_end = ordinal.value
    names = ctx.registry.names("superlative")
    if dirs:
        kind = dirs[-1].value
        node = _superlatives(node, dirs[:-1])
    else:  # no direction written: reading order, left to right
        kind = "leftmost"
        ctx.notes.append(f"ordinal {ordinal.lower!r} without a direction: "
                         "reading order (first = leftmost, last = rightmost)")
    if from_end and counted_from:
        kind = lx.OPPOSITES.get(kind, kind)
    elif from_end and not dirs:
        kind = "rightmost"
    if kind not in names:
        ctx.notes.append(f"ordinal direction {kind!r} is not registered: ordinal dropped")
        return node
    return Ordinal(n, kind, node)


def _landmark_nodes(tail: Tail, ctx: _Ctx, nested: list[Tail], all_tails: list[Tail]) -> list[Node]:
    phrase = tail.landmark
    toks = _flat(phrase.words) if phrase else []
    if tail.kind != "between":
        # words after a place attached to this landmark describe the landmark
        toks = toks + [t for n in nested for t in _flat(n.words)]
        base = _find(toks, ctx)
        return [_structure(base, phrase.pre if phrase else Pre(), nested, ctx, all_tails)]
    pre = phrase.pre if phrase else Pre()
    parts = _split_and(toks)
    if len(parts) >= 2:
        nodes = [_find(p, ctx) for p in parts[:2]]
    else:  # "between the two cars", "between giraffes": the same kind twice
        one = _find(parts[0] if parts else toks, ctx, plural_to_singular=True)
        nodes = [one, one]
    return [_structure(n, pre, [], ctx) for n in nodes]


def _split_and(toks: list[Tok]) -> list[list[Tok]]:
    """ "the car and the tree" -> two phrases; a comma ends the landmarks."""
    parts: list[list[Tok]] = [[]]
    for t in toks:
        if t.lower in (",", ";"):
            break
        if t.lower in ("and", "&", "or"):
            if parts[-1]:
                parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def _one_landmark_in_the_middle(tail: Tail) -> bool:
    """ "in the middle of the kitchen": one singular landmark, so inside it, not between."""
    if tail.relation is None or not any(w in tail.relation.lower for w in ("middle", "center", "centre")):
        return False
    parts = _split_and(_flat(tail.landmark.words) if tail.landmark else [])
    if len(parts) != 1:
        return False
    plural = any(t.lower in lx.QUANTITIES or t.lower.isdigit() or t.lower != t.lemma for t in parts[0])
    return not plural


def _relation_name(tail: Tail, ctx: _Ctx) -> str | None:
    if tail.relation is not None:
        return tail.relation.value
    word = tail.dirs[-1].lower
    name = ctx.registry.words("relation").get(word)
    if name is None:
        name = lx.SUPERLATIVE_RELATIONS.get(tail.dirs[-1].value)
    return name if name in ctx.registry.names("relation") else None


def _structure(node: Node, pre: Pre, tails: list[Tail], ctx: _Ctx,
               all_tails: list[Tail] | None = None) -> Node:
    """Wrap a phrase's Find in its relations, then superlatives, then an ordinal."""
    all_tails = all_tails if all_tails is not None else tails
    dirs = list(pre.dirs)
    from_dirs: list[Chunk] = []
    for k, tail in enumerate(tails):
        if tail.kind == "place":
            dirs.extend(tail.dirs)
        elif tail.kind == "from":
            from_dirs.extend(tail.dirs)
        else:
            position = next(i for i, t in enumerate(all_tails) if t is tail)
            name = _relation_name(tail, ctx)
            if tail.kind == "between" and _one_landmark_in_the_middle(tail) and "within" in ctx.registry:
                tail = Tail("relation", relation=Chunk("REL", tail.relation.toks, "within"),
                            landmark=tail.landmark, attach=tail.attach)
                name = "within"
            if name is None:
                ctx.notes.append(f"no relation for {tail.dirs[-1].lower!r}: phrase ignored")
                continue
            nested = [t for t in all_tails if t.attach == position]
            landmarks = _landmark_nodes(tail, ctx, nested, all_tails)
            node = Relate(node, name, *landmarks)
    ordinal = pre.ordinal
    if ordinal is not None:
        counted_from = bool(from_dirs)
        order_dirs = from_dirs or dirs
        rest = [d for d in dirs if d not in order_dirs]
        node = _superlatives(node, rest)
        return _ordinal(node, ordinal, order_dirs, counted_from, ctx)
    return _superlatives(node, dirs + from_dirs)


def _attach_by_parse(target: Phrase | None, tails: list[Tail], chunks: list[Chunk]) -> None:
    """With a dependency parse: a spatial phrase whose governor lies in an earlier
    landmark describes that landmark ("cup next to the plate on the left")."""
    owner: dict[int, int] = {}
    if target is not None:
        for t in _flat(target.words):
            owner[t.i] = -1
    by_i: dict[int, Tok] = {t.i: t for c in chunks for t in c.toks}
    for k, tail in enumerate(tails):
        spatial = tail.dirs or ([tail.relation] if tail.relation else [])
        if k > 0 and spatial:
            tok = spatial[0].toks[0]
            for _ in range(8):  # climb the governors until one lies in a known phrase
                if tok.head == tok.i or tok.head not in by_i:
                    break
                tok = by_i[tok.head]
                if tok.i in owner:
                    tail.attach = owner[tok.i]
                    break
        if tail.landmark is not None:
            for t in _flat(tail.landmark.words):
                owner[t.i] = k


def _relative_clause_at_end(words: list[Chunk]) -> tuple[int, Chunk | None] | None:
    """Where a trailing relative clause opener starts in a phrase's words ("plate that is",
    "women who are standing", "plate that is the second"), and the ordinal it ends with."""
    for m in range(len(words) - 2, -1, -1):
        if words[m].lower in lx.RELATIVE_PRONOUNS and words[m + 1].lower in lx.COPULAS:
            break
    else:
        return None
    rest = words[m + 2:]
    while rest and rest[0].lower in lx.CLAUSE_ADVERBS:
        rest = rest[1:]
    if rest and rest[0].lower in ("the", "a"):
        rest = rest[1:]
    ordinal = None
    if rest and (rest[0].lower in lx.ORDINALS or rest[0].lower in lx.LAST_ORDINALS) \
            and isinstance(rest[0].value, tuple):
        ordinal, rest = rest[0], rest[1:]
    return (m, ordinal) if not rest else None


def _resolve_relative_clauses(target: Phrase | None, tails: list[Tail]) -> None:
    """ "the circle over the square that is right of the star": the spatial phrase after a
    relative clause describes the noun phrase just before the clause (a landmark, or the
    referent), and "that is" leaves that phrase's find text. An ordinal inside the clause
    ("that is second from the left") becomes the phrase's own ordinal."""
    for k, tail in enumerate(tails):
        owner = -1 if k == 0 else k - 1
        before = tails[k - 1] if k > 0 else None
        phrase = target if before is None else before.landmark
        if before is not None and not before.landmark:
            words = before.words  # "the cup on the left that is next to the plate": the referent
            clause = _relative_clause_at_end(words)
            if clause is not None:
                del words[clause[0]:]
            continue
        if phrase is None:
            continue
        clause = _relative_clause_at_end(phrase.words)
        if clause is None:
            continue
        m, ordinal = clause
        del phrase.words[m:]
        if ordinal is not None and phrase.pre.ordinal is None:
            phrase.pre = Pre(ordinal, list(phrase.pre.dirs))
        if before is not None and before.kind != "between":
            tail.attach = owner


def _attach_counting_directions(tails: list[Tail]) -> None:
    """ "the star right of the second circle from the left": the direction an ordinal counts
    from belongs to the ordinal just before it, the landmark's, not to the referent."""
    for k in range(1, len(tails)):
        tail, before = tails[k], tails[k - 1]
        landmark = before.landmark
        if tail.kind == "from" and tail.attach < 0 and before.kind != "between" \
                and landmark is not None and landmark.pre.ordinal is not None:
            tail.attach = k - 1


def _next_word(words: list[Tok], toks: list[Tok]) -> list[Tok]:
    """The preposition after the referent's words, if any: it tells "a man stands | next to"
    that "stands" is a verb (the spatial phrase itself is not part of the words)."""
    k = next((k for k, t in enumerate(toks) if t is words[-1]), len(toks)) + 1
    if k < len(toks) and (toks[k].lower in lx.PREPOSITIONS or toks[k].lower in lx.LOCATIVES):
        return [toks[k]]
    return []


def _build(source: str, toks: list[Tok], chunks: list[Chunk], ir, ctx: _Ctx) -> Program:
    whole = " ".join(source.split())
    target, tails = ir
    if ctx.parsed:
        _attach_by_parse(target, tails, chunks)
    _resolve_relative_clauses(target, tails)
    _attach_counting_directions(tails)
    mine = [t for t in tails if t.attach < 0]
    words = _flat(target.words) if target else []
    modifiers = [t for tail in mine for t in _flat(tail.words)]
    head = None
    if words:
        head = _head(_strip_leading(words, lx.DETERMINERS) + _next_word(words, toks), ctx.parsed)
    dangling = bool(words) and words[-1].lower in ("and", "or", ",", "&")
    if (head is None or not _is_noun_like(head) or dangling) and modifiers:
        head = _head(_strip_leading(words + modifiers, lx.DETERMINERS), ctx.parsed) or head
    text_toks = _strip_leading(words + modifiers, lx.DETERMINERS | lx.LEADING_CLAUSE)
    text = _text(text_toks) or "object"
    # A referent with no noun still gets a head: "object", as in "2nd from right".
    referent = Find(text, head=_head_word(head) or "object")
    pre = target.pre if target else Pre()
    structure = _structure(referent, pre, mine, ctx, tails)
    if structure == referent:
        fallback_head = _head(toks, ctx.parsed)
        ctx.notes.append(f"{NO_STRUCTURE}: the whole expression is one find")
        root: Node = Find(whole, head=_head_word(fallback_head) or "object")
        return Program(root, source=source, notes=tuple(ctx.notes))
    return Program(And(Find(whole), structure), source=source, notes=tuple(ctx.notes))


# -- public entry ----------------------------------------------------------------------------
def compile_expression(text: str, spacy_model: str | None = None, registry: Registry = REGISTRY) -> Program:
    """Compile a referring expression into a Program.

    ``spacy_model`` names an installed trained spaCy pipeline (e.g. "en_core_web_sm")
    whose dependency parse then chooses heads and attachments; without it the grammar
    alone decides. Raises CompileError for empty or non-text input and for a named
    pipeline that is not installed; any text otherwise compiles (to a bare find, with a
    note, when no spatial structure is found).
    """
    if not isinstance(text, str):
        raise CompileError(f"expression must be text (str), got {type(text).__name__}")
    if not text.strip():
        raise CompileError("empty expression: nothing to compile")
    if len(text) > MAX_CHARS:
        raise CompileError(f"expression too long: {len(text)} characters (at most {MAX_CHARS})")
    if spacy_model is not None and not isinstance(spacy_model, str):
        raise CompileError(f"spacy_model must be a pipeline name (str), got {type(spacy_model).__name__}")
    nlp = _nlp(spacy_model)
    try:
        doc = nlp(text)
    except Exception as exc:  # spaCy refusing a text is the user's problem, said plainly
        raise CompileError(f"spaCy could not tokenise the expression: {exc}") from exc
    return compile_doc(doc, text, registry)


def compile_doc(doc: Any, text: str | None = None, registry: Registry = REGISTRY) -> Program:
    """Compile an already-processed spaCy Doc (its parse, if any, picks heads and attachments)."""
    source = doc.text if text is None else text
    if not source.strip():
        raise CompileError("empty expression: nothing to compile")
    toks = _doc_tokens(doc)
    parsed = bool(toks) and any(t.dep for t in toks)
    ctx = _Ctx(registry, parsed, [])
    if not toks:
        raise CompileError("expression has no words to compile")
    chunks = _lex(toks, _tables(registry), registry)
    try:
        ir = _parse(chunks)
    except LarkError as exc:  # the grammar is total over words; this is a safety net
        head = _head(toks, parsed)
        note = f"{NO_STRUCTURE}: the grammar could not structure it ({type(exc).__name__})"
        return Program(Find(" ".join(source.split()), head=_head_word(head) or "object"),
                       source=source, notes=(note,))
    return _build(source, toks, chunks, ir, ctx)
