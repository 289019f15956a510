"""``reclip compile --explain``: which words of an expression became which program node."""

from __future__ import annotations

import re
from typing import Sequence

from grammar.ast import And, Find, Node, Ordinal, Program, Relate, Superlative
from primitives import REGISTRY, Registry


def explain(program: Program, expression: str, registry: Registry = REGISTRY) -> str:
    """Which words of the expression became which node, drawn as underlines.

    The compiler does not record token spans, so they are recovered here by aligning
    each node's words (a find's phrase, a relation's or superlative's registered
    words, an ordinal's number word) with the expression, left to right.
    """
    width = len(expression)
    lines = [expression]
    for label, spans in aligned_spans(program, expression, registry):
        marks = [" "] * width
        for a, b in spans:
            for k in range(max(0, a), min(width, b)):
                marks[k] = "^"
        implied = "" if spans or label.startswith("and(") else "  (no words: implied)"
        lines.append(f"{''.join(marks)}  {label}{implied}")
    lines.append("(spans found by aligning each node's words with the expression)")
    return "\n".join(lines)


ORDINAL_WORDS = {1: ["first", "1st"], 2: ["second", "2nd"], 3: ["third", "3rd"], 4: ["fourth", "4th"],
                 5: ["fifth", "5th"], 6: ["sixth", "6th"], 7: ["seventh", "7th"], 8: ["eighth", "8th"],
                 9: ["ninth", "9th"], 10: ["tenth", "10th"]}


def aligned_spans(program: Program, expression: str,
                  registry: Registry = REGISTRY) -> list[tuple[str, list[tuple[int, int]]]]:
    """(node label, character spans) for every node, in program order (root first).

    A parent claims its words before its children, each word at most once.
    """
    text = expression.lower()
    taken: set[int] = set()
    rows = []
    whole = _whole_expression_find(program, expression)
    for node in _preorder(program.root):
        if node is whole:
            rows.append((f"{_node_label(node)}  (whole expression: ReCLIP's final product)",
                         [(0, len(expression))]))
            continue
        spans = _spans_for(node, text, taken, registry)
        for a, b in spans:
            taken.update(range(a, b))
        rows.append((_node_label(node), spans))
    return rows


def _preorder(node: Node) -> list[Node]:
    out = [node]
    for c in node.children:
        out.extend(_preorder(c))
    return out


def _whole_expression_find(program: Program, expression: str) -> Node | None:
    """The compiled root's ``find(<whole expression>)``, if the program has one."""
    root = program.root
    if isinstance(root, And) and root.args and isinstance(root.args[0], Find) \
            and root.args[0].text.strip().lower() == expression.strip().lower():
        return root.args[0]
    return None


def _node_label(node: Node) -> str:
    if isinstance(node, Find):
        return str(node)
    if isinstance(node, Relate):
        return f"relate(…, {node.relation}, …)"
    if isinstance(node, Superlative):
        return f"superlative({node.kind}, …)"
    if isinstance(node, Ordinal):
        return f"ordinal({node.n}, {node.kind}, …)"
    return "and(…)  (multiplies its arguments)"


def _spans_for(node: Node, text: str, taken: set[int], registry: Registry) -> list[tuple[int, int]]:
    if isinstance(node, Find):
        span = _find_phrase(node.text.lower(), text, taken)
        if span:
            return [span]
        return [s for w in node.text.lower().split() if (s := _find_phrase(w, text, taken))]
    if isinstance(node, Relate):
        return _first_word_span(registry.get(node.relation).words, text, taken)
    if isinstance(node, (Superlative, Ordinal)):
        spans = _first_word_span(registry.get(node.kind).words, text, taken)
        if isinstance(node, Ordinal):
            spans = _first_word_span(ORDINAL_WORDS.get(node.n, [str(node.n)]), text, taken) + spans
        return spans
    return []


def _first_word_span(words: Sequence[str], text: str, taken: set[int]) -> list[tuple[int, int]]:
    """The earliest free occurrence of any of ``words`` (longest first at a position)."""
    best = None
    for w in sorted(words, key=len, reverse=True):
        span = _find_phrase(w, text, taken)
        if span and (best is None or span[0] < best[0]):
            best = span
    return [best] if best else []


def _find_phrase(phrase: str, text: str, taken: set[int]) -> tuple[int, int] | None:
    """The first whole-word occurrence of ``phrase`` in ``text`` not already used by a node."""
    if not phrase.strip():
        return None
    for m in re.finditer(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)", text):
        if not taken.intersection(range(m.start(), m.end())):
            return m.start(), m.end()
    return None


def pretty_program(node: Node | Program, width: int = 88, indent: str = "") -> str:
    """Program text laid out for editing: a call that does not fit in ``width`` puts each
    argument on its own indented line. ``parse_program`` reads it back unchanged."""
    if isinstance(node, Program):
        node = node.root
    flat = str(node)
    if len(indent) + len(flat) <= width or not node.children:
        return indent + flat
    inner = indent + "    "
    if isinstance(node, Relate):
        head, args = "relate(", [pretty_program(node.target, width, inner), inner + node.relation,
                                 *(pretty_program(n, width, inner) for n in node.landmarks)]
    elif isinstance(node, Superlative):
        head, args = "superlative(", [inner + node.kind, pretty_program(node.arg, width, inner)]
    elif isinstance(node, Ordinal):
        head, args = "ordinal(", [inner + str(node.n), inner + node.kind, pretty_program(node.arg, width, inner)]
    else:
        head, args = "and(", [pretty_program(n, width, inner) for n in node.args]
    return f"{indent}{head}\n" + ",\n".join(args) + f"\n{indent})"
