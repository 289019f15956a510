"""Compiler benchmark on the hand-labelled structure corpus (tests/data/structure_corpus.jsonl).

``python -m benchmarks.bench_structure [-v] [path]`` compiles each corpus expression, turns the
program into the corpus's label skeleton and prints three figures (``-v`` first lists every
disagreement as expression, label, got):

* **Skeleton.** Each ``find`` is replaced by its head (``find("red cup", head="cup")`` -> ``cup``);
  the root ``and(find(<whole>), X)`` becomes the skeleton of X; a bare find becomes its head.
  So ``relate(find("cup"), left_of, find("plate"))`` -> ``relate(cup, left_of, plate)``.
* **Exact structure:** the share of expressions whose skeleton equals the label, as text.
* **Operations:** each skeleton is read as the multiset of its operations, one per
  ``relate``/``superlative``/``ordinal`` node: ``("relate", relation, landmark heads)``,
  ``("superlative", kind, ())`` and ``("ordinal", "<n> <kind>", ())``, where a landmark's head
  is the head of the find its subtree selects from (the innermost target: in
  ``relate(cup, near, superlative(largest, plate))`` the landmark head is ``plate``).
  The referent's own head is not part of any operation (exact structure already judges it).
  Precision = matched / operations produced, recall = matched / operations labelled, summed
  over the corpus, where matched is the size of the multiset intersection per expression.
  An expression with neither labelled nor produced operations adds nothing to either.

A row relabelled after the corpus was first written keeps its first label in ``first_label``;
the figures on the first labels are printed too.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Union

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "structure_corpus.jsonl"

# A skeleton as a tree: a head (str) or (operation, argument skeletons / names).
Skeleton = Union[str, tuple]


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def program_skeleton(program) -> str:
    """The label skeleton of a compiled Program (see the module docstring)."""
    from grammar.ast import And, Find

    root = program.root
    if isinstance(root, And) and len(root.args) == 2 and isinstance(root.args[0], Find):
        root = root.args[1]
    return _node_text(root)


def _node_text(node) -> str:
    from grammar.ast import And, Find, Ordinal, Relate, Superlative

    if isinstance(node, Find):
        return node.head or "object"
    if isinstance(node, Relate):
        args = [_node_text(node.target), node.relation, *map(_node_text, node.landmarks)]
        return f"relate({', '.join(args)})"
    if isinstance(node, Superlative):
        return f"superlative({node.kind}, {_node_text(node.arg)})"
    if isinstance(node, Ordinal):
        return f"ordinal({node.n}, {node.kind}, {_node_text(node.arg)})"
    if isinstance(node, And):
        return f"and({', '.join(map(_node_text, node.args))})"
    raise TypeError(f"unknown node {type(node).__name__}")


def read_skeleton(text: str) -> Skeleton:
    """Skeleton text -> tree: ``"relate(cup, near, plate)"`` -> ``("relate", "cup", "near", "plate")``."""
    tokens = text.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    tree, at = _read(tokens, 0)
    if at != len(tokens):
        raise ValueError(f"trailing text in skeleton {text!r}")
    return tree


def _read(tokens: list[str], at: int) -> tuple[Skeleton, int]:
    name = tokens[at]
    at += 1
    if at >= len(tokens) or tokens[at] != "(":
        return name, at
    args: list[Skeleton] = []
    at += 1
    while tokens[at] != ")":
        arg, at = _read(tokens, at)
        args.append(arg)
        if tokens[at] == ",":
            at += 1
    return (name, *args), at + 1


def _selects(tree: Skeleton) -> str:
    """The head of the find a subtree selects from (its innermost target)."""
    while isinstance(tree, tuple):
        op = tree[0]
        tree = tree[1] if op == "relate" else tree[-1] if op in ("superlative", "ordinal") else tree[1]
    return tree


def operations(tree: Skeleton) -> Counter:
    """The multiset of (operation, primitive, landmark heads) of a skeleton tree."""
    ops: Counter = Counter()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not isinstance(node, tuple):
            continue
        op = node[0]
        if op == "relate":
            target, name, *landmarks = node[1:]
            ops[("relate", name, tuple(_selects(l) for l in landmarks))] += 1
            stack.extend([target, *landmarks])
        elif op == "superlative":
            ops[("superlative", node[1], ())] += 1
            stack.append(node[2])
        elif op == "ordinal":
            ops[("ordinal", f"{node[1]} {node[2]}", ())] += 1
            stack.append(node[3])
        else:
            stack.extend(node[1:])
    return ops


def score(rows: list[dict], got: list[str]) -> dict[str, float]:
    """Exact agreement and operation precision / recall (see the module docstring)."""
    exact = matched = produced = labelled = 0
    for row, skeleton in zip(rows, got):
        exact += skeleton == row["structure"]
        want, have = operations(read_skeleton(row["structure"])), operations(read_skeleton(skeleton))
        matched += sum((want & have).values())
        produced += sum(have.values())
        labelled += sum(want.values())
    return {"exact": exact / len(rows), "precision": matched / produced if produced else 1.0,
            "recall": matched / labelled if labelled else 1.0, "n": len(rows),
            "produced": produced, "labelled": labelled, "matched": matched}


def main(argv: list[str] | None = None) -> int:
    from grammar import compile_expression

    argv = sys.argv[1:] if argv is None else argv
    paths = [a for a in argv if not a.startswith("-")]
    path = Path(paths[0]) if paths else CORPUS
    rows = load_corpus(path)
    got = [program_skeleton(compile_expression(r["expression"])) for r in rows]
    if "-v" in argv or os.environ.get("RECLIP_BENCH_VERBOSE"):
        for row, skeleton in zip(rows, got):
            if skeleton != row["structure"]:
                print(f"  {row['expression']}\n    label: {row['structure']}\n    got:   {skeleton}")
    s = score(rows, got)
    print(f"structure corpus: {s['n']} expressions from {path.name}")
    print(f"operations: precision {s['precision']:.3f} ({s['matched']}/{s['produced']}), "
          f"recall {s['recall']:.3f} ({s['matched']}/{s['labelled']})")
    first = score([dict(r, structure=r.get("first_label", r["structure"])) for r in rows], got)
    relabelled = sum("first_label" in r for r in rows)
    print(f"on the labels as first written ({relabelled} referent heads since relabelled, see "
          f"docs/structure_labels.md): exact {first['exact']:.1%}, precision {first['precision']:.3f}, "
          f"recall {first['recall']:.3f}")
    print(f"exact structure: {round(s['exact'] * s['n'])}/{s['n']} = {s['exact']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
