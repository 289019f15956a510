"""reclip: neuro-symbolic, zero-shot referring-expression reasoning (ReCLIP and beyond)."""

from reclip._interrupt import exit_on_interrupt_while_importing

exit_on_interrupt_while_importing()   # first: the imports below take seconds (torch, spaCy)

from grammar import (
    And, CompileError, Find, Node, Ordinal, Program, ProgramSyntaxError, Relate, Superlative,
    compile_expression, parse_program,
)
from interpreter import Proposal, ProposalGraph, Result, Scorer, ScorerError, Trace, execute
from primitives import REGISTRY, BoxError, ReclipError, RegistryError, relation, superlative, ternary
from reclip.locator import Locator


def __getattr__(name: str):
    # ClipScorer pulls in torch and open_clip; import it only when asked for, so that
    # `import reclip` stays light for programs that bring their own scorer.
    if name == "ClipScorer":
        from reclip.scoring import ClipScorer

        return ClipScorer
    raise AttributeError(f"module 'reclip' has no attribute {name!r}")


__all__ = [
    "And", "ClipScorer", "BoxError", "CompileError", "Find", "Locator", "Node", "Ordinal", "Program",
    "ProgramSyntaxError", "Proposal", "ProposalGraph", "REGISTRY", "ReclipError", "RegistryError",
    "Relate", "Result", "Scorer", "ScorerError", "Superlative", "Trace", "compile_expression",
    "execute", "parse_program", "relation", "superlative", "ternary",
]
