"""The visual trace: one self-contained HTML file per result.

A trace page answers "why this box?" at a glance: the image with every proposal
numbered, the program as a tree whose rows say what each node preferred and how much
probability the answer and the gold proposal kept there, a diagnosis naming the node
that removed the right answer (``reclip.report.diagnose``), and, for the selected node,
its distribution as bars (the boxes tinted by it) and its relation matrix as a heatmap.
Everything (image, CSS, JS, data) is inline: the file can be mailed or attached to an issue.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from interpreter import Result
from interpreter.trace import TraceStep
from primitives import validate_boxes
from reclip.files import load_image, write_text
from reclip.report.diagnose import (
    TOP_PER_NODE, Diagnosis, diagnose, ordinal_word, rank, referent_chain, salient,
)
from reclip.report.html import asset, escape as _e, json_for_script, num as _num, page, png_data_uri

# Proposals kept in a matrix heatmap; beyond this the most probable ones are shown.
MATRIX_MAX = 24
# Rows of a node's probability table; beyond this the most probable ones (and the answer and gold).
BARS_MAX = 40
# Beyond this many proposals the page stores each distribution sparsely: the entries of at
# least SPARSE_MIN (and the labelled proposals), rounded to 4 digits.
DENSE_MAX = 60
SPARSE_MIN = 1e-4


def write_trace_html(result: Result, image: Image.Image | str | os.PathLike, path: str | os.PathLike, *,
                     expression: str | None = None, gold_box: Sequence[float] | None = None,
                     title: str | None = None, rerun: str | None = None) -> Path:
    """Write one self-contained HTML page explaining ``result``; returns its path.

    ``rerun``: a shell command that reproduces the result, shown on the page.
    """
    html = trace_html(result, image, expression=expression, gold_box=gold_box, title=title, rerun=rerun)
    return write_text(Path(path), html)


def trace_html(result: Result, image: Image.Image | str | os.PathLike, *, expression: str | None = None,
               gold_box: Sequence[float] | None = None, title: str | None = None,
               rerun: str | None = None) -> str:
    """The trace page as a string (see ``write_trace_html``)."""
    img = load_image(image)
    expression = expression if expression is not None else result.program.source
    diag = diagnose(result, gold_box)
    steps = result.trace.steps
    root = steps[-1]
    heading = title or (f"“{expression}”" if expression else "reclip trace")
    labelled = salient(result, diag.gold_index)
    data = {
        "answer": result.index,
        "gold": diag.gold_index,
        "n": len(result.graph.proposals),
        "steps": [{"step": s.step, "kind": s.kind, "label": s.label,
                   "distribution": _stored(s.distribution, labelled)} for s in steps],
    }
    body = "\n".join([
        '<header class="page-head">',
        f"<h1>{_e(heading)}</h1>",
        f'<p class="expression">“{_e(expression)}”</p>' if title and expression else "",
        _summary(result, diag),
        _diagnosis_block(diag),
        f'<pre class="program-text" id="program-text">{_e(str(result.program))}</pre>',
        _notes(result),
        _rerun_block(rerun),
        "</header>",
        '<main class="layout">',
        '<section class="image-pane" aria-label="image and proposals">',
        _scene_svg(img, result, diag, gold_box, root, labelled),
        _legend(root, len(labelled), len(result.graph.proposals)),
        "</section>",
        '<section class="side-pane">',
        '<h2>Program <span class="hint">click a node: the boxes show its probabilities; ↑/↓ move</span></h2>',
        f'<ul class="tree" id="program-tree">{_tree(steps, root, result, diag)}</ul>',
        '<div id="details">',
        *(_node_detail(s, steps, result, diag, s is root) for s in steps),
        "</div>",
        "</section>",
        "</main>",
        f'<script type="application/json" id="trace-data">{json_for_script(data)}</script>',
        f"<script>\n{asset('trace.js')}</script>",
    ])
    return page(heading, body)


def _stored(dist: np.ndarray, labelled: set[int]) -> list:
    """A distribution for the page's script: dense (6 digits) for up to DENSE_MAX proposals,
    else sparse ``[[index, p], ...]`` pairs (4 digits), so the page's size stays bounded."""
    if len(dist) <= DENSE_MAX:
        return [round(float(v), 6) for v in dist]
    keep = sorted(set(np.flatnonzero(dist >= SPARSE_MIN).tolist()) | labelled)
    return [[i, round(float(dist[i]), 4)] for i in keep]


