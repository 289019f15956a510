"""Evaluation, the same for every dataset format (detectron2's data/evaluation design):

- ``run.run_evaluation(config, out)``: a registered format's records (``reclip.datasets.FORMATS``)
  -> ``loop.run_loop`` (resume, progress, skip-and-record, shards, the folder lock) -> rows;
- ``systems``: how one image's records are answered (the main system and a format's companions);
- ``evaluators``: metrics over the rows (reset / process / evaluate): accuracy, mIoU/oIoU, by kind,
  failure causes, skips; a format adds its own (the synthetic benchmark's per-kind table);
- ``summary``: a run's figures from its files alone; ``merge``, ``compare``, ``ray_runner``.
"""

from reclip.evaluation.metrics import GroupedShares
from reclip.evaluation.tables import markdown_table, percent
from reclip.evaluation.config import EvalConfig, parse_shard
from reclip.evaluation.evaluators import Evaluator, run_evaluators, standard_evaluators
from reclip.evaluation.loop import read_rows, run_loop
from reclip.evaluation.summary import summarize, write_summary
from reclip.evaluation.run import NothingToScore, run_evaluation

__all__ = [
    "EvalConfig", "Evaluator", "GroupedShares", "NothingToScore", "markdown_table", "parse_shard", "percent",
    "read_rows", "run_evaluation", "run_evaluators", "run_loop", "standard_evaluators", "summarize",
    "write_summary",
]
