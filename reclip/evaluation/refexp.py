"""Kept so that ``from reclip.evaluation.refexp import run_evaluation`` still works: every dataset
format now runs through ``reclip.evaluation.run`` (this module only re-exports it)."""

from reclip.evaluation.run import run_evaluation

__all__ = ["run_evaluation"]
