"""README's compiler table says what each expression compiles to: every row written out in
full (no "…") is checked against the compiler."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grammar import compile_expression

README = Path(__file__).resolve().parents[1] / "README.md"
_ROW = re.compile(r"^\| `([^`]+)` \| (?:\*\([^)]*\)\* )?`([^`]+)`")


def _table_rows() -> list[tuple[str, str]]:
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index("| expression | structure (inside `and(find(whole), …)`) |")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        match = _ROW.match(line)
        if match and "…" not in match.group(2):
            rows.append((match.group(1), match.group(2)))
    return rows


ROWS = _table_rows()


def test_the_table_has_rows_written_out_in_full():
    assert len(ROWS) >= 15


@pytest.mark.parametrize("expression, structure", ROWS, ids=[e[:40] for e, _ in ROWS])
def test_readme_compiler_table_row(expression, structure):
    program = str(compile_expression(expression))
    if structure.startswith("find("):  # a row with no structure gives the whole find
        assert program == structure
    else:
        assert program == f'and(find("{expression}"), {structure})'
