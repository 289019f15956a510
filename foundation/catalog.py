"""One registry API for every extension point, built on ``catalogue`` (as spaCy's is).

Relations, isolation methods, proposal sources, dataset formats and scorers each get one
``Catalog``: register by decorator under a name, look up by name, and a failed lookup
names what is available and the nearest names. Installed packages contribute through
the entry point group ``reclip_<kind>`` (catalogue's naming), naming an object or a
module whose import registers::

    [project.entry-points.reclip_isolation]
    mine = "mypkg.isolation:my_method"     # an object (decorated or not)
    more = "mypkg.more_methods"            # a module whose import registers

Entries live in ``catalogue.REGISTRY``; tests snapshot and restore that one dict. Each
entry's origin (built in, which distribution, which ``--plugins`` file) is kept beside it.
"""

from __future__ import annotations

import difflib
import re
import threading
from typing import Any, Callable, Generic, Iterator, TypeVar

import catalogue

from foundation.errors import RegistryError
from foundation.plugins import (
    Origin, definition, definition_target, failures, load_entry_points, origin_of, own_import_in_progress,
)

T = TypeVar("T")
NAMESPACE = "reclip"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
# Every public catalog by kind (the ones with entry points), for listings such as `reclip plugins`.
CATALOGS: dict[str, "Catalog[Any]"] = {}

_changes = 0   # bumped by every change to any catalog's entries
# Held while plugins load: a second thread's first lookup waits for them instead of seeing a
# catalog without them. Re-entrant, since a plugin's own registrations look entries up.
_PLUGIN_LOCK = threading.RLock()


def touch() -> None:
    """Say that entries changed behind the catalogs' backs (a test fixture restoring them)."""
    global _changes
    _changes += 1


def registered_targets() -> list[Any]:
    """The functions every public catalog's entries wrap (so an entry point naming one is not added twice)."""
    return [definition_target(e) for c in CATALOGS.values() for e in c.registered().values()]


class Catalog(Generic[T]):
    """Named entries of one kind (``"isolation"``, ``"proposals"``, ...).

    ``what`` is how an entry is called in messages ("isolation method"). ``accept`` turns an
    object offered by an entry point into an entry (or raises): a function for a kind whose
    entries are records. ``entry_points=False`` makes a private catalog that loads no plugins.
    ``old_groups`` are earlier names of the entry point group that still load.
    """

    def __init__(self, kind: str, what: str | None = None, *, accept: Callable[[str, Any], T] | None = None,
                 entry_points: bool = True, old_groups: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.what = what or kind
        self._catalogue = catalogue.create(NAMESPACE, kind, entry_points=False)
        self._accept = accept
        self.groups = (f"{NAMESPACE}_{kind}", *old_groups) if entry_points else ()
        self._plugins_loaded = not entry_points
        self._plugins_loading = False
        self.origins: dict[str, Origin] = {}
        # all() is asked on hot paths (the compiler, every lookup); scanning catalogue.REGISTRY
        # each time costs ~1.5 ms, so keep a snapshot and check it cheaply instead.
        self._snapshot: dict[str, T] = {}
        self._seen: int | None = None
        self._generation = 0
        self._seen_changes = -1
        if entry_points:
            CATALOGS[kind] = self

    @property
    def entry_point_group(self) -> str:
        return self.groups[0] if self.groups else ""

    # -- registering -------------------------------------------------------------
    def add(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Register ``entry`` under ``name``; a second entry under one name needs ``replace``."""
        if not isinstance(name, str) or not _NAME.match(name) or not name.isascii():
            raise RegistryError(
                f"{self.what} name {name!r} must be ASCII letters, digits, '_', '-' or '.'"
            )
        # Registered entries only: asking for plugins here would load them in the middle of
        # the import that registers reclip's own entries.
        if name in self.registered() and not replace:
            raise RegistryError(
                f"{self.what} {name!r} is already registered; pass replace=True to redefine it"
            )
        self._catalogue.register(name, func=entry)
        self.origins[name] = origin_of(entry)
        touch()
        return entry

    def register(self, name: str, *, replace: bool = False) -> Callable[[T], T]:
        """Decorator form of ``add``."""

        def decorate(entry: T) -> T:
            return self.add(name, entry, replace=replace)

        return decorate

    def remove(self, name: str) -> None:
        self.get(name)
        del catalogue.REGISTRY[(NAMESPACE, self.kind, name)]
        self.origins.pop(name, None)
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
        """The message for a failed lookup: what is available, the nearest names, failed plugins."""
        names = self.names()
        near = self.closest(name)
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        broken = "".join(f"; note: {f.message()}" for f in failures(self.groups))
        return f"unknown {self.what} {name!r}{hint} (available: {', '.join(names) or 'none'}){broken}"

    def closest(self, name: str, n: int = 3) -> list[str]:
        return difflib.get_close_matches(str(name), self.names(), n=n, cutoff=0.5)

    def names(self) -> list[str]:
        """Registered names in registration order."""
        return list(self.all())

    def all(self) -> dict[str, T]:
        """Name -> entry, in registration order, installed plugins loaded first."""
        self.load_plugins()
        return dict(self.registered())

    def registered(self) -> dict[str, T]:
        """Name -> entry as registered so far, without loading plugins."""
        if not self._fresh():
            self._rescan()
        return self._snapshot

    def load_plugins(self) -> None:
        """Load the installed plugins of this kind, once (not while reclip itself is importing)."""
        if self._plugins_loaded or own_import_in_progress():
            return
        with _PLUGIN_LOCK:
            if self._plugins_loaded or self._plugins_loading:   # done meanwhile, or this thread is loading
                return
            self._plugins_loading = True
            try:
                load_entry_points(self.groups, self._add_offered)
            finally:
                self._plugins_loaded, self._plugins_loading = True, False

    def _add_offered(self, name: str, obj: Any) -> None:
        self.add(name, self._accept(name, obj) if self._accept else obj)

    def where(self, name: str) -> dict[str, Any]:
        """An entry's origin and definition (module, file, line), for listings."""
        entry = self.get(name)
        return {"origin": self.origins.get(name, Origin("run time")), **definition(entry)}

    def _fresh(self) -> bool:
        """Whether the snapshot still holds catalogue.REGISTRY's entries.

        Entries change only through ``add`` / ``remove`` or a restore that calls ``touch()``
        (the test fixture), each of which bumps ``_changes``; the size check also catches a
        write straight into catalogue.
        """
        return self._seen == len(catalogue.REGISTRY) and self._seen_changes == _changes

    def _rescan(self) -> None:
        ns = (NAMESPACE, self.kind)
        self._snapshot = {k[2]: v for k, v in catalogue.REGISTRY.items() if len(k) == 3 and k[:2] == ns}
        self._seen = len(catalogue.REGISTRY)
        self._seen_changes = _changes
        self._generation += 1

    @property
    def generation(self) -> int:
        """A number that changes whenever the entries do (also when a test fixture restores
        them behind our back): a cheap key for caches derived from the entries."""
        self.load_plugins()
        if not self._fresh():
            self._rescan()
        return self._generation

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())
