"""Stage 8, build: the attached phrases become a Program.

Relations apply first (innermost), then superlatives (vertical word innermost), then
an ordinal; the root is ``and(find(<whole expression>), <structure>)``, or
``find(<whole>, head=...)`` when no structure was found. Every node records the
character span of the words it came from (``span``; not part of equality or printing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from grammar import lexicon as lx
from grammar.ast import MAX_DEPTH, And, Find, Node, Ordinal, Program, Relate, Superlative, depth, target_of
from grammar.errors import CompileError
from grammar.expression.attachment import flat
from grammar.expression.heads import find_head, head_word, is_noun_like
from grammar.expression.lexer import Chunk
from grammar.expression.parser import Parsed, Phrase, Pre, Tail
from grammar.expression.tables import Tables, lexicon_tables
from grammar.expression.tokens import Tok
from primitives import Registry

NO_STRUCTURE = "no spatial structure found"
ONE_FIND = f"{NO_STRUCTURE}: the whole expression is one find"
Span = tuple[int, int]


def span_of(toks: Sequence[Tok]) -> Span | None:
    """(start, end) character offsets covering the words, None when none is from the text."""
    lo = hi = None
    for t in toks:  # one loop, no lists: measured 3x faster (the builder asks for many spans)
        start, end = t.start, t.end
        if start is not None and (lo is None or start < lo):
            lo = start
        if end is not None and (hi is None or end > hi):
            hi = end
    return None if lo is None else (lo, hi)


def _text(toks: Sequence[Tok]) -> str:
    return " ".join("".join(t.text + t.ws for t in toks).split()).strip(" ,.;:!?")


def _strip_leading(toks: list[Tok], words: frozenset[str]) -> list[Tok]:
    k = 0
    while k < len(toks) - 1 and toks[k].lower in words:
        k += 1
    return toks[k:]


@dataclass
class _Ctx:
    registry: Registry
    tables: Tables  # the registry's, with each superlative's opposite, comparative and axis
    parsed: bool
    notes: list[str]  # what the build could not structure, collected as it goes
    # id(tails) -> (the tails, id(tail) -> its position, position -> the tails attached to it)
    _nesting: dict[int, tuple] = field(default_factory=dict)

    def nesting(self, all_tails: Sequence[Tail], tail: Tail) -> tuple[int, list[Tail]]:
        """The tail's position among all the tails, and the tails attached to it (worked out
        once per list of tails: a text may hold thousands)."""
        known = self._nesting.get(id(all_tails))
        if known is None or known[0] is not all_tails:
            positions: dict[int, int] = {}
            attached: dict[int, list[Tail]] = {}
            for i, t in enumerate(all_tails):
                positions.setdefault(id(t), i)
                attached.setdefault(t.attach, []).append(t)
            known = self._nesting[id(all_tails)] = (all_tails, positions, attached)
        position = known[1][id(tail)]
        return position, known[2].get(position, [])


def bare_find(source: str, toks: Sequence[Tok], parsed: bool, note: str) -> Program:
    """The program of an expression with no structure: one find of the whole text."""
    head = head_word(find_head(toks, parsed)) or "object"
    root = Find(" ".join(source.split()), head=head, span=span_of(toks))
    return Program(root, source=source, notes=(note,))


def _find(toks: list[Tok], ctx: _Ctx, plural_to_singular: bool = False, anaphor: str | None = None) -> Find:
    """A landmark's find; ``anaphor`` is the head that "others", "a black one" stand for."""
    toks = _strip_leading(toks, lx.DETERMINERS | lx.LEADING_CLAUSE | lx.PREDETERMINERS)
    found = _anaphoric_find(toks, anaphor)
    if found is not None:
        return found
    head = find_head(toks, ctx.parsed, landmark=True)
    if plural_to_singular:
        toks = [t for t in toks if t.lower not in lx.QUANTITIES and t.lower not in lx.DETERMINERS
                and not t.lower.isdigit()] or toks
    text = _text(toks)
    if not text:
        return Find("object", head="object")
    if plural_to_singular and head is not None and head in toks:
        text = _text([Tok(t.i, (head_word(t) or t.text) if t is head else t.text, t.lemma, t.ws) for t in toks])
    return Find(text, head=head_word(head), span=span_of(toks))


