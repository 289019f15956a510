"""Stage 2, lexicon tables: phrase -> {category: value}, from the registry plus ``grammar.lexicon``.

Built once per registry state (cached on the registry's ``version``): superlative and
relation words come from the registry's entries, the rest from the lexicon.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grammar import lexicon as lx
from grammar.ordinals import numeric_ordinal
from primitives import Registry


@dataclass
class Tables:
    lexemes: dict[tuple[str, ...], dict[str, Any]]
    longest: int
    # from each superlative's registry entry: its other end, its comparative relation, its axis
    opposites: dict[str, str] = field(default_factory=dict)
    comparatives: dict[str, str] = field(default_factory=dict)
    axes: dict[str, str | None] = field(default_factory=dict)
    # word -> the lengths of the phrases it starts, longest first
    sizes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    containment: str | None = None  # the registry's relation for "in" ("a man in a car"), if any

    def opposite(self, superlative: str) -> str:
        return self.opposites.get(superlative, superlative)

    def lexeme(self, word: str) -> dict[str, Any]:
        """The categories of a one-word phrase (an ordinal in digits, "11th", is in no table)."""
        cats = self.lexemes.get((word,))
        if cats is None:
            return numeric_lexeme(word)
        return cats


_NO_CATS: dict[str, Any] = {}
_DIGITS = frozenset("0123456789")


def numeric_lexeme(word: str) -> dict[str, Any]:
    """{"ord": (n, False)} for an ordinal in digits ("11th"), else no categories."""
    n = numeric_ordinal(word) if word[:1] in _DIGITS else None
    return _NO_CATS if n is None else {"ord": (n, False)}


# id(registry) -> (registry, its version, tables); the registry is held so its id stays unique
_TABLE_CACHE: dict[int, tuple[Registry, int, Tables]] = {}


def lexicon_tables(registry: Registry) -> Tables:
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
    superlatives = registry.items("superlative")
    tables = Tables(table, max(len(k) for k in table),
                    opposites={p.name: p.opposite for p in superlatives if p.opposite},
                    comparatives={p.name: p.comparative for p in superlatives if p.comparative},
                    axes={p.name: p.axis for p in superlatives},
                    sizes=_phrase_sizes(table),
                    containment=registry.words("relation").get("in"))
    if tables.containment not in rel_names:
        tables.containment = None
    if len(_TABLE_CACHE) >= 16:
        _TABLE_CACHE.clear()
    _TABLE_CACHE[id(registry)] = (registry, registry.version, tables)
    return tables


def _phrase_sizes(table: dict[tuple[str, ...], Any]) -> dict[str, tuple[int, ...]]:
    sizes: dict[str, set[int]] = {}
    for key in table:
        sizes.setdefault(key[0], set()).add(len(key))
    return {word: tuple(sorted(n, reverse=True)) for word, n in sizes.items()}
