"""The tokens stage's per-piece path makes exactly the Tok list of the Doc path."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from grammar.expression import blank_nlp, text_tokens
from grammar.expression.tokens import _PIECES, clear_caches, doc_tokens, lookup_lemma, make_doc

# Pieces that exercise spaCy's prefixes, suffixes, infixes and special cases, hyphens and
# non-ASCII; texts made of them are joined by single spaces (the per-piece path) or not.
_PIECE_PARTS = ["man", "left", "-", "–", "—", "'s", "'", "’", "s", "n't", "can", "do", ".", ",", "(", ")",
                "\"", "a.m.", ":)", "U.S.", "Mr.", "1st", "2nd", "10%", "$", "e-mail", "café", "猫", "😀",
                "most", "x", "/", "&", "don't", "etc.", "..."]
_SPACES = [" ", " ", " ", " ", "  ", "\t", "\n", "\u00a0", ""]


def _fields(toks):
    return [(t.i, t.text, t.lower, t.lemma, t.ws, t.pos, t.dep, t.head, t.start, t.end) for t in toks]


def _doc_path(text):
    return _fields(doc_tokens(make_doc(blank_nlp(), text), lookup_lemma))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from(_PIECE_PARTS), min_size=1, max_size=4),
                          st.sampled_from(_SPACES)), min_size=1, max_size=6))
def test_per_piece_tokens_equal_the_doc_path(parts):
    text = "".join("".join(piece) + space for piece, space in parts)
    if not text.strip():
        return
    expected = _doc_path(text)
    assert _fields(text_tokens(text)) == expected  # pieces learnt from earlier examples' texts
    clear_caches()
    assert _fields(text_tokens(text)) == expected  # pieces learnt from this text


def test_pieces_learnt_in_one_text_serve_another():
    clear_caches()
    text_tokens("the leftmost man, 2nd dog $10%")
    assert "man," in _PIECES and "$10%" in _PIECES
    for text in ("a 2nd man, leftmost dog", "$10% man,", "man, $10%", "the leftmost"):
        assert _fields(text_tokens(text)) == _doc_path(text)


def test_other_whitespace_takes_the_doc_path():
    clear_caches()
    for text in ("the  man", " the man", "the man ", "the\tman", "the\u00a0man", "left-most", "man's"):
        assert _fields(text_tokens(text)) == _doc_path(text)
    assert not _PIECES


def test_texts_with_special_case_characters_take_the_doc_path():
    # spaCy splits the second ":)" here, not in ":)''sx" alone: its special cases are
    # matched over the whole Doc, so such pieces are not tokenised on their own
    clear_caches()
    text_tokens("a :)''sx")
    for text in ("2nd:) :)''sx", "$猫 2nd:) :)''sx most/don'tman"):
        assert _fields(text_tokens(text)) == _doc_path(text)


def test_a_piece_of_letters_that_is_no_special_case_is_one_token():
    # what _learn_pieces relies on to skip spaCy for such pieces: WordNet's words, any case
    from grammar.expression.heads import _pos_index

    tokenizer = blank_nlp().tokenizer
    words = sorted({w for ws in _pos_index().values() for w in ws if w.isalpha()})[::4]
    words += [w.upper() for w in words[::5]] + [w.capitalize() for w in words[::5]] + ["café", "猫", "straße"]
    split = [w for w in words if w not in tokenizer.rules and [t.text for t in tokenizer(w)] != [w]]
    assert not split
