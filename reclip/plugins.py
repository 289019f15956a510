"""Loading users' relation modules: ``--plugins my_relations.py`` and entry points.

A plugin is an ordinary Python module whose import registers primitives with the
decorators ``reclip.relation``, ``reclip.ternary`` and ``reclip.superlative``::

    from reclip import relation

    @relation("touching", words=["touching", "against"])
    def touching(a, b):
        ...

Installed packages can offer such modules through the entry point group
``reclip.relations`` (``[project.entry-points."reclip.relations"] mine = "pkg.relations"``).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path
from types import ModuleType

from primitives import ReclipError

ENTRY_POINT_GROUP = "reclip.relations"

_loaded: dict[str, ModuleType] = {}


class PluginError(ReclipError):
    """A plugin module that cannot be found or fails while it is imported."""


def load_plugin(spec: str) -> ModuleType:
    """Import a plugin given as a ``.py`` file path or a dotted module name (once)."""
    path = Path(spec)
    key = str(path.resolve()) if spec.endswith(".py") or path.exists() else spec
    if key in _loaded:
        return _loaded[key]
    if spec.endswith(".py") or path.exists():
        module = _import_file(path)
    else:
        module = _import_module(spec)
    _loaded[key] = module
    return module


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Import every module installed under the entry point ``group``; their names."""
    names = []
    for ep in metadata.entry_points(group=group):
        if ep.value in _loaded:
            continue
        try:
            _loaded[ep.value] = ep.load()
        except Exception as exc:
            raise PluginError(
                f"relation plugin {ep.name!r} ({ep.value}, entry point group {group}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        names.append(ep.name)
    return names


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
