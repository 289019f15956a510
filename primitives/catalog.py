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


class Catalog(Generic[T]):
    """Named entries of one kind (``"isolation"``, ``"proposals"``, ...).

    ``what`` is how an entry is called in messages ("isolation method").
    """

    def __init__(self, kind: str, what: str | None = None) -> None:
        self.kind = kind
        self.what = what or kind
        self._catalogue = catalogue.create(NAMESPACE, kind, entry_points=True)

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
        return entry

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator form of ``add``."""

        def decorate(entry: T) -> T:
            return self.add(name, entry, replace=replace)

        return decorate

    def remove(self, name: str) -> None:
        self.get(name)
        catalogue._remove((NAMESPACE, self.kind, name))

    # -- looking up --------------------------------------------------------------
    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._catalogue

    def get(self, name: str) -> T:
        if name not in self:
            raise RegistryError(self.unknown(name))
        return self._catalogue.get(name)

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
        return self._catalogue.get_all()

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
