"""Evaluation, the same for every dataset: the loop (resume, progress, bad records), metrics
(shares by group) and tables.

A dataset's own part (how to read its records, what a row holds, its tally) lives with
the dataset: ``reclip.synthetic.evaluate`` for the synthetic benchmark. Referring-expression
datasets (``reclip.datasets``) run through ``refexp.run_evaluation``; ``summary.summarize``
computes a run's figures from its files alone.
"""

from reclip.evaluation.metrics import GroupedShares
from reclip.evaluation.loop import RESULTS, limited, read_rows, run_records
from reclip.evaluation.tables import markdown_table, percent
from reclip.evaluation.config import EvalConfig, parse_shard
from reclip.evaluation.summary import summarize, write_summary
from reclip.evaluation.refexp import run_evaluation

__all__ = [
    "EvalConfig", "GroupedShares", "RESULTS", "limited", "markdown_table", "parse_shard", "percent",
    "read_rows", "run_evaluation", "run_records", "summarize", "write_summary",
]
