"""Where registry entries come from, and loading the plugins that add them.

Three ways in, one record of each entry's origin:

- an installed distribution names, under the entry point group ``reclip_<kind>``, either an
  object (registered under the entry point's name) or a module whose import registers
  entries with the decorators; ``foundation.catalog.Catalog`` loads a kind's group on its
  first lookup;
- ``--plugins FILE.py`` or ``--plugins package.module`` (``load_plugin``) imports a file or
  module beside a script;
- anything else registered at run time (a script, a test) or by reclip itself ("built in").

A plugin that fails to import never takes reclip down: the failure is recorded (``failures``),
warned about once, and named in the message of a lookup that then fails.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import sys
import warnings
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, Sequence

from foundation.errors import PluginError, ReclipError

OWN_PACKAGES = ("foundation", "primitives", "grammar", "interpreter", "reclip")
BUILT_IN, DISTRIBUTION, FILE, MODULE, RUN_TIME = "built in", "distribution", "file", "module", "run time"


class PluginWarning(UserWarning):
    """An installed plugin failed to load; reclip goes on without it."""


@dataclass(frozen=True)
class Origin:
    """Where an entry came from: ``source`` (one of the constants above) and its particulars."""

    source: str
    name: str = ""        # "dist 1.0" for a distribution, the path of a file, a module's name
    group: str = ""       # the entry point group, for a distribution
    entry: str = ""       # the entry point as written: "mine = mypkg.isolation:my_method"

    def describe(self) -> str:
        if self.source == DISTRIBUTION:
            return f"distribution {self.name} (entry point {self.entry!r} in group {self.group})"
        return f"{self.source} {self.name}".strip()


@dataclass(frozen=True)
class PluginFailure:
    origin: Origin
    cause: str

    def message(self) -> str:
        return f"plugin from {self.origin.describe()} failed to load: {self.cause}"


_stack: list[list[Any]] = []          # [origin, entries registered while it loads]
_failures: list[PluginFailure] = []
_loaded: dict[str, ModuleType] = {}


@contextlib.contextmanager
def loading(origin: Origin) -> Iterator[list[Any]]:
    """Attribute every registration made inside the block to ``origin``; yields what was registered."""
    frame: list[Any] = [origin, []]
    _stack.append(frame)
    try:
        yield frame[1]
    finally:
        _stack.pop()


def origin_of(entry: Any) -> Origin:
    """The origin of an entry being registered now (and note it as the loading plugin's)."""
    if _stack:
        _stack[-1][1].append(entry)
        return _stack[-1][0]
    module = getattr(definition_target(entry), "__module__", None) or ""
    if module.split(".")[0] in OWN_PACKAGES:
        return Origin(BUILT_IN)
    return Origin(RUN_TIME, f"(module {module})" if module else "")


def definition_target(entry: Any) -> Any:
    """The function an entry wraps, by Python's ``__wrapped__`` convention (a primitive's ``fn``,
    a method's ``run``, a dataset format's ``load``), or the entry itself."""
    inner = getattr(entry, "__wrapped__", None)
    return inner if callable(inner) else entry


def definition(entry: Any) -> dict[str, Any]:
    """Module, file and line of an entry's definition, as catalogue's ``Registry.find`` gives them."""
    target = definition_target(entry)
    module = inspect.getmodule(target)
    file, line = None, None
    with contextlib.suppress(TypeError, OSError):
        file = inspect.getsourcefile(target)
        line = inspect.getsourcelines(target)[1]
    return {"module": module.__name__ if module else None, "file": file, "line_no": line}


def own_import_in_progress() -> bool:
    """Whether one of reclip's own modules is being imported right now.

    Loading plugins then would import them against half-initialised reclip modules (the
    circular-import crash of a plugin doing ``from reclip import relation``), so lookups made
    during reclip's own imports go without plugins and the next lookup loads them.
    """
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] in OWN_PACKAGES:
            spec = getattr(module, "__spec__", None)
            if spec is not None and getattr(spec, "_initializing", False):
                return True
    return False


def load_entry_points(groups: Sequence[str], add: Callable[[str, Any], None]) -> None:
    """Load every installed entry point of ``groups``.

    An entry naming a module registers by importing it; an entry naming an object that its
    import did not register (no decorator ran for it) is handed to ``add`` under the entry
    point's name. A failure is recorded and warned about, never raised.
    """
    for group in groups:
        for ep in metadata.entry_points(group=group):
            if ep.value in _loaded:
                continue
            dist = getattr(ep, "dist", None)
            name = f"{dist.name} {dist.version}" if dist is not None else "(unknown distribution)"
            origin = Origin(DISTRIBUTION, name, group, f"{ep.name} = {ep.value}")
            try:
                with loading(origin) as registered:
                    obj = ep.load()
                    if not isinstance(obj, ModuleType) and not _registered(obj, registered):
                        add(ep.name, obj)
                _loaded[ep.value] = obj
            except Exception as exc:
                record_failure(origin, exc)


def _registered(obj: Any, registered: list[Any]) -> bool:
    """Whether ``obj`` is (or is wrapped by) an entry registered already, now or before."""
    from foundation.catalog import registered_targets  # the catalogs sit above this module

    return any(definition_target(e) is obj or e is obj for e in registered) or obj in registered_targets()


def record_failure(origin: Origin, exc: BaseException) -> PluginFailure:
    cause = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    failure = PluginFailure(origin, cause)
    if failure not in _failures:
        _failures.append(failure)
        warnings.warn(failure.message(), PluginWarning, stacklevel=2)
    return failure


def failures(groups: Sequence[str] | None = None) -> list[PluginFailure]:
    """Plugins that failed to load (of the entry point ``groups``; all when None)."""
    return [f for f in _failures if groups is None or f.origin.group in groups]


def load_plugin(spec: str) -> ModuleType:
    """Import a plugin given as a ``.py`` file path or a dotted module name (once)."""
    path = Path(spec)
    is_file = spec.endswith(".py") or path.exists()
    key = str(path.resolve()) if is_file else spec
    if key not in _loaded:
        origin = Origin(FILE, str(path)) if is_file else Origin(MODULE, spec)
        with loading(origin):
            _loaded[key] = _import_file(path) if is_file else _import_module(spec)
    return _loaded[key]


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise PluginError(f"plugin file not found: {path}")
    name = f"reclip_plugin_{path.stem}_{abs(hash(str(path.resolve()))) % 10**8}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import plugin {path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise PluginError(f"plugin {path}, line {exc.lineno}: syntax error: {exc.msg}") from None
    except ReclipError as exc:
        del sys.modules[name]
        raise PluginError(f"plugin {path}: {exc}") from None
    except Exception as exc:
        del sys.modules[name]
        raise PluginError(f"plugin {path} failed while importing: {type(exc).__name__}: {exc}"
                          f"{_where(exc, path)}") from exc
    return module


def _import_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise PluginError(f"plugin module {name!r} not found (give a .py file path or an importable module)") from None
        raise PluginError(f"plugin {name} failed while importing: {exc}") from exc
    except ReclipError as exc:
        raise PluginError(f"plugin {name}: {exc}") from None
    except Exception as exc:
        raise PluginError(f"plugin {name} failed while importing: {type(exc).__name__}: {exc}") from exc


def _where(exc: BaseException, path: Path) -> str:
    """', line N' of the plugin file where the exception was raised, if it was."""
    tb, line = exc.__traceback__, None
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" (at line {line})" if line else ""
