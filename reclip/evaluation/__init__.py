"""Evaluation, the same for every dataset: the loop (resume, progress, bad records), metrics
(shares by group) and tables.

A dataset's own part (how to read its records, what a row holds, its tally) lives with
the dataset: ``reclip.synthetic.evaluate`` for the synthetic benchmark.
"""

from reclip.evaluation.metrics import GroupedShares
from reclip.evaluation.loop import RESULTS, limited, read_rows, run_records
from reclip.evaluation.tables import markdown_table, percent

__all__ = ["GroupedShares", "RESULTS", "limited", "markdown_table", "percent", "read_rows", "run_records"]