def _anaphoric_find(toks: list[Tok], anaphor: str | None) -> Find | None:
    """ "three others", "the other one", "a black one": the landmark is of the named kind."""
    if anaphor is None:
        return None
    head = find_head(toks, False)
    if head is None or head.lower not in lx.ANAPHORIC_HEADS:
        return None
    return Find(_text(toks) or anaphor, head=anaphor, span=span_of(toks))


def _superlatives(node: Node, dirs: Sequence[Chunk], ctx: _Ctx) -> Node:
    """Superlatives nest in the order written, the first innermost, except that among the
    directions ("top left", "left ... in the back") the vertical one is innermost."""
    first: dict[str, Chunk] = {}
    for d in dirs:
        first.setdefault(d.value, d)
    axes = ctx.tables.axes
    kinds = list(first)
    slots = [n for n, k in enumerate(kinds) if axes.get(k) in ("x", "y")]
    for n, kind in zip(slots, sorted((kinds[n] for n in slots), key=lambda k: axes.get(k) != "y")):
        kinds[n] = kind  # stable: vertical first, the directions' slots otherwise unchanged
    for kind in kinds:
        node = Superlative(kind, node, span=span_of(first[kind].toks))
    return node


def _ordinal(node: Node, ordinal: Chunk, dirs: Sequence[Chunk], counted_from: bool, ctx: _Ctx) -> Node:
    """ "second from the left": n-th along leftmost; "last from the left": 1st along rightmost."""
    n, from_end = ordinal.value
    if n < 1:  # "0th", "zeroth": no position; the directions still pick
        ctx.notes.append(f"ordinal {ordinal.lower!r} names no position (ordinals count from 1): ordinal dropped")
        return _superlatives(node, dirs, ctx)
    names = ctx.registry.names("superlative")
    words = list(ordinal.toks)
    if dirs:
        kind = dirs[-1].value
        words += dirs[-1].toks
        node = _superlatives(node, dirs[:-1], ctx)
    else:  # no direction written: reading order, left to right
        kind = "leftmost"
        ctx.notes.append(f"ordinal {ordinal.lower!r} without a direction: "
                         "reading order (first = leftmost, last = rightmost)")
    if from_end and counted_from:
        kind = ctx.tables.opposite(kind)
    elif from_end and not dirs:
        kind = "rightmost"
    if kind not in names:
        ctx.notes.append(f"ordinal direction {kind!r} is not registered: ordinal dropped")
        return node
    return Ordinal(n, kind, node, span=span_of(words))


def _landmark_nodes(tail: Tail, ctx: _Ctx, nested: list[Tail], all_tails: Sequence[Tail], level: int,
                    anaphor: str | None = None) -> list[Node]:
    """The landmarks of a relation: one per conjunct ("behind the plate and the bread"), each
    related in turn; a ternary's two."""
    phrase = tail.landmark
    toks = flat(phrase.words) if phrase else []
    pre = phrase.pre if phrase else Pre()
    if tail.kind != "between":
        conjuncts = _conjuncts(phrase.words if phrase else (), ctx)
        nodes: list[Node] = []
        for k, (words, dirs) in enumerate(conjuncts):
            last = k == len(conjuncts) - 1
            # words after a place attached to this landmark describe the (last) landmark
            toks = flat(words) + ([t for n in nested for t in flat(n.words)] if last else [])
            own = pre if k == 0 else Pre(dirs=dirs)
            nodes.append(_structure(_find(toks, ctx, anaphor=anaphor), own, nested if last else [], ctx,
                                    all_tails, level + 1))
        return nodes
    parts = _split_and(toks)
    if len(parts) >= 2:
        nodes = [_find(p, ctx, anaphor=anaphor) for p in parts[:2]]
    else:  # "between the two cars", "between giraffes": the same kind twice
        one = _find(parts[0] if parts else toks, ctx, plural_to_singular=True, anaphor=anaphor)
        nodes = [one, one]
    return [_structure(n, pre, [], ctx, None, level + 1) for n in nodes]


