"""One registry API for every extension point, built on ``catalogue`` (as spaCy's is).

Relations, isolation methods, proposal sources and dataset loaders each get one
``Catalog``: register by decorator under a name, look up by name, and a failed lookup
names what is available and the nearest names. Installed packages contribute through
the entry point group ``reclip_<kind>`` (catalogue's naming), e.g.::

    [project.entry-points.reclip_isolation]
    mine = "mypkg.isolation:my_method"

Entries live in ``catalogue.REGISTRY``; tests snapshot and restore that one dict.
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Generic, Iterator, TypeVar

import catalogue

from primitives.errors import RegistryError

T = TypeVar("T")
NAMESPACE = "reclip"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")


_changes = 0   # bumped by every change to any catalog's entries


def touch() -> None:
    """Say that entries changed behind the catalogs' backs (a test fixture restoring them)."""
    global _changes
    _changes += 1


class Catalog(Generic[T]):
    """Named entries of one kind (``"isolation"``, ``"proposals"``, ...).

    ``what`` is how an entry is called in messages ("isolation method").
    """

    def __init__(self, kind: str, what: str | None = None) -> None:
        self.kind = kind
        self.what = what or kind
        self._catalogue = catalogue.create(NAMESPACE, kind, entry_points=True)
        # all() is asked on hot paths (the compiler, every lookup); catalogue's own
        # get_all scans every namespace and every entry point each time (~1.5 ms), so
        # keep a snapshot and check it cheaply against catalogue.REGISTRY instead.
        self._snapshot: dict[str, T] = {}
        self._seen: tuple[int, tuple[tuple[tuple[str, ...], T], ...]] | None = None
        self._generation = 0
        self._seen_changes = -1
        self._entry_points: dict[str, T] | None = None

    @property
    def entry_point_group(self) -> str:
        return self._catalogue.entry_point_namespace

    # -- registering -------------------------------------------------------------
    def add(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Register ``entry`` under ``name``; a second entry under one name needs ``replace``."""
        if not isinstance(name, str) or not _NAME.match(name) or not name.isascii():
            raise RegistryError(
                f"{self.what} name {name!r} must be ASCII letters, digits, '_', '-' or '.'"
            )
        if name in self and not replace:
            raise RegistryError(
                f"{self.what} {name!r} is already registered; pass replace=True to redefine it"
            )
        self._catalogue.register(name, func=entry)
        touch()
        return entry

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator form of ``add``."""

        def decorate(entry: T) -> T:
            return self.add(name, entry, replace=replace)

        return decorate

    def remove(self, name: str) -> None:
        self.get(name)
        catalogue._remove((NAMESPACE, self.kind, name))
        touch()

    # -- looking up --------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.all()

    def get(self, name: str) -> T:
        entries = self.all()
        if name not in entries:
            raise RegistryError(self.unknown(name))
        return entries[name]

    def unknown(self, name: str) -> str:
        """The message for a failed lookup: what is available and the nearest names."""
        names = self.names()
        near = self.closest(name)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        return f"unknown {self.what} {name!r}{hint} (available: {', '.join(names) or 'none'})"

    def closest(self, name: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(str(name), self.names(), n=n, cutoff=0.5)

    def names(self) -> list[str]:
        """Registered names in registration order (entry points after built-ins)."""
        return list(self.all())

    def all(self) -> dict[str, T]:
        """Name -> entry: registered ones in registration order, then entry points."""
        if not self._fresh():
            self._rescan()
        return dict(self._snapshot)

    def _fresh(self) -> bool:
        """Whether catalogue.REGISTRY still holds exactly the snapshot's entries.

        Entries change only through ``add`` / ``remove`` or a restore that calls ``touch()``
        (the test fixture), each of which bumps ``_changes``; the size check also catches a
        write straight into catalogue. Checking every entry by identity on each lookup was
        5% of the compiler's time.
        """
        seen = self._seen
        return seen is not None and seen[0] == len(catalogue.REGISTRY) and self._seen_changes == _changes

    def _rescan(self) -> None:
        ns = (NAMESPACE, self.kind)
        found = [(k, v) for k, v in catalogue.REGISTRY.items() if len(k) == 3 and k[:2] == ns]
        if self._entry_points is None:  # catalogue reads the installed entry points once
            self._entry_points = self._catalogue.get_entry_points()
        snapshot = {k[2]: v for k, v in found}
        for name, entry in self._entry_points.items():
            snapshot.setdefault(name, entry)
        self._snapshot = snapshot
        self._seen = (len(catalogue.REGISTRY), tuple(found))
        self._seen_changes = _changes
        self._generation += 1

    @property
    def generation(self) -> int:
        """A number that changes whenever the entries do (also when a test fixture restores
        them behind our back): a cheap key for caches derived from the entries."""
        if not self._fresh():
            self._rescan()
        return self._generation

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
