"""Markdown tables of evaluation figures."""

from __future__ import annotations

from typing import Sequence


def percent(value: float, bold: bool = False) -> str:
    """``value`` (a share in [0, 1]) as "12.3%", in bold when asked."""
    text = f"{100 * value:.1f}%"
    return f"**{text}**" if bold else text


def markdown_table(header: Sequence[str], align: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table; ``align`` holds "---" or "---:" per column."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