def _summary(result: Result, diag: Diagnosis) -> str:
    box = ", ".join(_num(v) for v in result.box)
    parts = [f'<span class="answer-chip">answer #{result.index}</span> '
             f'<span class="mono">[{box}]</span> p {result.probability:.3f}']
    if diag.correct is not None:
        verdict = "correct" if diag.correct else "wrong"
        gold = f"gold #{diag.gold_index}" if diag.gold_index is not None else "gold not among the proposals"
        parts.append(f'<span class="verdict {verdict}" id="verdict">{verdict}</span> '
                     f'<span class="gold-chip">{gold}</span> IoU with gold {diag.answer_iou:.2f}')
    n = len(result.graph.proposals)
    parts.append(f"{n} proposal{'s' if n != 1 else ''}")
    if result.trace.fallbacks:
        k = len(result.trace.fallbacks)
        parts.append(f'<span class="fallback-chip">{k} fallback{"s" if k != 1 else ""}</span>')
    return '<p class="summary">' + " · ".join(parts) + "</p>"


def _diagnosis_block(diag: Diagnosis) -> str:
    if not diag.sentences:
        return ""
    items = "".join(f"<li>{_e(s)}</li>" for s in diag.sentences)
    cls = "ok" if diag.correct else "bad"
    return f'<ul class="diagnosis {cls}" id="diagnosis">{items}</ul>'


def _rerun_block(rerun: str | None) -> str:
    if not rerun:
        return ""
    return ('<details class="rerun"><summary>edit the program and run it again</summary>'
            f'<pre class="mono" id="rerun">{_e(rerun)}</pre></details>')


def _notes(result: Result) -> str:
    notes = getattr(result.program, "notes", ()) or ()
    if not notes:
        return ""
    return '<ul class="notes">' + "".join(f"<li>compiler: {_e(n)}</li>" for n in notes) + "</ul>"


def _scene_svg(img: Image.Image, result: Result, diag: Diagnosis, gold_box, root: TraceStep,
               labelled: set[int]) -> str:
    """The image and every proposal; only the ``labelled`` ones get a number tag, the others
    are drawn faintly (the page stays readable with a thousand proposals)."""
    w, h = img.size
    font = max(w, h) * 0.028   # image units; the SVG is shown about 600 px wide
    stroke = max(1.0, max(w, h) / 400)
    dist = root.distribution
    peak = float(dist.max()) or 1.0
    out = [f'<svg id="scene" viewBox="0 0 {w} {h}" role="img" '
           f'style="--stroke:{stroke:.2f}px" preserveAspectRatio="xMidYMid meet">',
           f'<image href="{png_data_uri(img)}" x="0" y="0" width="{w}" height="{h}"/>']
    order = sorted(range(len(result.graph.proposals)),
                   key=lambda i: -(result.graph.proposals[i].box[2] - result.graph.proposals[i].box[0])
                   * (result.graph.proposals[i].box[3] - result.graph.proposals[i].box[1]))
    for i in order:  # big boxes first, so small ones stay clickable on top
        x0, y0, x1, y1 = result.graph.proposals[i].box
        label = result.graph.proposals[i].label
        classes = ["proposal"] + (["answer"] if i == result.index else []) + \
            (["gold"] if i == diag.gold_index else []) + ([] if i in labelled else ["faint"])
        tip = f"#{i}" + (f" {label}" if label else "") + f" [{_num(x0)}, {_num(y0)}, {_num(x1)}, {_num(y1)}]"
        tag = "" if i not in labelled else (
            f'<g class="tag" transform="translate({_num(x0)},{_num(y0)})">'
            f'<rect class="tag-bg" width="{font * (0.75 + 0.62 * len(str(i))):.1f}" height="{font * 1.25:.1f}"/>'
            f'<text x="{font * 0.35:.1f}" y="{font * 0.98:.1f}" font-size="{font:.1f}">{i}</text></g>')
        out.append(
            f'<g class="{" ".join(classes)}" data-index="{i}">'
            f'<rect class="proposal-box" data-index="{i}" x="{_num(x0)}" y="{_num(y0)}" '
            f'width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" '
            f'style="fill-opacity:{0.6 * dist[i] / peak:.3f}"><title>{_e(tip)} p {dist[i]:.3f}</title></rect>'
            f'{tag}</g>'
        )
    if gold_box is not None:
        gx0, gy0, gx1, gy1 = (float(v) for v in validate_boxes(gold_box, "gold box")[0])
        out.append(f'<rect class="gold-box" id="gold-box" x="{_num(gx0)}" y="{_num(gy0)}" '
                   f'width="{_num(gx1 - gx0)}" height="{_num(gy1 - gy0)}"><title>gold box</title></rect>')
    out.append("</svg>")
    return "\n".join(out)


