"""English ordinals and their numbers: "first", "11th", "twelfth", "twenty-first", "100th".

Words are the lexer's: lower case, one space between words. A hyphen inside a word joins
its neighbours as a space does (the tokens stage keeps it out of the words), so
"twenty-first" is the phrase "twenty first". "0th" / "zeroth" are ordinals numbered 0,
which name no position: the compiler drops them with a note.
"""

from __future__ import annotations

import re

_UNITS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9,
}
_TEENS = {
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_TENTHS = {"twentieth": 20, "thirtieth": 30, "fortieth": 40, "fiftieth": 50, "sixtieth": 60,
           "seventieth": 70, "eightieth": 80, "ninetieth": 90}


def _word_ordinals() -> dict[str, int]:
    """Every ordinal below 200 in words, and the round ones up to a thousandth."""
    below_100 = {"zeroth": 0, **_UNITS, **_TEENS, **_TENTHS}
    for tens, t in _TENS.items():
        for unit, u in _UNITS.items():
            below_100[f"{tens} {unit}"] = t + u  # "twenty-first", "thirty-second"
    out = dict(below_100)
    for hundred in ("hundred", "one hundred"):
        out[f"{hundred}th"] = 100
        for words, n in below_100.items():
            if n:  # "(one) hundred (and) first"
                out[f"{hundred} {words}"] = out[f"{hundred} and {words}"] = 100 + n
    out["thousandth"] = out["one thousandth"] = 1000
    return out


WORD_ORDINALS: dict[str, int] = _word_ordinals()

# "11th", "21st", "100th" (any of the four endings after any number: "21th" is read as 21);
# at most 9 digits, so the number stays a number a person could mean
_NUMERIC = re.compile(r"([0-9]{1,9})(?:st|nd|rd|th)")


def numeric_ordinal(word: str) -> int | None:
    """The number of an ordinal written in digits ("11th" -> 11), else None."""
    m = _NUMERIC.fullmatch(word)
    return int(m.group(1)) if m else None


def ordinal_number(words: str) -> int | None:
    """The number of an ordinal in words or digits ("twenty first", "21st" -> 21), else None."""
    n = WORD_ORDINALS.get(words)
    return n if n is not None else numeric_ordinal(words)
