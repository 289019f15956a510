"""The one place that knows the primitives: relations, ternary relations, superlatives.

A primitive is a pure numpy function of boxes registered under a name with the words
that express it. The compiler's lexicon, the program parser's name check, the CLI's
``relations`` listing and the interpreter all read from here, so registering a
function is the whole act of adding a primitive.

Signatures (boxes are arrays whose last axis is x0, y0, x1, y1; image y grows down):

- ``@relation(name, words)``: ``fn(a, b) -> values``, the degree to which box a stands
  in the relation to box b. It must broadcast, so it works on one pair of boxes and on
  the (N, 1, 4) x (1, N, 4) arrays the registry passes to build an (N, N) matrix.
- ``@ternary(name, words)``: ``fn(a, b, c) -> values``, broadcast to (N, N, N).
- ``@superlative(name, words)``: ``fn(boxes, weights) -> key`` of shape (N,), larger
  meaning "more so" (leftmost: ``-centre_x``). ``weights`` is the candidate
  distribution, for superlatives relative to the candidates ("middle"). The
  comparative matrix is ``S[i, j] = key[i] > key[j]``: for leftmost that is exactly
  ReCLIP's left_of.
"""

from __future__ import annotations

import difflib
import itertools
from dataclasses import dataclass
from typing import Callable, Iterable, Literal

import numpy as np

from foundation.catalog import Catalog
from foundation.errors import RegistryError

Kind = Literal["relation", "ternary", "superlative"]
KINDS: tuple[Kind, ...] = ("relation", "ternary", "superlative")
_PRIVATE = itertools.count(1)
OLD_GROUPS = ("reclip.relations",)   # the entry point group's name before 0.2, still loaded


@dataclass(frozen=True)
class Primitive:
    name: str
    kind: Kind
    fn: Callable[..., np.ndarray]
    words: tuple[str, ...] = ()
    doc: str = ""
    # superlatives only: the superlative counted from the other end ("last from the left"
    # is the first from the right), the binary relation that compares two boxes the same
    # way ("at the bottom of X" -> below), and the axis it orders along ("x", "y", "size",
    # "depth"; None when it orders by something else, as "middle" does)
    opposite: str | None = None
    comparative: str | None = None
    axis: str | None = None

    @property
    def __wrapped__(self) -> Callable[..., np.ndarray]:
        """The registered function (where listings find the definition)."""
        return self.fn

    @property
    def landmarks(self) -> int:
        """How many landmark arguments a relate() node of this primitive takes."""
        return {"relation": 1, "ternary": 2, "superlative": 0}[self.kind]


