"""``reclip compile --explain``: which words of an expression became which program node."""

from __future__ import annotations

from grammar.ast import And, Find, Node, Program
from grammar.forms import node_label, pretty_program  # noqa: F401 (pretty_program: read from here)


def explain(program: Program, expression: str) -> str:
    """Which words of the expression became which node, drawn as underlines.

    The spans are the ones the compiler recorded on each node (``node.span``); a node
    with none (an implied "object", or a program written by hand) says so.
    """
    width = len(expression)
    lines = [expression]
    for label, spans in node_spans(program):
        marks = [" "] * width
        for a, b in spans:
            for k in range(max(0, a), min(width, b)):
                marks[k] = "^"
        implied = "" if spans or label.startswith("and(") else "  (no words: implied)"
        lines.append(f"{''.join(marks)}  {label}{implied}")
    lines.append("(each node underlines the words the compiler built it from)")
    return "\n".join(lines)


def node_spans(program: Program) -> list[tuple[str, list[tuple[int, int]]]]:
    """(node label, character spans) for every node, in program order (root first)."""
    whole = _whole_expression_find(program)
    rows = []
    for node in _preorder(program.root):
        spans = [node.span] if node.span is not None else []
        label = node_label(node, elided=True)
        if isinstance(node, And):
            label += "  (multiplies its arguments)"
        if node is whole:
            label += "  (whole expression: ReCLIP's final product)"
        rows.append((label, spans))
    return rows


def _preorder(node: Node) -> list[Node]:
    out = [node]
    for c in node.children:
        out.extend(_preorder(c))
    return out


def _whole_expression_find(program: Program) -> Node | None:
    """The compiled root's ``find(<whole expression>)``, if the program has one."""
    root = program.root
    if isinstance(root, And) and root.args and isinstance(root.args[0], Find) and program.source is not None \
            and root.args[0].text == " ".join(program.source.split()):
        return root.args[0]
    return None
