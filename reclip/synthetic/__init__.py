"""The synthetic spatial benchmark: scenes (scenes), expressions (expressions), the
gold-attribute scorer (oracle), dataset files (dataset), evaluation (evaluate), the small
CLIP's training (training) and the offline demo (demo).

``reclip synth --out DIR --scenes N --seed S`` writes ``DIR/images/*.png`` and
``DIR/expressions.jsonl``, one JSON record per expression:

    {"id", "scene", "image" (path relative to DIR), "width", "height",
     "proposals": [{"box": [x0, y0, x1, y1], "mask": COCO RLE, "label": "small red circle",
                    "attributes": {"size", "colour", "shape"}}, ...],
     "expression", "kind", "gold" (index into proposals), "gold_box", "gold_mask",
     "program" (gold program text), "seed"}

Expression kinds: ``attribute`` ("the red circle"), ``relation`` ("the circle left of the blue
square"), ``superlative`` ("the leftmost triangle"), ``ordinal`` ("the second circle
from the left"), ``between``, ``nested`` (a relation whose landmark is itself a
relation or a superlative) and ``compound`` ("the top left star").

The gold program is the *structure* the expression means, without the compiler's
whole-expression conjunct: a compiled program is
``and(find("<expression>"), <structure>)``; the gold program is ``<structure>``. Its
finds name the attribute phrase and carry the shape as head:
``relate(find("circle", head="circle"), left_of, find("blue square", head="square"))``.

Every expression is unambiguous by construction: its referent satisfies the spatial
condition with a pixel margin and every other object fitting the description fails it
with a margin, and the gold program, run through the real interpreter with a scorer
that knows the gold attributes (``oracle.GoldAttributeScorer``), must pick the referent
clearly; candidates that fail are discarded. Everything is deterministic in the seed.
"""
