"""The interactive workbench (``reclip app``): type an expression, see and edit its program,
rerun it, watch each step on the image, mark the right answer, keep the fix as a case.

``workbench`` holds the callbacks and ``views`` what they show (neither imports Gradio);
``ui`` builds the Gradio page and serves it offline; ``cases`` saves and replays regression
cases (``reclip check``). Gradio is imported only when a page is built.
"""

from reclip.app.cases import Case, CaseCheck, check_cases, read_cases, save_case
from reclip.app.views import WorkbenchScene
from reclip.app.workbench import Workbench

__all__ = ["Case", "CaseCheck", "WorkbenchScene", "Workbench", "check_cases", "read_cases", "save_case"]