class Registry:
    """Primitives by name, stored in one ``Catalog`` (kind ``"primitives"`` for REGISTRY).

    ``Registry()`` makes a private registry (its own catalogue namespace, no plugins), for
    a compiler or parser that must see only its own primitives. REGISTRY's installed plugins
    come from the entry point group ``reclip_primitives``, naming a ``Primitive`` or a module
    that registers with the decorators; ``reclip.relations`` is that group's old name and
    still loads.
    """

    def __init__(self, kind: str | None = None) -> None:
        public = kind is not None
        self.catalog: Catalog[Primitive] = Catalog(
            kind or f"primitives_{next(_PRIVATE)}", "primitive", accept=_accept_primitive,
            entry_points=public, old_groups=OLD_GROUPS if public else ())
        self._words: dict[tuple[Kind, tuple], dict[str, str]] = {}

    # -- registering -------------------------------------------------------------
    def _register(self, kind: Kind, name: str, words: Iterable[str], replace: bool, **extra: str | None):
        if not name.isidentifier() or not name.isascii():
            raise RegistryError(
                f"primitive name {name!r} must be an ASCII identifier (letters, digits, _)"
            )
        words = tuple(" ".join(w.lower().split()) for w in words)
        if any(not w for w in words):
            raise RegistryError(f"primitive {name!r} has an empty word")

        def decorate(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
            doc = (fn.__doc__ or "").strip().split("\n")[0]
            self.catalog.add(name, Primitive(name, kind, fn, words, doc, **extra), replace=replace)
            return fn

        return decorate

    def relation(self, name: str, words: Iterable[str] = (), *, replace: bool = False):
        """Decorator: register ``fn(a, b) -> degree`` as a binary relation."""
        return self._register("relation", name, words, replace)

    def ternary(self, name: str, words: Iterable[str] = (), *, replace: bool = False):
        """Decorator: register ``fn(a, b, c) -> degree`` as a ternary relation."""
        return self._register("ternary", name, words, replace)

    def superlative(self, name: str, words: Iterable[str] = (), *, replace: bool = False,
                    opposite: str | None = None, comparative: str | None = None, axis: str | None = None):
        """Decorator: register ``fn(boxes, weights) -> key`` as a superlative; ``opposite``,
        ``comparative`` (a binary relation's name) and ``axis`` tell the compiler how to
        count from its other end, which relation a "<word> of X" phrase means, and how it
        nests with other superlatives (see ``Primitive``)."""
        return self._register("superlative", name, words, replace,
                              opposite=opposite, comparative=comparative, axis=axis)

    def unregister(self, name: str) -> None:
        self.get(name)
        self.catalog.remove(name)

    # -- looking up --------------------------------------------------------------
    def _entries(self) -> dict[str, Primitive]:
        return self.catalog.all()

    @property
    def version(self) -> int:
        """Changes whenever an entry does (the catalog notices entries restored behind the
        registry's back)."""
        return self.catalog.generation

    def __contains__(self, name: object) -> bool:
        return name in self.catalog

    def get(self, name: str, kind: Kind | Iterable[Kind] | None = None) -> Primitive:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind or KINDS)
        item = self._entries().get(name)
        if item is None or item.kind not in kinds:
            what = " or ".join(kinds) if kind else "primitive"
            near = self.closest(name, kinds)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise RegistryError(f"unknown {what} {name!r}{hint}")
        return item

    def names(self, kind: Kind | Iterable[Kind] | None = None) -> list[str]:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind or KINDS)
        return [n for n, p in self._entries().items() if p.kind in kinds]

    def items(self, kind: Kind | None = None) -> list[Primitive]:
        kinds = (kind,) if isinstance(kind, str) else tuple(kind or KINDS)
        return [p for p in self._entries().values() if p.kind in kinds]

    def closest(self, name: str, kind: Kind | Iterable[Kind] | None = None, n: int = 3) -> list[str]:
        """Registered names nearest to ``name``, for 'did you mean' messages."""
        return difflib.get_close_matches(name, self.names(kind), n=n, cutoff=0.5)

    def words(self, kind: Kind) -> dict[str, str]:
        """Word (lower-case, single-spaced) -> primitive name, for one kind (cached per version)."""
        version = self.version
        key = (kind, version)
        if key not in self._words:
            # tables of an older version are stale: keep only the current version's
            self._words = {k: t for k, t in self._words.items() if k[1] == version}
            table: dict[str, str] = {}
            for p in self.items(kind):
                for w in p.words:
                    table.setdefault(w, p.name)
            self._words[key] = table
        return dict(self._words[key])

    # -- computing ---------------------------------------------------------------
    def matrix(self, name: str, boxes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """The primitive's matrix over N boxes: (N, N), or (N, N, N) for ternary.

        Entries where an index repeats (i == j, ...) are zero: an object is never
        left of itself, nor between itself and another. A ternary matrix is built in
        blocks of rows (memory: the result only) and refused beyond MAX_CELLS; for
        large N, ``primitives.support.ternary_support`` contracts it with the
        landmarks instead.
        """
        p = self.get(name)
        b = np.asarray(boxes, dtype=np.float64)
        n = len(b)
        if p.kind == "superlative":
            key = self.key(name, b, weights)
            m = (key[:, None] > key[None, :]).astype(np.float64)
            np.fill_diagonal(m, 0.0)
            return m
        everyone = np.arange(n)
        if p.kind == "relation":
            return self.block(name, b, everyone, everyone)
        if n**3 > MAX_CELLS:
            raise RegistryError(
                f"the ternary matrix of {name!r} over {n} boxes would hold {n**3:,} values; "
                "use primitives.support.ternary_support, which contracts it with the landmarks"
            )
        m = np.empty((n, n, n))
        for rows in row_chunks(n, n * n):
            m[rows] = self.block(name, b, rows, everyone, everyone)
        return m

    def block(self, name: str, boxes: np.ndarray, rows: np.ndarray, *columns: np.ndarray) -> np.ndarray:
        """The relation's values for boxes[rows] against boxes[columns] (one index array per
        landmark): shape (len(rows), len(columns[0]), ...), zero where an index repeats."""
        p = self.get(name, ("relation", "ternary"))
        if len(columns) != p.landmarks:
            raise RegistryError(f"{p.kind} {name!r} takes {p.landmarks} landmark(s), got {len(columns)}")
        b = np.asarray(boxes, dtype=np.float64)
        index = [np.asarray(rows)] + [np.asarray(c) for c in columns]
        ndim = len(index)
        axes = [ix.reshape((1,) * k + (-1,) + (1,) * (ndim - k - 1)) for k, ix in enumerate(index)]
        m = _call(p, tuple(len(ix) for ix in index), *[b[ax] for ax in axes])
        repeated = np.zeros(m.shape, dtype=bool)
        for k in range(ndim):
            for l in range(k + 1, ndim):
                repeated = repeated | (axes[k] == axes[l])
        m[repeated] = 0.0
        return m

    def key(self, name: str, boxes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """A superlative's key over N boxes (larger = more so); weights default to uniform."""
        p = self.get(name, "superlative")
        b = np.asarray(boxes, dtype=np.float64)
        n = len(b)
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=np.float64)
        return _call(p, (n,), b, w)


def _accept_primitive(name: str, entry: object) -> Primitive:
    """An entry point's object must be a Primitive (functions register with the decorators)."""
    if not isinstance(entry, Primitive):
        raise RegistryError(
            f"primitive {name!r} is a {type(entry).__name__}, not a primitives.Primitive; "
            "name a Primitive or a module that registers with @relation / @superlative / @ternary"
        )
    return entry


# A ternary matrix of more values than this is refused (2**24 doubles: 128 MiB).
MAX_CELLS = 2**24
# Rows are evaluated in blocks of about this many values, bounding temporaries.
BLOCK_CELLS = 2**16


def row_chunks(n: int, cells_per_row: int) -> list[np.ndarray]:
    """Row index blocks of about BLOCK_CELLS values each."""
    size = max(1, BLOCK_CELLS // max(1, cells_per_row))
    return [np.arange(start, min(n, start + size)) for start in range(0, n, size)]


def _call(p: Primitive, shape: tuple[int, ...], *args: np.ndarray) -> np.ndarray:
    try:
        out = np.asarray(p.fn(*args), dtype=np.float64)
    except Exception as exc:  # a user's primitive failing must name itself
        raise RegistryError(f"{p.kind} {p.name!r} failed: {type(exc).__name__}: {exc}") from exc
    if out.shape != shape:
        try:
            out = np.broadcast_to(out, shape).copy()
        except ValueError:
            raise RegistryError(
                f"{p.kind} {p.name!r} returned shape {out.shape}, expected {shape}; "
                "primitive functions must broadcast over arrays of boxes"
            ) from None
    if not np.all(np.isfinite(out)):
        raise RegistryError(f"{p.kind} {p.name!r} returned NaN or infinite values")
    if p.kind != "superlative" and np.any(out < 0):
        raise RegistryError(f"{p.kind} {p.name!r} returned negative degrees")
    return out


REGISTRY = Registry("primitives")
relation = REGISTRY.relation
ternary = REGISTRY.ternary
superlative = REGISTRY.superlative
