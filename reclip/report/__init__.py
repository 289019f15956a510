"""Reports: the diagnosis of a result, the HTML trace page, the failure gallery, PNG drawings
and ``reclip compile --explain``. The page's CSS and JS are files under ``assets/``."""

from reclip.report.diagnose import Diagnosis, diagnose, gold_proposal
from reclip.report.draw import draw_result
from reclip.report.gallery import Gallery
from reclip.report.trace import trace_html, write_trace_html

__all__ = ["Diagnosis", "Gallery", "diagnose", "draw_result", "gold_proposal", "trace_html", "write_trace_html"]
