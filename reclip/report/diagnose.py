"""Diagnosis: where a program lost the right answer, in a few sentences (no HTML here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from interpreter import Result
from interpreter.execute import ORDINAL_MEMBER_MID
from interpreter.trace import TraceStep
from primitives import iou, validate_boxes

CORRECT_IOU = 0.5
# Diagnosis: a node "lost" the gold when the gold's probability relative to the top
# proposal at least halves there; a proposal "counts" as a candidate of a node when its
# probability is at least 10% of the top one.
LOST_RATIO = 0.5
MEMBER_RATIO = 0.1


@dataclass
class Diagnosis:
    """The gold proposal (if any), whether the answer is right, and why not."""

    gold_index: int | None
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
        return Diagnosis(None, None, None, [], None)
    gold, best, best_iou = gold_proposal(boxes, gold_box)
    gold_arr = validate_boxes(gold_box, "gold box")
    answer_iou = float(iou(np.asarray(result.box, dtype=np.float64)[None, :], gold_arr)[0])
    correct = answer_iou > CORRECT_IOU
    if gold is None:
        missed = (f"No proposal overlaps the gold box with IoU > {CORRECT_IOU} (the best, #{best}, has "
                  f"IoU {best_iou:.2f}): the proposals missed the object, so no program could find it.")
        return Diagnosis(None, answer_iou, correct, [missed], None, missed)
    if correct:
        right = f"Correct: the answer #{result.index} matches the gold box (IoU {answer_iou:.2f})."
        return Diagnosis(gold, answer_iou, True, [right], None, right)
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
            elif rank(s.distribution, gold) == 1:
                sentences.append(f"{s.label} could not tell the gold #{gold} from #{top} (both p {pg:.3f}).")
            else:
                misled.append(
                    f"{s.label} preferred #{top} (p {s.distribution[top]:.3f}); the gold #{gold} was "
                    f"{ordinal_word(rank(s.distribution, gold))} (p {pg:.3f})."
                )
                sentences.append(misled[-1])
    lost_at = _node_that_lost(steps, chain, gold)
    blind = [steps[i].label for i in sorted(chain) if steps[i].kind == "find"
             and standing(steps[i].distribution, gold) < MEMBER_RATIO]
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
    return Diagnosis(gold, answer_iou, False, sentences, lost_at, headline)


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


def standing(dist: np.ndarray, i: int) -> float:
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
        if s.step not in chain or not s.inputs or rank(s.distribution, gold) == 1:
            return None
        carriers = s.inputs if s.kind == "and" else s.inputs[:1]
        before = max(standing(steps[i].distribution, gold) for i in carriers)
        if before < MEMBER_RATIO:   # its input had already dropped the gold
            return None
        ratio = standing(s.distribution, gold) / before
        return ratio if ratio < LOST_RATIO else None

    def rival(s: TraceStep) -> TraceStep:
        return steps[min(s.inputs, key=lambda i: standing(steps[i].distribution, gold))]

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
        rival = steps[min(s.inputs, key=lambda i: standing(steps[i].distribution, gold))]
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
    members = [i for i in range(len(x)) if standing(x, i) >= share]
    return (f"{lead} It ordered what its input counted as candidates: "
            f"{', '.join(f'#{i}' for i in members)} (p at least {share:.0%} of the top).{fallback}")


def rank(dist: np.ndarray, index: int) -> int:
    """1-based rank of ``index`` in ``dist``; near-ties (1e-9) share the better rank."""
    return int(np.sum(dist > dist[index] + 1e-9)) + 1


def ordinal_word(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"



# With more proposals than this, pictures label only the ones that matter (``salient``).
LABEL_ALL_MAX = 30
TOP_PER_NODE = 3


def salient(result: Result, gold_index: int | None, top: int = TOP_PER_NODE) -> set[int]:
    """The proposals a picture labels: all of them up to LABEL_ALL_MAX, else the answer,
    the gold proposal and each node's ``top`` most probable ones."""
    n = len(result.graph.proposals)
    if n <= LABEL_ALL_MAX:
        return set(range(n))
    keep = {result.index} | ({gold_index} if gold_index is not None else set())
    for s in result.trace.steps:
        keep.update(int(i) for i in np.argsort(-s.distribution, kind="stable")[:top])
    return keep
