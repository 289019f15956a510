"""The visual trace (one self-contained HTML file per result) and the failure gallery.

A trace page answers "why this box?" at a glance: the image with every proposal
numbered, the program as a tree whose rows say what each node preferred and how much
probability the answer and the gold proposal kept there, a diagnosis naming the node
that removed the right answer, and, for the selected node, its distribution as bars
(the boxes tinted by it) and its relation matrix as a heatmap. Everything (image,
CSS, JS, data) is inline: the file can be mailed or attached to an issue.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from PIL import Image

from interpreter import Result
from interpreter.execute import ORDINAL_MEMBER_MID
from interpreter.trace import TraceStep
from primitives import ReclipError, iou, validate_boxes
from reclip.images import load_image

# Proposals kept in a matrix heatmap; beyond this the most probable ones are shown.
MATRIX_MAX = 24
# The embedded raster's longest side: larger photos are downscaled (boxes keep
# original pixel coordinates through the SVG viewBox).
EMBED_MAX_SIDE = 1600
CORRECT_IOU = 0.5
# Diagnosis: a node "lost" the gold when the gold's probability relative to the top
# proposal at least halves there; a proposal "counts" as a candidate of a node when its
# probability is at least 10% of the top one.
LOST_RATIO = 0.5
MEMBER_RATIO = 0.1


# -- what the page says ----------------------------------------------------------------
@dataclass
class Diagnosis:
    """The gold proposal (if any), whether the answer is right, and why not."""

    gold_index: int | None
    gold_iou: float | None        # IoU of the gold box with the gold proposal (or the best one)
    answer_iou: float | None      # IoU of the answer's box with the gold box
    correct: bool | None
    sentences: list[str]
    lost_at: int | None           # step number of the node that removed the gold proposal
    headline: str = ""            # the one sentence a gallery card shows


def gold_proposal(boxes: np.ndarray, gold_box: Sequence[float]) -> tuple[int | None, int, float]:
    """The gold proposal (the best-overlapping one if its IoU exceeds 0.5, else None),
    the best-overlapping proposal, and its IoU with the gold box."""
    gold = validate_boxes(gold_box, "gold box")[0]
    overlaps = iou(np.asarray(boxes, dtype=np.float64), gold[None, :])
    best = int(np.argmax(overlaps))
    return (best if overlaps[best] > CORRECT_IOU else None), best, float(overlaps[best])


def diagnose(result: Result, gold_box: Sequence[float] | None) -> Diagnosis:
    """Say, in a few sentences, where the program went wrong (or that it did not)."""
    steps = result.trace.steps
    boxes = np.array([p.box for p in result.graph.proposals], dtype=np.float64)
    if gold_box is None:
        return Diagnosis(None, None, None, None, [], None)
    gold, best, best_iou = gold_proposal(boxes, gold_box)
    gold_arr = validate_boxes(gold_box, "gold box")
    answer_iou = float(iou(np.asarray(result.box, dtype=np.float64)[None, :], gold_arr)[0])
    correct = answer_iou > CORRECT_IOU
    if gold is None:
        missed = (f"No proposal overlaps the gold box with IoU > {CORRECT_IOU} (the best, #{best}, has "
                  f"IoU {best_iou:.2f}): the proposals missed the object, so no program could find it.")
        return Diagnosis(None, best_iou, answer_iou, correct, [missed], None, missed)
    if correct:
        right = f"Correct: the answer #{result.index} matches the gold box (IoU {answer_iou:.2f})."
        return Diagnosis(gold, best_iou, answer_iou, True, [right], None, right)
    sentences = [f"Wrong: the answer is #{result.index}; the gold object is #{gold} "
                 f"(p {result.scores[gold]:.3f} at the end)."]
    misled: list[str] = []   # finds that preferred another proposal
    chain = referent_chain(steps)
    for s in steps:  # what the finds naming the referent thought
        if s.kind == "find" and s.step in chain:
            top = int(np.argmax(s.distribution))
            pg = s.distribution[gold]
            if top == gold:
                sentences.append(f"{s.label} ranked the gold #{gold} first (p {pg:.3f}).")
            elif _rank(s.distribution, gold) == 1:
                sentences.append(f"{s.label} could not tell the gold #{gold} from #{top} (both p {pg:.3f}).")
            else:
                misled.append(
                    f"{s.label} preferred #{top} (p {s.distribution[top]:.3f}); the gold #{gold} was "
                    f"{_ordinal_word(_rank(s.distribution, gold))} (p {pg:.3f})."
                )
                sentences.append(misled[-1])
    lost_at = _node_that_lost(steps, chain, gold)
    blind = [steps[i].label for i in sorted(chain) if steps[i].kind == "find"
             and _standing(steps[i].distribution, gold) < MEMBER_RATIO]
    if not result.program.structured:
        last = headline = ("The program is a single find: the compiler found no relation or superlative "
                           "in the expression, so CLIP alone decided.")
    elif lost_at is not None:
        last = headline = _blame(steps, steps[lost_at], gold)
    elif blind:
        last = headline = (f"{' and '.join(blind)} did not count the gold #{gold} as a candidate "
                           f"(p under {MEMBER_RATIO:.0%} of the top), so no relation could choose it.")
    elif misled:
        last = "No relation removed the gold: the finds preferred another proposal from the start."
        headline = misled[-1]
    else:
        last = headline = (f"No single node removed the gold #{gold}: none cut its share by half; "
                           "it lost by small margins along the way.")
    sentences.append(last)
    return Diagnosis(gold, best_iou, answer_iou, False, sentences, lost_at, headline)


def referent_chain(steps: list[TraceStep]) -> set[int]:
    """Steps whose distribution is over the referent itself (not over a landmark):
    the root, every ``and`` argument, a relation's target, a superlative's argument."""
    chain: set[int] = set()
    todo = [steps[-1]]
    while todo:
        s = todo.pop()
        chain.add(s.step)
        carriers = s.inputs if s.kind == "and" else s.inputs[:1]
        todo.extend(steps[i] for i in carriers)
    return chain


def _standing(dist: np.ndarray, i: int) -> float:
    """p(i) relative to the most probable proposal: 1 when i is on top."""
    peak = float(dist.max())
    return float(dist[i]) / peak if peak > 0 else 0.0


def _node_that_lost(steps: list[TraceStep], chain: set[int], gold: int) -> int | None:
    """The referent node that cost the gold most.

    A node is a suspect when its input still counted the gold as a candidate, the
    gold's standing (p relative to the top) at least halves there, and it ends below
    the top. Relations, superlatives and ordinals are suspected first (the largest
    fall, ties to the earliest); an ``and`` only when a find outvoted the structure
    (when the structure itself lost the gold, the node inside it is to blame).
    """
    def fall(s: TraceStep) -> float | None:
        if s.step not in chain or not s.inputs or _rank(s.distribution, gold) == 1:
            return None
        carriers = s.inputs if s.kind == "and" else s.inputs[:1]
        before = max(_standing(steps[i].distribution, gold) for i in carriers)
        if before < MEMBER_RATIO:   # its input had already dropped the gold
            return None
        ratio = _standing(s.distribution, gold) / before
        return ratio if ratio < LOST_RATIO else None

    def rival(s: TraceStep) -> TraceStep:
        return steps[min(s.inputs, key=lambda i: _standing(steps[i].distribution, gold))]

    for group in ([s for s in steps if s.kind != "and"],
                  [s for s in steps if s.kind == "and" and s.inputs and rival(s).kind == "find"]):
        suspects = [(r, s.step) for s in group if (r := fall(s)) is not None]
        if suspects:
            return min(suspects)[1]
    return None


def _blame(steps: list[TraceStep], s: TraceStep, gold: int) -> str:
    """One sentence on how node ``s`` lost the gold, with what to look at next."""
    top = int(np.argmax(s.distribution))
    fell = f"the gold #{gold} fell to p {s.distribution[gold]:.3f} and #{top} won (p {s.distribution[top]:.3f})"
    fallback = f" It fell back: {s.fallback}." if s.fallback else ""
    if s.kind == "and":
        rival = steps[min(s.inputs, key=lambda i: _standing(steps[i].distribution, gold))]
        hint = (" To see the answer without it, delete it from the program and `reclip run` the edit."
                if rival.kind == "find" else "")
        return (f"The gold was lost at {s.label} (step {s.step}): {rival.label} gave it only "
                f"p {rival.distribution[gold]:.3f}, so {fell}.{hint}{fallback}")
    before = steps[s.inputs[0]].distribution[gold]
    lead = f"{s.label} removed the right answer (step {s.step}): from p {before:.3f} in its input, {fell}."
    if s.kind == "relate":
        marks = ", ".join(f"{steps[i].label} (top #{int(np.argmax(steps[i].distribution))})" for i in s.inputs[1:])
        return f"{lead} Landmark: {marks}.{fallback}"
    # an ordinal counts members by the interpreter's rule (half the top probability)
    share = ORDINAL_MEMBER_MID if s.kind == "ordinal" else MEMBER_RATIO
    x = steps[s.inputs[0]].distribution
    members = [i for i in range(len(x)) if _standing(x, i) >= share]
    return (f"{lead} It ordered what its input counted as candidates: "
            f"{', '.join(f'#{i}' for i in members)} (p at least {share:.0%} of the top).{fallback}")


def _rank(dist: np.ndarray, index: int) -> int:
    """1-based rank of ``index`` in ``dist``; near-ties (1e-9) share the better rank."""
    return int(np.sum(dist > dist[index] + 1e-9)) + 1


def _ordinal_word(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# -- the trace page --------------------------------------------------------------------
def write_trace_html(result: Result, image: Image.Image | str | os.PathLike, path: str | os.PathLike, *,
                     expression: str | None = None, gold_box: Sequence[float] | None = None,
                     title: str | None = None, rerun: str | None = None) -> Path:
    """Write one self-contained HTML page explaining ``result``; returns its path.

    ``rerun``: a shell command that reproduces the result, shown on the page.
    """
    page = trace_html(result, image, expression=expression, gold_box=gold_box, title=title, rerun=rerun)
    return _write_text(Path(path), page)


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
    data = {
        "answer": result.index,
        "gold": diag.gold_index,
        "steps": [{"step": s.step, "kind": s.kind, "label": s.label,
                   "distribution": [round(float(v), 6) for v in s.distribution]} for s in steps],
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
        _scene_svg(img, result, diag, gold_box, root),
        _legend(root),
        "</section>",
        '<section class="side-pane">',
        '<h2>Program <span class="hint">click a node: the boxes show its probabilities; ↑/↓ move</span></h2>',
        f'<ul class="tree" id="program-tree">{_tree(steps, root, result, diag)}</ul>',
        '<div id="details">',
        *(_node_detail(s, steps, result, diag, s is root) for s in steps),
        "</div>",
        "</section>",
        "</main>",
        f'<script type="application/json" id="trace-data">{_json_for_script(data)}</script>',
        f"<script>{_JS}</script>",
    ])
    return _page(heading, body)


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


def _scene_svg(img: Image.Image, result: Result, diag: Diagnosis, gold_box, root: TraceStep) -> str:
    w, h = img.size
    font = max(w, h) * 0.028   # image units; the SVG is shown about 600 px wide
    stroke = max(1.0, max(w, h) / 400)
    dist = root.distribution
    peak = float(dist.max()) or 1.0
    out = [f'<svg id="scene" viewBox="0 0 {w} {h}" role="img" '
           f'style="--stroke:{stroke:.2f}px" preserveAspectRatio="xMidYMid meet">',
           f'<image href="{_png_data_uri(img)}" x="0" y="0" width="{w}" height="{h}"/>']
    order = sorted(range(len(result.graph.proposals)),
                   key=lambda i: -(result.graph.proposals[i].box[2] - result.graph.proposals[i].box[0])
                   * (result.graph.proposals[i].box[3] - result.graph.proposals[i].box[1]))
    for i in order:  # big boxes first, so small ones stay clickable on top
        x0, y0, x1, y1 = result.graph.proposals[i].box
        label = result.graph.proposals[i].label
        classes = ["proposal"] + (["answer"] if i == result.index else []) + \
            (["gold"] if i == diag.gold_index else [])
        tip = f"#{i}" + (f" {label}" if label else "") + f" [{_num(x0)}, {_num(y0)}, {_num(x1)}, {_num(y1)}]"
        out.append(
            f'<g class="{" ".join(classes)}" data-index="{i}">'
            f'<rect class="proposal-box" data-index="{i}" x="{_num(x0)}" y="{_num(y0)}" '
            f'width="{_num(x1 - x0)}" height="{_num(y1 - y0)}" '
            f'style="fill-opacity:{0.6 * dist[i] / peak:.3f}"><title>{_e(tip)} p {dist[i]:.3f}</title></rect>'
            f'<g class="tag" transform="translate({_num(x0)},{_num(y0)})">'
            f'<rect class="tag-bg" width="{font * (0.75 + 0.62 * len(str(i))):.1f}" height="{font * 1.25:.1f}"/>'
            f'<text x="{font * 0.35:.1f}" y="{font * 0.98:.1f}" font-size="{font:.1f}">{i}</text></g></g>'
        )
    if gold_box is not None:
        gx0, gy0, gx1, gy1 = (float(v) for v in validate_boxes(gold_box, "gold box")[0])
        out.append(f'<rect class="gold-box" id="gold-box" x="{_num(gx0)}" y="{_num(gy0)}" '
                   f'width="{_num(gx1 - gx0)}" height="{_num(gy1 - gy0)}"><title>gold box</title></rect>')
    out.append("</svg>")
    return "\n".join(out)


def _legend(root: TraceStep) -> str:
    return ('<p class="legend"><span class="key answer-key"></span> answer '
            '<span class="key gold-key"></span> gold '
            '<span class="key tint-key"></span> probability at '
            f'<b id="tint-label" class="mono">{_e(root.label)}</b></p>')


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
                     f'gold {dist[g]:.2f} ({_ordinal_word(_rank(dist, g))})</span>')
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
    for i in sorted(range(len(dist)), key=lambda k: (-dist[k], k)):
        marks = ("answer " if i == result.index else "") + ("gold" if i == diag.gold_index else "")
        logit = f'<td class="logit">{s.logits[i]:.2f}</td>' if s.logits is not None else ""
        rows.append(
            f'<tr class="bar-row {marks.strip()}" data-index="{i}"><th>#{i}</th>'
            f'<td class="bar-cell"><div class="bar" style="width:{100 * dist[i] / peak:.1f}%"></div></td>'
            f'<td class="p">{dist[i]:.3f}</td>{logit}<td class="marks">{marks.strip()}</td></tr>'
        )
    head = '<th>logit</th>' if s.logits is not None else ""
    return (f'<table class="bars"><thead><tr><th>#</th><th>probability (sorted)</th><th>p</th>{head}'
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


# -- the failure gallery ---------------------------------------------------------------
@dataclass
class _Failure:
    kind: str
    expression: str
    page: str
    answer: int
    gold: int | None
    headline: str
    program: str
    thumbnail: str                # file name of the card's picture, next to the page


class Gallery:
    """Failures of an evaluation: one trace page each, and an index grouped by program kind.

    Beside each page go the image, the proposals and the program text, so the page's
    ``reclip run`` command reproduces the failure, and an edited program can be tried.
    """

    def __init__(self, out_dir: str | os.PathLike, run_options: Sequence[str] = ()):
        """``run_options``: the ``reclip run`` options (``--model``, ...) that reproduce the
        evaluation's scorer, for the command each trace page shows."""
        self.out_dir = Path(out_dir)
        self.run_options = list(run_options)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReclipError(f"cannot create gallery folder {self.out_dir}: {exc.strerror or exc}") from None
        self.failures: list[_Failure] = []

    def __len__(self) -> int:
        return len(self.failures)

    def add_failure(self, kind: str, result: Result, image: Image.Image | str | os.PathLike,
                    expression: str, gold_box: Sequence[float] | None = None) -> Path:
        """Write this failure's trace page into the gallery folder and remember it."""
        img = load_image(image)
        stem = f"{len(self.failures):04d}-{_slug(kind)}"
        rerun = self._write_inputs(stem, result, img, expression, gold_box)
        path = write_trace_html(result, img, self.out_dir / f"{stem}.html", expression=expression,
                                gold_box=gold_box, rerun=rerun)
        _thumbnail(img, result, gold_box).save(self.out_dir / f"{stem}.jpg", format="JPEG", quality=85)
        diag = diagnose(result, gold_box)
        headline = diag.headline
        self.failures.append(_Failure(kind, expression, f"{stem}.html", result.index, diag.gold_index,
                                      headline, str(result.program), f"{stem}.jpg"))
        return path

    def _write_inputs(self, stem: str, result: Result, img: Image.Image, expression: str,
                      gold_box: Sequence[float] | None) -> str:
        """Save what ``reclip run`` needs to reproduce the failure; the command to do so."""
        from reclip.explain import pretty_program
        from reclip.proposals_io import write_proposals

        img.save(self.out_dir / f"{stem}.png")
        write_proposals(self.out_dir / f"{stem}.proposals.json", result.graph.proposals)
        _write_text(self.out_dir / f"{stem}.program.txt",
                    f"# {expression}\n{pretty_program(result.program)}\n")
        gold = " --gold " + " ".join(_num(v) for v in gold_box) if gold_box is not None else ""
        options = "".join(" " + shlex.quote(o) for o in self.run_options)
        note = "" if self.run_options else \
            "\n# add the --model / --method options the evaluation used, if not the defaults"
        return (f"cd {shlex.quote(str(self.out_dir.resolve()))}\n"
                f"reclip run {stem}.program.txt {stem}.png --proposals {stem}.proposals.json{gold} "
                f"--trace {stem}.rerun.html{options}{note}")

    def write(self, totals: Mapping[str, int] | None = None, title: str = "reclip failures") -> Path:
        """Write index.html; ``totals`` (kind -> expressions evaluated) adds failure rates."""
        groups: dict[str, list[_Failure]] = {}
        for f in self.failures:
            groups.setdefault(f.kind, []).append(f)
        summary = []
        for kind in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            of = f" of {totals[kind]}" if totals and kind in totals else ""
            summary.append(f'<a class="kind-link" href="#kind-{_slug(kind)}">{_e(kind)} '
                           f'<b>{len(groups[kind])}</b>{of}</a>')
        sections = []
        for kind in sorted(groups, key=lambda k: (-len(groups[k]), k)):
            cards = "".join(_card(f) for f in groups[kind])
            sections.append(f'<section class="kind-group" id="kind-{_slug(kind)}" data-kind="{_e(kind)}">'
                            f"<h2>{_e(kind)} <span class=\"count\">{len(groups[kind])}</span></h2>"
                            f'<div class="cards">{cards}</div></section>')
        empty = "" if self.failures else '<p class="empty">No failures.</p>'
        body = (f'<header class="page-head"><h1>{_e(title)}</h1>'
                f'<p class="summary">{len(self.failures)} failure{"s" if len(self.failures) != 1 else ""}'
                f' · by program kind: {" ".join(summary)}</p></header>'
                f'<main class="gallery">{empty}{"".join(sections)}</main>')
        return _write_text(self.out_dir / "index.html", _page(title, body))