def _legend(root: TraceStep, labelled: int, n: int) -> str:
    faint = "" if labelled >= n else (
        f' · numbered: the answer, the gold and each node\'s top {TOP_PER_NODE} ({labelled} of {n}); '
        'the others are drawn faintly (hover for their number)')
    return ('<p class="legend"><span class="key answer-key"></span> answer '
            '<span class="key gold-key"></span> gold '
            '<span class="key tint-key"></span> probability at '
            f'<b id="tint-label" class="mono">{_e(root.label)}</b>{_e(faint)}</p>')


def _tree(steps: list[TraceStep], step: TraceStep, result: Result, diag: Diagnosis,
          chain: set[int] | None = None) -> str:
    chain = referent_chain(steps) if chain is None else chain
    children = "".join(_tree(steps, steps[i], result, diag, chain) for i in step.inputs)
    sub = f"<ul>{children}</ul>" if children else ""
    return f"<li>{_tree_node(step, result, diag, step.step in chain)}{sub}</li>"


def _tree_node(s: TraceStep, result: Result, diag: Diagnosis, on_referent: bool) -> str:
    """One node: kind, label, a sparkline, its top proposal and, where the node is about
    the referent (not a landmark), how much the answer and the gold keep here."""
    dist = s.distribution
    top = int(np.argmax(dist))
    classes = ["tree-node", f"kind-{s.kind}"]
    if s.fallback:
        classes.append("has-fallback")
    if diag.lost_at == s.step:
        classes.append("lost-gold")
    chips = [f'<span class="chip top" title="most probable proposal here">top #{top} {dist[top]:.2f}</span>']
    if on_referent:
        chips.append(f'<span class="chip ans" title="probability of the final answer #{result.index} here">'
                     f'ans {dist[result.index]:.2f}</span>')
    else:
        classes.append("landmark")
        chips.append('<span class="chip" title="this node ranks landmarks, not the referent">landmark</span>')
    if diag.gold_index is not None and on_referent:
        g = diag.gold_index
        chips.append(f'<span class="chip gold" title="probability and rank of the gold #{g} here">'
                     f'gold {dist[g]:.2f} ({ordinal_word(rank(dist, g))})</span>')
    if s.fallback:
        chips.append(f'<span class="chip fallback" title="{_e(s.fallback)}">fallback</span>')
    if diag.lost_at == s.step:
        chips.append('<span class="chip lost" title="the gold proposal was first in this node\'s input '
                     'and is not in its output">lost the gold</span>')
    return (f'<button type="button" class="{" ".join(classes)}" data-step="{s.step}" '
            f'data-kind="{s.kind}" aria-pressed="false">'
            f'<span class="kind">{s.kind}</span> <span class="label mono">{_e(_short_label(s))}</span>'
            f'{_sparkline(dist, result.index, diag.gold_index)}'
            f'<span class="chips">{"".join(chips)}</span></button>')


def _short_label(s: TraceStep) -> str:
    """The node's label without the kind already shown in its badge."""
    label = s.label
    return label[len(s.kind) + 1:-1] if label.startswith(s.kind + "(") else ("" if label == s.kind else label)


def _sparkline(dist: np.ndarray, answer: int, gold: int | None) -> str:
    """A tiny bar per proposal, in index order: the node's distribution at a glance."""
    if len(dist) > 60:
        return ""
    peak = float(dist.max()) or 1.0
    bars = []
    for i, p in enumerate(dist):
        cls = "ans" if i == answer else ("gold" if i == gold else "")
        bars.append(f'<i class="{cls}" style="height:{max(1.0, 100 * p / peak):.0f}%" title="#{i} {p:.3f}"></i>')
    return f'<span class="spark" aria-hidden="true">{"".join(bars)}</span>'


def _node_detail(s: TraceStep, steps: list[TraceStep], result: Result, diag: Diagnosis, selected: bool) -> str:
    hidden = "" if selected else " hidden"
    parts = [f'<section class="node-detail" data-step="{s.step}"{hidden}>',
             f'<h3><span class="kind">{s.kind}</span> step {s.step}</h3>',
             f'<pre class="mono node-program">{_e(str(s.node))}</pre>']
    if s.fallback:
        parts.append(f'<p class="fallback-note">Fallback: {_e(s.fallback)}. Every entry was zero, so this '
                     "node passed its input distribution through.</p>")
    if s.inputs:
        names = ", ".join(f"step {i} {steps[i].label}" for i in s.inputs)
        parts.append(f'<p class="inputs">inputs: {_e(names)}</p>')
    parts.append(_bars(s, result, diag))
    matrix = _matrix_block(s, steps, result, diag)
    if matrix:
        parts.append(matrix)
    parts.append("</section>")
    return "\n".join(parts)


