"""README's add-a-relation recipe works as written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from reclip import REGISTRY, parse_program

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_relation_recipe_registers_a_working_relation():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    recipe = next(b for b in blocks if "@relation(" in b)
    try:
        exec(compile(recipe, "README.md", "exec"), {})
        m = REGISTRY.matrix("touching", np.array([[0, 0, 10, 10], [10, 0, 20, 10], [30, 0, 40, 10.0]]))
        assert m.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
        assert parse_program('relate(find("cup"), touching, find("plate"))').root.relation == "touching"
    finally:
        if "touching" in REGISTRY:
            REGISTRY.unregister("touching")