def _card(f: _Failure) -> str:
    gold = f"gold #{f.gold}" if f.gold is not None else "gold not among proposals"
    return (f'<a class="card failure" href="{_e(f.page)}">'
            f'<img src="{_e(f.thumbnail)}" alt="proposals, answer and gold" loading="lazy">'
            f'<span class="expr">“{_e(f.expression)}”</span>'
            f'<span class="meta"><span class="answer-chip">answer #{f.answer}</span> '
            f'<span class="gold-chip">{gold}</span></span>'
            f'<span class="why">{_e(f.headline)}</span>'
            f'<code class="mono">{_e(f.program)}</code></a>')


def _thumbnail(img: Image.Image, result: Result, gold_box) -> Image.Image:
    """The drawing (numbers, answer, gold) at card size: the photo is shrunk before drawing
    so the numbers stay readable."""
    from reclip.draw import draw_result

    scale = min(1.0, 320 / max(img.size))
    small = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    boxes = [[v * scale for v in p.box] for p in result.graph.proposals]
    gold = None if gold_box is None else [float(v) * scale for v in gold_box]
    return draw_result(small, boxes, chosen=result.index, gold_box=gold)


def _slug(text: str) -> str:
    s = "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
    return s or "other"


# -- small helpers ---------------------------------------------------------------------
def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(v: float) -> str:
    return f"{float(v):.1f}".rstrip("0").rstrip(".")