def _split_and(toks: list[Tok]) -> list[list[Tok]]:
    """ "the car and the tree" -> two phrases; a comma ends the landmarks."""
    parts: list[list[Tok]] = [[]]
    for t in toks:
        if t.lower in (",", ";"):
            break
        if t.lower in ("and", "&", "or"):
            if parts[-1]:
                parts.append([])
        else:
            parts[-1].append(t)
    return [p for p in parts if p]


def _conjuncts(words: Sequence[Chunk], ctx: _Ctx) -> list[tuple[tuple[Chunk, ...], tuple[Chunk, ...]]]:
    """ "the plate and the bread": one landmark per conjunct, split at "and" before a
    determiner ("the man and kids arms" stays one). A later conjunct's superlative words,
    read as plain words inside the landmark, become its own directions again."""
    cut = [0]
    for k in range(1, len(words) - 1):
        if words[k].lower in lx.PREPOSITIONS or words[k].lower in lx.CLAUSE_WORDS:
            break  # "a mirror where you see the cat and the reflection": inside a clause
        if words[k].lower in ("and", "&") and words[k + 1].lower in lx.DETERMINERS:
            cut.append(k)
    if len(cut) == 1:
        return [(tuple(words), ())]
    names = ctx.registry.names("superlative")
    out = []
    for a, b in zip(cut, cut[1:] + [len(words)]):
        part = tuple(words[a + (a > 0):b])
        dirs = tuple(c for c in part[:-1] if isinstance(c.value, str) and c.value in names)
        out.append((tuple(c for c in part if not any(c is d for d in dirs)), dirs))
    return out


def _one_landmark_in_the_middle(tail: Tail) -> bool:
    """ "in the middle of the kitchen": one singular landmark, so inside it, not between."""
    if tail.relation is None or not any(w in tail.relation.lower for w in ("middle", "center", "centre")):
        return False
    parts = _split_and(flat(tail.landmark.words) if tail.landmark else [])
    if len(parts) != 1:
        return False
    plural = any(t.lower in lx.QUANTITIES or t.lower.isdigit() or t.lower != t.lemma for t in parts[0])
    return not plural


def _relation_name(tail: Tail, ctx: _Ctx) -> str | None:
    if tail.relation is not None:
        return tail.relation.value
    word = tail.dirs[-1].lower
    name = ctx.registry.words("relation").get(word)
    if name is None:
        name = ctx.tables.comparatives.get(tail.dirs[-1].value)
    return name if name in ctx.registry.names("relation") else None


def _structure(node: Node, pre: Pre, tails: Sequence[Tail], ctx: _Ctx,
               all_tails: Sequence[Tail] | None = None, level: int = 0) -> Node:
    """Wrap a phrase's Find in its relations, then superlatives, then an ordinal."""
    if level > MAX_DEPTH:
        raise _too_deep(f"more than {MAX_DEPTH}")
    all_tails = all_tails if all_tails is not None else tails
    dirs = list(pre.dirs)
    from_dirs: list[Chunk] = []
    anaphor = None  # the node's target's head, looked up at a relation (relations wrap the node,
    relations = 0   # so its target stays this one)
    for tail in tails:
        if tail.kind == "place":
            dirs.extend(tail.dirs)
        elif tail.kind == "from":
            from_dirs.extend(tail.dirs)
        else:
            relations += 1
            if level + relations > MAX_DEPTH:  # stop before building what will be refused
                raise _too_deep(f"more than {MAX_DEPTH}")
            position, nested = ctx.nesting(all_tails, tail)
            name = _relation_name(tail, ctx)
            if tail.kind == "between" and _one_landmark_in_the_middle(tail) and "within" in ctx.registry:
                tail = Tail("relation", relation=tail.relation.with_cat("REL"), landmark=tail.landmark,
                            attach=tail.attach)
                name = "within"
            if name is None:
                ctx.notes.append(f"no relation for {tail.dirs[-1].lower!r}: phrase ignored")
                continue
            if anaphor is None:
                anaphor = target_of(node).head
            landmarks = _landmark_nodes(tail, ctx, nested, all_tails, level, anaphor)
            words = tail.relation.toks if tail.relation is not None else flat(tail.dirs)
            for group in ([landmarks] if tail.kind == "between" else [[lm] for lm in landmarks]):
                node = Relate(node, name, *group, span=span_of(words))
    if pre.ordinal is not None:
        order_dirs = from_dirs or dirs
        rest = [d for d in dirs if d not in order_dirs]
        return _ordinal(_superlatives(node, rest, ctx), pre.ordinal, order_dirs, bool(from_dirs), ctx)
    return _superlatives(node, dirs + from_dirs, ctx)


