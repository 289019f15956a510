"""Program x ProposalGraph x Scorer -> Result with a Trace."""

from interpreter.execute import Result, execute, find_texts, softmax
from interpreter.graph import ProposalGraph
from interpreter.proposals import FindText, Proposal, Scorer, ScorerError, as_proposals
from interpreter.trace import Trace, TraceStep

__all__ = [
    "FindText", "Proposal", "ProposalGraph", "Result", "Scorer", "ScorerError", "Trace",
    "TraceStep", "as_proposals", "execute", "find_texts", "softmax",
]