def _bars(s: TraceStep, result: Result, diag: Diagnosis) -> str:
    dist = s.distribution
    peak = float(dist.max()) or 1.0
    rows = []
    order = sorted(range(len(dist)), key=lambda k: (-dist[k], k))
    shown = order[:BARS_MAX] + [i for i in order[BARS_MAX:] if i in (result.index, diag.gold_index)]
    for i in shown:
        marks = ("answer " if i == result.index else "") + ("gold" if i == diag.gold_index else "")
        logit = f'<td class="logit">{s.logits[i]:.2f}</td>' if s.logits is not None else ""
        rows.append(
            f'<tr class="bar-row {marks.strip()}" data-index="{i}"><th>#{i}</th>'
            f'<td class="bar-cell"><div class="bar" style="width:{100 * dist[i] / peak:.1f}%"></div></td>'
            f'<td class="p">{dist[i]:.3f}</td>{logit}<td class="marks">{marks.strip()}</td></tr>'
        )
    head = '<th>logit</th>' if s.logits is not None else ""
    rest = [i for i in order[BARS_MAX:] if i not in shown]
    note = "" if not rest else (f'<p class="bars-note">{len(rest)} less probable proposals not listed '
                                f"(together p {float(dist[rest].sum()):.3f})</p>")
    return note + (f'<table class="bars"><thead><tr><th>#</th><th>probability (sorted)</th><th>p</th>{head}'
            f'<th></th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _matrix_block(s: TraceStep, steps: list[TraceStep], result: Result, diag: Diagnosis) -> str:
    if s.matrix is None:
        return ""
    m = np.asarray(s.matrix, dtype=np.float64)
    name = getattr(s.node, "relation", None) or getattr(s.node, "kind", "")
    if m.ndim == 3:  # ternary: contract the second landmark so the table stays 2-D
        m = np.einsum("ijk,k->ij", m, steps[s.inputs[2]].distribution)
        caption = (f"{name}: M[i, j] = Σ_k {name}(i, j, k) · p(k), k weighted by the second landmark "
                   f"(step {s.inputs[2]})")
    elif s.kind == "relate":
        caption = f"{name}: M[i, j] = degree to which #i is {name} #j"
    else:
        caption = f"{name}: S[i, j] = 1 when #i comes before #j in the {name} order"
    n = m.shape[0]
    rows_by = steps[s.inputs[0]].distribution if s.inputs else s.distribution
    cols_by = steps[s.inputs[1]].distribution if s.kind == "relate" and len(s.inputs) > 1 else rows_by
    rows, cols = _most_probable(rows_by, result, diag), _most_probable(cols_by, result, diag)
    note = "" if n <= MATRIX_MAX else (
        f" (the {len(rows)} most probable rows and columns of {n})")
    head = "".join(f'<th class="{_mark_class(j, result, diag)}">{j}</th>' for j in cols)
    body = []
    for i in rows:
        cells = "".join(
            f'<td style="background:rgba(28,126,214,{min(1.0, max(0.0, m[i, j])):.2f})" '
            f'title="#{i}, #{j}: {m[i, j]:.3f}">{_cell(m[i, j])}</td>' for j in cols)
        body.append(f'<tr><th class="{_mark_class(i, result, diag)}">{i}</th>{cells}</tr>')
    return (f'<div class="matrix-block"><p class="matrix-caption">{_e(caption)}{_e(note)}; rows i, '
            f'columns j</p><table class="matrix" data-step="{s.step}"><thead><tr><th>i \\ j</th>{head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def _most_probable(dist: np.ndarray, result: Result, diag: Diagnosis) -> list[int]:
    n = len(dist)
    if n <= MATRIX_MAX:
        return list(range(n))
    keep = set(np.argsort(-dist, kind="stable")[:MATRIX_MAX - 2].tolist()) | {result.index}
    if diag.gold_index is not None:
        keep.add(diag.gold_index)
    return sorted(keep)


def _mark_class(i: int, result: Result, diag: Diagnosis) -> str:
    return "ans" if i == result.index else ("gold" if i == diag.gold_index else "")


def _cell(v: float) -> str:
    if v == 0:
        return ""
    return "1" if v == 1 else f"{v:.2f}".lstrip("0")

