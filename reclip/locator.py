"""The Locator: expression or program + image + proposals -> Result."""

from __future__ import annotations

import os
from typing import Any, Iterable, Sequence

from PIL import Image

from grammar import Node, Program, compile_expression, parse_program
from interpreter import ProposalGraph, Result, Scorer, execute_many, find_texts
from primitives import REGISTRY, ReclipError, Registry
from reclip.files import load_image
from reclip.proposals import ProposalSource, proposal_source

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
        """A Locator on the engines ``models`` name: CLIP specs (``"synthetic"``, ``"ViT-B-32:openai"``,
        a checkpoint path...), detectors (``"owlv2:DIR"``, ``"grounding-dino:DIR"``), each with an
        optional ``?weight=W`` in an ensemble (see ``reclip.engines``)."""
        from reclip.engines import build_scorer

        spacy_model = scorer_options.pop("spacy_model", None)
        return cls(build_scorer(models, **scorer_options), spacy_model=spacy_model)

    def compile(self, expression: str) -> Program:
        return compile_expression(expression, spacy_model=self.spacy_model, registry=self.registry)

    def locate(self, image: ImageLike, expression: str, proposals: Iterable[Any] | str) -> Result:
        """Compile ``expression`` and run its program; ``proposals`` may be a source spec
        (``"maskrcnn"``, ``"sam:CKPT"``, a file path)."""
        return self.run(self.compile(expression), image, proposals)

    def run(self, program: Program | Node | str, image: ImageLike, proposals: Iterable[Any]) -> Result:
        """Run a program (an AST, or program text as a user edited it)."""
        return self.run_many([program], image, proposals)[0]

    def locate_many(self, image: ImageLike, expressions: Sequence[str],
                    proposals: Iterable[Any]) -> list[Result]:
        """Several expressions over one image and one set of proposals, results in order:
        one scorer call for all their find texts, relations computed once."""
        return self.run_many([self.compile(e) for e in expressions], image, proposals)

    def run_many(self, programs: Sequence[Program | Node | str], image: ImageLike,
                 proposals: Iterable[Any]) -> list[Result]:
        """Several programs over one image and one proposal graph, results in order.

        ``proposals`` is a list (boxes, dicts, Proposal objects), a ProposalGraph, a proposal
        source or its spec (``"maskrcnn"``, ``"sam:CKPT"``, a file path: see reclip.proposals); a
        source that ``needs_texts`` (``grounding-dino``) proposes for the programs' find texts."""
        programs = [parse_program(p, self.registry) if isinstance(p, str) else p for p in programs]
        image = load_image(image)
        if isinstance(proposals, (str, os.PathLike)):
            proposals = proposal_source(proposals)
        if isinstance(proposals, ProposalSource):
            if getattr(proposals, "needs_texts", False):  # a text-conditioned detector proposes for the finds
                proposals = proposals.for_texts(find_texts(*(p.root if isinstance(p, Program) else p
                                                             for p in programs)))
            proposals = proposals(image)
        graph = proposals if isinstance(proposals, ProposalGraph) else ProposalGraph(proposals, self.registry)
        return execute_many(programs, graph, self.scorer, image)
