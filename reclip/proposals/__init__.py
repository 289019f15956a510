"""Proposals: files (io), sources chosen by spec strings (detectors, SAM, files, your own),
and their cache. ``proposal_source(spec)`` is the entry point."""

from reclip.proposals import detectors, open_vocab, sam, sam2  # noqa: F401  (register the built-in sources)
from reclip.proposals.cache import CachedSource, ProposalCache
from reclip.proposals.detectors import DEFAULT_DETECTOR, MissingWeightsError
from reclip.proposals.resolve import batch_proposals, proposal_source, proposals_for
from reclip.proposals.sources import (
    PROPOSAL_SOURCES,
    ProposalSource,
    ProposalSourceError,
    build_source,
    parse_source_spec,
    spec_usage,
)
from reclip.proposals.facts import SourceOption, SourceFacts, declare, facts_of

__all__ = [
    "PROPOSAL_SOURCES", "CachedSource", "DEFAULT_DETECTOR", "MissingWeightsError", "ProposalCache",
    "ProposalSource", "ProposalSourceError", "batch_proposals", "build_source",
    "parse_source_spec", "proposal_source", "proposals_for", "spec_usage", "SourceOption", "SourceFacts", "declare",
    "facts_of",
]
