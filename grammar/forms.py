"""A program's representations, in one place.

- text: ``str(program)`` / ``str(node)`` (``grammar.ast``: canonical, what ``parse_program`` reads);
- pretty text: ``pretty_program``, the text laid out for editing (``parse_program`` reads it too);
- JSON: ``node_json`` / ``program_json`` (``reclip compile --json``);
- labels: ``node_label``, a node without its children, as the trace, the trace page and explain
  show it (``relate(left_of)``); ``node_key``, the same as a short key, as evaluation rows and the
  failure-cause tally record it (``relate:left_of``);
- structure kind: ``structure_kind``, one of ``STRUCTURE_KINDS``, what evaluation tables group by.
"""

from __future__ import annotations

from typing import Any

from grammar.ast import And, Find, Node, Ordinal, Program, Relate, Superlative, walk

STRUCTURE_KINDS = ("none", "relation", "superlative", "ordinal", "between", "nested")
_SPATIAL = (Relate, Superlative, Ordinal)


def node_label(node: Node, elided: bool = False) -> str:
    """A node without its children: ``find("cup")``, ``relate(left_of)``,
    ``superlative(leftmost)``, ``ordinal(2, leftmost)``, ``and``. ``elided`` shows where the
    children go: ``relate(…, left_of, …)``, ``superlative(leftmost, …)``, ``and(…)``."""
    if isinstance(node, Find):
        return str(node)
    if isinstance(node, Relate):
        return f"relate(…, {node.relation}, …)" if elided else f"relate({node.relation})"
    if isinstance(node, Superlative):
        return f"superlative({node.kind}, …)" if elided else f"superlative({node.kind})"
    if isinstance(node, Ordinal):
        return f"ordinal({node.n}, {node.kind}, …)" if elided else f"ordinal({node.n}, {node.kind})"
    if isinstance(node, And):
        return "and(…)" if elided else "and"
    return type(node).__name__.lower()


def node_key(node: Node) -> str:
    """A node as a short key: ``relate:left_of``, ``superlative:leftmost``,
    ``ordinal:leftmost``, ``find``, ``and``."""
    if isinstance(node, Relate):
        return f"relate:{node.relation}"
    if isinstance(node, (Superlative, Ordinal)):
        return f"{type(node).__name__.lower()}:{node.kind}"
    return type(node).__name__.lower()


def structure_kind(root: Node | None) -> str:
    """``none`` (no spatial operation), ``relation``, ``superlative``, ``ordinal``,
    ``between`` (a ternary relation) or ``nested`` (more than one spatial operation)."""
    ops = [n for n in walk(root) if isinstance(n, _SPATIAL)] if root is not None else []
    if not ops:
        return "none"
    if len(ops) > 1:
        return "nested"
    op = ops[0]
    if isinstance(op, Relate):
        return "between" if len(op.landmarks) == 2 else "relation"
    return "superlative" if isinstance(op, Superlative) else "ordinal"


def node_json(node: Node) -> dict[str, Any]:
    """A program node as a JSON-ready tree."""
    if isinstance(node, Find):
        out: dict[str, Any] = {"type": "find", "text": node.text}
        if node.head is not None:
            out["head"] = node.head
        return out
    if isinstance(node, Relate):
        return {"type": "relate", "relation": node.relation, "target": node_json(node.target),
                "landmarks": [node_json(n) for n in node.landmarks]}
    if isinstance(node, Superlative):
        return {"type": "superlative", "kind": node.kind, "arg": node_json(node.arg)}
    if isinstance(node, Ordinal):
        return {"type": "ordinal", "n": node.n, "kind": node.kind, "arg": node_json(node.arg)}
    if isinstance(node, And):
        return {"type": "and", "args": [node_json(n) for n in node.args]}
    raise TypeError(f"not a program node: {node!r}")


def program_json(program: Program) -> dict[str, Any]:
    """A program, its source, notes and referent, with its tree as ``node_json``."""
    return {"program": str(program), "source": program.source, "notes": list(program.notes),
            "target": str(program.target), "tree": node_json(program.root)}


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
