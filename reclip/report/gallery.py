"""The failure gallery: one trace page per failure and an index grouped by expression kind."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

from PIL import Image

from grammar.forms import pretty_program
from interpreter import Result
from reclip.files import load_image, make_folder, save_image, write_text
from reclip.proposals.io import write_proposals
from reclip.report.diagnose import diagnose, salient
from reclip.report.draw import draw_result
from reclip.report.html import escape as _e, num as _num, page
from reclip.report.links import app_url
from reclip.report.trace import write_trace_html


# The ``reclip run`` options that ``reclip app`` takes too (the rest are run's own).
APP_OPTIONS = ("--model", "--method", "--device")


@dataclass
class _Failure:
    expression_kind: str
    expression: str
    page: str
    answer: int
    gold: int | None
    headline: str
    program: str
    thumbnail: str                # file name of the card's picture, next to the page
    app_url: str = ""             # opens this record in the workbench (``reclip app``)
    app_command: str = ""         # the command that starts the workbench with the evaluation's model


class Gallery:
    """Failures of an evaluation: one trace page each, and an index grouped by expression kind.

    Beside each page go the image, the proposals and the program text, so the page's
    ``reclip run`` command reproduces the failure, and an edited program can be tried.
    """

    def __init__(self, out_dir: str | os.PathLike, run_options: Sequence[str] = ()):
        """``run_options``: the ``reclip run`` options (``--model``, ...) that reproduce the
        evaluation's scorer, for the command each trace page shows."""
        self.out_dir = Path(out_dir)
        self.run_options = list(run_options)
        make_folder(self.out_dir, "gallery folder")
        self.failures: list[_Failure] = []

    def __len__(self) -> int:
        return len(self.failures)

    def add_failure(self, expression_kind: str, result: Result, image: Image.Image | str | os.PathLike,
                    expression: str, gold_box: Sequence[float] | None = None) -> Path:
        """Write this failure's trace page into the gallery folder and remember it."""
        img = load_image(image)
        stem = f"{len(self.failures):04d}-{_slug(expression_kind)}"
        rerun = self._write_inputs(stem, result, img, expression, gold_box)
        path = write_trace_html(result, img, self.out_dir / f"{stem}.html", expression=expression,
                                gold_box=gold_box, rerun=rerun)
        save_image(_thumbnail(img, result, gold_box), self.out_dir / f"{stem}.jpg", format="JPEG", quality=85)
        diag = diagnose(result, gold_box)
        url = app_url((self.out_dir / f"{stem}.png").resolve(), (self.out_dir / f"{stem}.proposals.json").resolve(),
                      expression, gold_box)
        self.failures.append(_Failure(expression_kind, expression, f"{stem}.html", result.index,
                                      diag.gold_index, diag.headline, str(result.program), f"{stem}.jpg",
                                      url, self._app_command()))
        return path

    def _write_inputs(self, stem: str, result: Result, img: Image.Image, expression: str,
                      gold_box: Sequence[float] | None) -> str:
        """Save what ``reclip run`` needs to reproduce the failure; the command to do so."""
        save_image(img, self.out_dir / f"{stem}.png")
        write_proposals(self.out_dir / f"{stem}.proposals.json", result.graph.proposals)
        write_text(self.out_dir / f"{stem}.program.txt",
                   f"# {expression}\n{pretty_program(result.program)}\n")
        gold = " --gold " + " ".join(_num(v) for v in gold_box) if gold_box is not None else ""
        options = "".join(" " + shlex.quote(o) for o in self.run_options)
        note = "" if self.run_options else \
            "\n# add the --model / --method options the evaluation used, if not the defaults"
        return (f"cd {shlex.quote(str(self.out_dir.resolve()))}\n"
                f"reclip run {stem}.program.txt {stem}.png --proposals {stem}.proposals.json{gold} "
                f"--trace {stem}.rerun.html{options}{note}")

    def _app_command(self) -> str:
        """``reclip app`` with the evaluation's model options (those ``reclip app`` takes)."""
        keep, words = [], list(self.run_options)
        for k, word in enumerate(words):
            if word in APP_OPTIONS and k + 1 < len(words):
                keep += [word, words[k + 1]]
        return " ".join(["reclip", "app", *(shlex.quote(w) for w in keep)])

    def write(self, totals: Mapping[str, int] | None = None, title: str = "reclip failures") -> Path:
        """Write index.html; ``totals`` (expression kind -> expressions evaluated) adds failure rates."""
        groups: dict[str, list[_Failure]] = {}
        for f in self.failures:
            groups.setdefault(f.expression_kind, []).append(f)
        summary = []
        for name in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            of = f" of {totals[name]}" if totals and name in totals else ""
            summary.append(f'<a class="kind-link" href="#kind-{_slug(name)}">{_e(name)} '
                           f'<b>{len(groups[name])}</b>{of}</a>')
        sections = []
        for name in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            cards = "".join(_card(f) for f in groups[name])
            sections.append(f'<section class="kind-group" id="kind-{_slug(name)}" data-kind="{_e(name)}">'
                            f"<h2>{_e(name)} <span class=\"count\">{len(groups[name])}</span></h2>"
                            f'<div class="cards">{cards}</div></section>')
        n = len(self.failures)
        if n:
            headline = f'{n} failure{"s" if n != 1 else ""} · by expression kind: {" ".join(summary)}'
        else:
            evaluated = f" of the {sum(totals.values())} expressions evaluated" if totals else ""
            headline = f"No failures: the full system answered every one{evaluated} right."
        empty = "" if n else '<p class="empty">Nothing to show: no expression was answered wrong.</p>'
        body = (f'<header class="page-head"><h1>{_e(title)}</h1>'
                f'<p class="summary">{_e(headline) if not n else headline}</p></header>'
                f'<main class="gallery">{empty}{"".join(sections)}</main>')
        return write_text(self.out_dir / "index.html", page(title, body))


def _card(f: _Failure) -> str:
    gold = f"gold #{f.gold}" if f.gold is not None else "gold not among proposals"
    app = (f'<p class="open-app"><a class="app-link" href="{_e(f.app_url)}">open in the workbench</a> '
           f'(start it first: <code>{_e(f.app_command)}</code>)</p>')
    return (f'<div class="card-box"><a class="card failure" href="{_e(f.page)}">'
            f'<img src="{_e(f.thumbnail)}" alt="proposals, answer and gold" loading="lazy">'
            f'<span class="expr">“{_e(f.expression)}”</span>'
            f'<span class="meta"><span class="answer-chip">answer #{f.answer}</span> '
            f'<span class="gold-chip">{gold}</span></span>'
            f'<span class="why">{_e(f.headline)}</span>'
            f'<code class="mono">{_e(f.program)}</code></a>{app}</div>')


def _thumbnail(img: Image.Image, result: Result, gold_box) -> Image.Image:
    """The drawing (numbers, answer, gold) at card size: the photo is shrunk before drawing
    so the numbers stay readable."""
    scale = min(1.0, 320 / max(img.size))
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    boxes = [[v * scale for v in p.box] for p in result.graph.proposals]
    gold = None if gold_box is None else [float(v) * scale for v in gold_box]
    return draw_result(small, boxes, chosen=result.index, gold_box=gold,
                       labelled=salient(result, diagnose(result, gold_box).gold_index))


def _slug(text: str) -> str:
    s = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return s or "other"

