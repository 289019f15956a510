"""grammar/forms.py: a program's representations, each defined there and nowhere else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grammar import compile_expression, parse_program
from grammar.ast import Relate
from grammar.forms import (
    STRUCTURE_KINDS, node_json, node_key, node_label, pretty_program, program_json, structure_kind,
)

from test_architecture import sources  # noqa: E402

_ROOT = Path(__file__).resolve().parents[2]
_FORMS = ("node_label", "node_key", "node_name", "structure_kind", "node_json", "program_json", "pretty_program")


def test_every_representation_is_defined_only_in_grammar_forms():
    defined = {}
    for path in sources():     # the packages' own files (no build/ copy, no .venv)
        for name in re.findall(r"^def (\w+)\(", path.read_text(encoding="utf-8"), re.M):
            if name in _FORMS:
                defined.setdefault(name, []).append(str(path.relative_to(_ROOT)))
    assert defined == {name: ["grammar/forms.py"] for name in _FORMS if name != "node_name"}


@pytest.mark.parametrize("text, kind", [
    ("the red cup", "none"), ("the cup left of the plate", "relation"), ("the cup on the left", "superlative"),
    ("the second cup from the left", "ordinal"), ("the dog between the man and the car", "between"),
    ("the second cup from the left next to the red plate", "nested"),
])
def test_structure_kind(text, kind):
    assert structure_kind(compile_expression(text).root) == kind
    assert kind in STRUCTURE_KINDS


def test_labels_keys_json_and_pretty_text_of_one_program():
    program = compile_expression("the second cup from the left next to the red plate")
    relate = next(n for n in program.nodes() if isinstance(n, Relate))
    assert (node_label(relate), node_label(relate, elided=True), node_key(relate)) == \
        ("relate(near)", "relate(…, near, …)", "relate:near")
    ordinal = program.root.args[1]
    assert (node_label(ordinal), node_key(ordinal)) == ("ordinal(2, leftmost)", "ordinal:leftmost")
    assert (node_label(program.root), node_key(program.root)) == ("and", "and")
    tree = program_json(program)
    assert tree["program"] == str(program) and tree["target"] == 'find("cup", head="cup")'
    assert tree["tree"]["args"][1] == {"type": "ordinal", "n": 2, "kind": "leftmost", "arg": node_json(ordinal.arg)}
    pretty = pretty_program(program, width=40)
    assert "\n" in pretty and parse_program(pretty) == program