def _json_for_script(data: Any) -> str:
    # "</" would end the script element early; "<!--" would open an HTML comment.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")


def _png_data_uri(img: Image.Image) -> str:
    if max(img.size) > EMBED_MAX_SIDE:
        img = img.copy()
        img.thumbnail((EMBED_MAX_SIDE, EMBED_MAX_SIDE))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _write_text(path: Path, text: str) -> Path:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReclipError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n<body>\n{body}\n</body></html>\n")


_CSS = """
:root { --ans:#f08c00; --gold:#2f9e44; --tint:#1c7ed6; --bad:#e03131; --ink:#212529; --muted:#868e96;
  --line:#dee2e6; --bg:#f8f9fa; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); }
body { margin: 0; background: var(--bg); }
.mono, pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
.page-head { padding: 14px 22px 6px; background: #fff; border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 6px; }
h2 { font-size: 15px; margin: 4px 0 8px; }
h3 { font-size: 14px; margin: 0 0 6px; }
.hint { font-weight: normal; color: var(--muted); font-size: 12px; }
.summary { margin: 4px 0; }
.expression { margin: 0 0 4px; font-size: 16px; font-weight: 600; }
.answer-chip, .gold-chip, .fallback-chip, .verdict { display: inline-block; padding: 1px 7px; border-radius: 10px;
  font-size: 12.5px; font-weight: 600; }
.answer-chip { background: #fff4e6; color: #d9480f; border: 1px solid var(--ans); }
.gold-chip { background: #ebfbee; color: #2b8a3e; border: 1px solid var(--gold); }
.fallback-chip { background: #fff5f5; color: var(--bad); border: 1px solid var(--bad); }
.verdict.correct { background: var(--gold); color: #fff; }
.verdict.wrong { background: var(--bad); color: #fff; }
.diagnosis { margin: 6px 0; padding: 8px 12px 8px 28px; border-radius: 6px; font-size: 14px; }
.diagnosis.bad { background: #fff5f5; border-left: 4px solid var(--bad); }
.diagnosis.ok { background: #ebfbee; border-left: 4px solid var(--gold); }
.diagnosis li { margin: 2px 0; }
.notes { color: var(--muted); font-size: 13px; margin: 4px 0; }
.rerun { margin: 4px 0 8px; font-size: 13px; } .rerun summary { cursor: pointer; color: var(--tint); }
.rerun pre { background: #212529; color: #f8f9fa; padding: 6px 10px; border-radius: 6px; white-space: pre-wrap; }
.program-text { background: #f1f3f5; padding: 6px 10px; border-radius: 6px; white-space: pre-wrap;
  word-break: break-word; margin: 6px 0; }
.layout { display: grid; grid-template-columns: minmax(320px, 1.1fr) minmax(360px, 1fr); gap: 18px; padding: 16px 22px; }
@media (max-width: 900px) { .layout { grid-template-columns: 1fr; } }
.image-pane { position: sticky; top: 8px; align-self: start; }
#scene { width: 100%; height: auto; max-height: 80vh; background: #222; border-radius: 6px; display: block; }
.proposal-box { fill: var(--tint); stroke: #fff; stroke-width: var(--stroke); vector-effect: non-scaling-stroke;
  cursor: pointer; transition: fill-opacity .15s; paint-order: stroke; }
.proposal.answer .proposal-box { stroke: var(--ans); stroke-width: calc(var(--stroke) * 3); }
.proposal.hover .proposal-box { stroke: #ffd43b; stroke-width: calc(var(--stroke) * 3); }
.tag-bg { fill: rgba(255,255,255,.9); stroke: #333; stroke-width: 1; vector-effect: non-scaling-stroke; }
.proposal.answer .tag-bg { fill: var(--ans); }
.proposal.gold .tag-bg { fill: #b2f2bb; }
.tag text { fill: #000; font-weight: 700; font-family: system-ui, sans-serif; pointer-events: none; }
.tag { pointer-events: none; }
.gold-box { fill: none; stroke: var(--gold); stroke-width: 3px; vector-effect: non-scaling-stroke;
  stroke-dasharray: 8 5; pointer-events: none; }
.legend { font-size: 13px; color: #495057; margin: 6px 0; }
.key { display: inline-block; width: 14px; height: 10px; margin: 0 3px 0 10px; border-radius: 2px; vertical-align: middle; }
.answer-key { border: 3px solid var(--ans); }
.gold-key { border: 2px dashed var(--gold); }
.tint-key { background: linear-gradient(90deg, rgba(28,126,214,.05), rgba(28,126,214,.6)); }
.side-pane { min-width: 0; }
.tree, .tree ul { list-style: none; margin: 0; padding-left: 18px; }
.tree { padding-left: 0; }
.tree ul { border-left: 1px dashed #ced4da; margin-left: 10px; }
.tree li { margin: 4px 0; }
.tree-node { display: grid; grid-template-columns: auto minmax(0, 1fr) auto; align-items: center;
  column-gap: 8px; row-gap: 3px; width: 100%; text-align: left;
  background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; cursor: pointer;
  font: inherit; font-size: 13px; color: inherit; }
.tree-node:hover { border-color: #74c0fc; }
.tree-node.selected { border-color: var(--tint); box-shadow: 0 0 0 2px rgba(28,126,214,.25); background: #f3f9ff; }
.tree-node.has-fallback { border-left: 4px solid #f59f00; }
.tree-node.lost-gold { border-left: 4px solid var(--bad); background: #fff5f5; }
.kind { display: inline-block; font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: .03em;
  padding: 1px 6px; border-radius: 4px; background: #e9ecef; color: #495057; }
.kind-find .kind { background: #e7f5ff; color: #1864ab; }
.kind-relate .kind { background: #f3f0ff; color: #5f3dc4; }
.kind-superlative .kind, .kind-ordinal .kind { background: #fff0f6; color: #a61e4d; }
.kind-and .kind { background: #f1f3f5; color: #343a40; }
.tree-node .label { overflow-wrap: anywhere; }
.tree-node .chips { grid-column: 1 / -1; }
.spark { display: inline-flex; align-items: flex-end; gap: 1px; height: 18px; width: auto; padding: 0 2px;
  border-bottom: 1px solid #ced4da; }
.spark i { display: block; width: 4px; background: #a5d8ff; }
.spark i.ans { background: var(--ans); }
.spark i.gold { background: var(--gold); }
.chips { display: inline-flex; gap: 4px; flex-wrap: wrap; }
.chip { font-size: 11.5px; padding: 0 6px; border-radius: 8px; background: #f1f3f5; white-space: nowrap; }
.chip.ans { background: #fff4e6; color: #d9480f; }
.chip.gold { background: #ebfbee; color: #2b8a3e; }
.chip.fallback { background: #fff3bf; color: #e67700; font-weight: 700; }
.chip.lost { background: var(--bad); color: #fff; font-weight: 700; }
#details { margin-top: 12px; }
.node-detail { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.node-program { background: #f8f9fa; padding: 4px 8px; border-radius: 4px; white-space: pre-wrap; word-break: break-word; }
.fallback-note { background: #fff3bf; padding: 6px 10px; border-radius: 4px; }
.inputs { color: var(--muted); font-size: 12.5px; }
table.bars { border-collapse: collapse; width: 100%; font-size: 12.5px; }
table.bars th, table.bars td { padding: 1px 6px; text-align: left; }
table.bars thead th { color: var(--muted); font-weight: 500; border-bottom: 1px solid var(--line); }
.bar-cell { width: 60%; }
.bar { height: 10px; background: var(--tint); border-radius: 2px; min-width: 1px; }
.bar-row.answer .bar { background: var(--ans); }
.bar-row.gold .bar { background: var(--gold); }
.bar-row.hover { background: #fff9db; }
.bar-row .marks { color: var(--muted); font-size: 11.5px; }
td.p, td.logit { font-variant-numeric: tabular-nums; }
.matrix-block { margin-top: 10px; overflow-x: auto; }
.matrix-caption { font-size: 12.5px; color: #495057; margin: 4px 0; }
table.matrix { border-collapse: collapse; font-size: 10.5px; }
table.matrix td, table.matrix th { width: 22px; height: 18px; text-align: center; border: 1px solid #f1f3f5; padding: 0; }
table.matrix th.ans { color: #d9480f; } table.matrix th.gold { color: #2b8a3e; }
.gallery { padding: 16px 22px; }
.kind-link { margin-right: 12px; color: var(--tint); text-decoration: none; }
.kind-group h2 .count { color: var(--muted); font-weight: normal; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: 12px; margin-bottom: 18px; }
.card { display: flex; flex-direction: column; gap: 4px; background: #fff; border: 1px solid var(--line);
  border-radius: 8px; padding: 8px; color: inherit; text-decoration: none; font-size: 13px; }
.card:hover { border-color: var(--tint); }
.card img { width: 100%; height: auto; border-radius: 4px; background: #222; }
.card .expr { font-weight: 600; }
.card .why { color: #c92a2a; }
.card code { color: var(--muted); font-size: 11px; overflow-wrap: anywhere; }
"""

