"""``--gallery DIR``: an observer of the loop (the evaluator protocol) that writes every wrong
answer of the main system, with its Result and trace, into a gallery grouped by kind."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any, Sequence

from reclip.report import Gallery


class FailureGallery:
    """Fed the rows and their outputs ((Result, image, record), or None for a resumed row)."""

    def __init__(self, folder: str | os.PathLike, run_options: Sequence[str] = ()) -> None:
        self.board = Gallery(folder, run_options)
        self.totals: Counter[str] = Counter()

    def reset(self) -> None:
        self.totals = Counter()

    def process(self, rows: Sequence[dict[str, Any]], outputs: Sequence[Any] | None = None) -> None:
        for row, output in zip(rows, outputs or [None] * len(rows), strict=True):
            self.totals[row["kind"]] += 1
            if output is not None and output[0] is not None and not row["correct"]:
                result, image, record = output
                self.board.add_failure(row["kind"], result, image, row["expression"],
                                       gold_box=list(record.gold_box))

    def evaluate(self) -> dict[str, Any]:
        """Writes the gallery; its index's path."""
        return {"failure gallery": str(self.board.write(totals=dict(self.totals)))}
