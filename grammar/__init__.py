"""Text -> Program: the DSL's AST, printer and parser, and the expression compiler."""

from grammar.ast import NODE_TYPES, And, Find, Node, Ordinal, Program, Relate, Superlative, target_of, walk
from grammar.errors import CompileError, ProgramSyntaxError, ProgramTooDeep
from grammar.parser import parse_program
from grammar.expression import compile_expression

__all__ = [
    "NODE_TYPES", "And", "CompileError", "Find", "Node", "Ordinal", "Program",
    "ProgramSyntaxError", "ProgramTooDeep", "Relate", "Superlative", "compile_expression", "parse_program", "target_of", "walk",
]
