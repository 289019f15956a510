"""Golden check for compiler changes that must not change output (speed work).

``python -m benchmarks.golden_compile write PATH`` records, for every expression of the
dev file, the structure corpus, a set of awkward texts and seeded mutations of dev
sentences (odd whitespace, hyphens, quotes, non-ASCII): its tokens (``text_tokens``),
printed program, notes, and every node's span (or the CompileError's message).
``... check PATH`` compiles them again and reports every difference (exit 1 if any).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from benchmarks import DEV_FILE

_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "structure_corpus.jsonl"

AWKWARD = [
    "the man  on the left", "the man\ton the left", "the man\non the left", " the man on the left",
    "the man on the left ", "  leading and trailing  ", "left-most cup", "the left-most cup",
    "left - most cup", "the left–most cup", "left — most", "man ' s hat on the left", "man's hat",
    "the man ’ s dog to the right", "!!!", "...", "-", "–", "'", "\"the\" left one", "a , b , c",
    "café on the left", "the naïve man right", "猫 on the left", "😀 left of the 🐶", "left\u00a0cup",
    "the\u2009left cup", "the\u200bleft cup", "a\r\nb on the right", "second from left",
    "2nd from the right", "the 3rd one", "man--woman left", "man - woman", "a-b-c-d left",
    "the top-left corner", "top-left", "in the middle of the picture", "between the two cars",
    "U.S. flag on the left", "Mr. Smith's car, left", "the man (left)", "left:", "the left/right one",
    "$5 bill on the left", "10% left", "e-mail", "the re-entry", "co-op left", "left -", "- left",
    "left -most", "the left ‐ most", "x" * 300, ("the man on the left of the woman " * 40).strip(),
    " ".join(["left"] * 200), "a b\tc\nd  e   f", "\tleft", "left\t", "LEFT MOST CUP", "The Man On The Left",
    "a :)''sx", "2nd:) :)''sx", "$猫 2nd:) :)''sx most/don'tman", "man :) on the left :)", "a.m. left a.m.",
]
_INSERTS = [" ", "  ", "\t", "\n", "-", "–", "—", "'", "’", ",", ".", "é", "😀", "\u00a0", "\u2009",
            " - ", "'s", "(", ")", "\"", "/", "&", "1st", "s"]


def _mutations(sentences: list[str], n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        s = rng.choice(sentences)
        for _ in range(rng.randint(1, 3)):
            k = rng.randint(0, len(s))
            s = s[:k] + rng.choice(_INSERTS) + s[k:]
        out.append(s)
    return out


def texts() -> list[str]:
    def read(path: Path, key: str) -> list[str]:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line)[key] for line in f if line.strip()]

    dev = read(DEV_FILE, "sentence")
    corpus = read(_CORPUS, "expression")
    return dev + corpus + AWKWARD + _mutations(dev, 3000)


def record(text: str) -> dict:
    from grammar import CompileError, compile_expression
    from grammar.expression import text_tokens

    out: dict = {"text": text}
    try:
        out["toks"] = [[t.i, t.text, t.lower, t.lemma, t.ws, t.start, t.end] for t in text_tokens(text)]
    except Exception as exc:  # noqa: BLE001 - recorded, compared
        out["toks"] = f"{type(exc).__name__}: {exc}"
    try:
        program = compile_expression(text)
    except CompileError as exc:
        out["error"] = str(exc)
        return out
    out["program"] = str(program)
    out["notes"] = list(program.notes)
    out["spans"] = [[type(n).__name__, list(n.span) if n.span else None] for n in program.nodes()]
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("write", "check"):
        print("usage: python -m benchmarks.golden_compile write|check PATH")
        return 2
    mode, path = argv
    records = [record(t) for t in texts()]
    if mode == "write":
        Path(path).write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
        print(f"wrote {len(records)} records to {path}")
        return 0
    golden = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    if len(golden) != len(records):
        print(f"record count differs: golden {len(golden)}, now {len(records)}")
        return 1
    diffs = [(g, r) for g, r in zip(golden, records) if g != r]
    for g, r in diffs[:20]:
        print(f"DIFF {g['text']!r}\n  golden: {json.dumps(g, ensure_ascii=False)}\n"
              f"  now:    {json.dumps(r, ensure_ascii=False)}")
    print(f"golden check: {len(records) - len(diffs)}/{len(records)} identical")
    return 1 if diffs else 0


if __name__ == "__main__":
    raise SystemExit(main())
