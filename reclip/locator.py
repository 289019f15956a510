"""The Locator: expression or program + image + proposals -> Result."""

from __future__ import annotations

import os
from typing import Any, Iterable

from PIL import Image

from grammar import Node, Program, compile_expression, parse_program
from interpreter import ProposalGraph, Result, Scorer, execute
from primitives import REGISTRY, ReclipError, Registry
from reclip.files import load_image

ImageLike = Image.Image | str | os.PathLike


class Locator:
    """Compile referring expressions and run them over CLIP-scored proposals.

    ``scorer`` is anything with ``score(image, proposals, texts) -> logits``.
    """

    def __init__(self, scorer: Scorer, *, registry: Registry = REGISTRY,
                 spacy_model: str | None = None):
        if not callable(getattr(scorer, "score", None)):
            raise ReclipError(
                f"scorer must have a score(image, proposals, texts) method; got {type(scorer).__name__}"
            )
        self.scorer = scorer
        self.registry = registry
        self.spacy_model = spacy_model

    @classmethod
    def from_pretrained(cls, models: str | Iterable[str] | None = None, **scorer_options: Any) -> "Locator":
        """A Locator on a ClipScorer: ``"synthetic"``, ``"ViT-B-32:openai"``, a checkpoint path..."""
        from reclip.scoring import ClipScorer

        spacy_model = scorer_options.pop("spacy_model", None)
        return cls(ClipScorer.from_pretrained(models, **scorer_options), spacy_model=spacy_model)

    def compile(self, expression: str) -> Program:
        return compile_expression(expression, spacy_model=self.spacy_model, registry=self.registry)

    def locate(self, image: ImageLike, expression: str, proposals: Iterable[Any]) -> Result:
        """Compile ``expression`` and run its program."""
        return self.run(self.compile(expression), image, proposals)

    def run(self, program: Program | Node | str, image: ImageLike, proposals: Iterable[Any]) -> Result:
        """Run a program (an AST, or program text as a user edited it)."""
        if isinstance(program, str):
            program = parse_program(program, self.registry)
        graph = proposals if isinstance(proposals, ProposalGraph) else ProposalGraph(proposals, self.registry)
        return execute(program, graph, self.scorer, load_image(image))
