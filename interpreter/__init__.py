"""Program x ProposalGraph x Scorer -> Result with a Trace."""

from interpreter.execute import Result, execute, execute_many, find_texts, softmax
from interpreter.graph import ProposalGraph
from interpreter.proposals import FindText, Proposal, Scorer, ScorerError, as_proposals, check_masks
from interpreter.trace import Trace, TraceStep

__all__ = [
    "FindText", "Proposal", "ProposalGraph", "Result", "Scorer", "ScorerError", "Trace",
    "TraceStep", "as_proposals", "check_masks", "execute", "execute_many", "find_texts", "softmax",
]
