"""The shared base of every reclip package: the error types and the registry class.

It sits at the bottom of the import graph (below ``primitives``), so the primitives, the
compiler, the interpreter and reclip's own extension points all register and fail the
same way. It knows no relation, model or dataset.
"""

from foundation.errors import PluginError, RegistryError, ReclipError
from foundation.catalog import CATALOGS, Catalog
from foundation.plugins import Origin, PluginFailure, failures, load_plugin

__all__ = [
    "CATALOGS", "Catalog", "Origin", "PluginError", "PluginFailure", "ReclipError", "RegistryError",
    "failures", "load_plugin",
]
