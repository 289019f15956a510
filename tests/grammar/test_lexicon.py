"""grammar/lexicon.py lists each word once: no duplicate in a set, and a set that holds all of
another named set says so by name (``A | B``) instead of re-listing its words."""

from __future__ import annotations

import ast
from pathlib import Path

import grammar.lexicon as lx

_SOURCE = Path(lx.__file__).read_text(encoding="utf-8")


def _literal_words() -> dict[str, list[str]]:
    """Each constant's words written out in its literal(s) (not those it takes from others)."""
    out: dict[str, list[str]] = {}
    for node in ast.parse(_SOURCE).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            words = [c.value for lit in ast.walk(node.value) if isinstance(lit, ast.Set)
                     for c in lit.elts if isinstance(c, ast.Constant)]
            out[node.targets[0].id] = words
    return out


def test_no_word_is_listed_twice_in_one_set():
    dupes = {name: sorted({w for w in words if words.count(w) > 1})
             for name, words in _literal_words().items() if len(set(words)) < len(words)}
    assert not dupes


def test_no_set_re_lists_every_word_of_another_named_set():
    literal = {name: set(words) for name, words in _literal_words().items() if words}
    sets = {name: value for name, value in vars(lx).items() if name.isupper() and isinstance(value, frozenset)}
    derived = {name: {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
               for node in ast.parse(_SOURCE).body if isinstance(node, ast.Assign)
               for name in [node.targets[0].id]}
    # sets of five words or more (a few small ones overlap by chance); B taken from A is not re-listing
    re_listed = [(a, b) for a in literal for b, other in sets.items()
                 if a != b and len(other) >= 5 and other <= literal[a] and a not in derived.get(b, ())]
    assert not re_listed
