"""Errors of the grammar package: one type for program text, one for expressions."""

from __future__ import annotations

from lark.exceptions import UnexpectedInput

from foundation.errors import ReclipError


def caret_context(text: str, pos: int, span: int = 40) -> str:
    """The line around ``pos`` with a caret under it, exactly as Lark prints its own."""
    marker = UnexpectedInput()
    marker.pos_in_stream = pos
    return marker.get_context(text, span)


def line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset ``pos``."""
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, column


class ProgramSyntaxError(ReclipError):
    """Program text that does not parse, with where and, for names, what was meant."""

    def __init__(self, problem: str, text: str, pos: int, suggestions: list[str] | None = None):
        self.problem = problem
        self.line, self.column = line_column(text, pos)
        self.pos = pos
        self.context = caret_context(text, pos)
        self.suggestions = list(suggestions or [])
        hint = f"\ndid you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"{problem} at line {self.line}, column {self.column}:\n{self.context.rstrip()}{hint}"
        )


class ProgramTooDeep(ReclipError):
    """A program nested deeper than ``grammar.ast.MAX_DEPTH`` nodes (printing it would overflow)."""


class CompileError(ReclipError):
    """An expression the compiler refuses (empty, or not text)."""