_JS = r"""
(() => {
  const data = JSON.parse(document.getElementById('trace-data').textContent);
  const nodes = Array.from(document.querySelectorAll('.tree-node'));
  const boxes = Array.from(document.querySelectorAll('.proposal-box'));
  const label = document.getElementById('tint-label');
  function select(step) {
    const s = data.steps[step];
    if (!s) return;
    nodes.forEach(n => {
      const on = Number(n.dataset.step) === step;
      n.classList.toggle('selected', on);
      n.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    document.querySelectorAll('.node-detail').forEach(d => { d.hidden = Number(d.dataset.step) !== step; });
    const peak = Math.max(...s.distribution) || 1;
    boxes.forEach(r => {
      const p = s.distribution[Number(r.dataset.index)];
      r.style.fillOpacity = (0.6 * p / peak).toFixed(3);
      const t = r.querySelector('title');
      if (t) t.textContent = t.textContent.replace(/ p [0-9.e-]+$/, '') + ' p ' + p.toFixed(3);
    });
    if (label) label.textContent = s.label;
    document.body.dataset.selected = String(step);
  }
  function hover(index, on) {
    document.querySelectorAll('[data-index="' + index + '"]').forEach(el => {
      (el.classList.contains('proposal-box') ? el.parentNode : el).classList.toggle('hover', on);
    });
  }
  nodes.forEach(n => n.addEventListener('click', () => select(Number(n.dataset.step))));
  document.querySelectorAll('.proposal, .bar-row').forEach(el => {
    el.addEventListener('mouseenter', () => hover(el.dataset.index, true));
    el.addEventListener('mouseleave', () => hover(el.dataset.index, false));
  });
  document.addEventListener('keydown', e => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const i = nodes.findIndex(n => n.classList.contains('selected'));
    const next = nodes[Math.min(nodes.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) { e.preventDefault(); select(Number(next.dataset.step)); next.focus(); }
  });
  select(data.steps.length - 1);
})();
"""