def _next_word(words: list[Tok], toks: Sequence[Tok]) -> list[Tok]:
    """The preposition after the referent's words, if any: it tells "a man stands | next to"
    that "stands" is a verb (the spatial phrase itself is not part of the words)."""
    k = next((k for k, t in enumerate(toks) if t is words[-1]), len(toks)) + 1
    if k < len(toks) and (toks[k].lower in lx.PREPOSITIONS or toks[k].lower in lx.LOCATIVES):
        return [toks[k]]
    return []


def _referent(target: Phrase | None, mine: list[Tail], toks: Sequence[Tok], parsed: bool) -> Find:
    """The referent's find: its phrase plus the modifiers written after its places."""
    words = flat(target.words) if target else []
    modifiers = [t for tail in mine for t in flat(tail.words)]
    head = None
    if words:
        head = find_head(_strip_leading(words, lx.DETERMINERS) + _next_word(words, toks), parsed)
    dangling = bool(words) and words[-1].lower in ("and", "or", ",", "&")
    if (head is None or not is_noun_like(head) or dangling) and modifiers:
        head = find_head(_strip_leading(words + modifiers, lx.DETERMINERS), parsed) or head
    # "the left side | of the bench": the "of" a part or frame leaves is no part of the text
    text_toks = _strip_leading(words + modifiers, _REFERENT_LEADING)
    if _only_the_scene(words, text_toks):  # "in the middle | of the picture": no referent named
        text_toks, head = [], None
    # A referent with no noun still gets a head: "object", as in "2nd from right".
    return Find(_text(text_toks) or "object", head=head_word(head) or "object", span=span_of(text_toks))


_REFERENT_LEADING = lx.DETERMINERS | lx.LEADING_CLAUSE | {"of"}


def _only_the_scene(words: list[Tok], text_toks: list[Tok]) -> bool:
    """Are the referent's words only the frame of a place before them ("of the picture")?
    (Only a leading "of" is stripped from the text, so only "of" can have led the words.)"""
    return bool(words) and words[0].lower == "of" and len(text_toks) == 1 and text_toks[0].lower in lx.SCENE_NOUNS


def build(source: str, toks: Sequence[Tok], parsed: Parsed, registry: Registry, by_parse: bool) -> Program:
    """The Program of an attached parse (see the module docstring for the shape)."""
    ctx = _Ctx(registry, lexicon_tables(registry), by_parse, [])
    mine = [t for t in parsed.tails if t.attach < 0]
    referent = _referent(parsed.target, mine, toks, by_parse)
    pre = parsed.target.pre if parsed.target else Pre()
    structure = _structure(referent, pre, mine, ctx, parsed.tails)
    if structure == referent:
        program = bare_find(source, toks, by_parse, ONE_FIND)
        return Program(program.root, source=source, notes=(*ctx.notes, *program.notes))
    found = depth(structure) + 1
    if found > MAX_DEPTH:
        raise _too_deep(str(found))
    span = span_of(toks)
    whole = Find(" ".join(source.split()), span=span)
    return Program(And(whole, structure, span=span), source=source, notes=tuple(ctx.notes))


def _too_deep(found: str) -> CompileError:
    return CompileError(f"expression nests too deeply: its program would be {found} nodes deep; "
                        f"the limit is {MAX_DEPTH}")
