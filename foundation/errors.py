"""The project's error hierarchy.

Every error a user can cause is a ``ReclipError`` (a ``ValueError``), so callers can
catch one type, and every message names the problem.
"""

from __future__ import annotations


class ReclipError(ValueError):
    """Base class of every error reclip raises on bad input."""


class RegistryError(ReclipError):
    """A registered name is unknown or registered twice, or an entry is malformed."""


class PluginError(ReclipError):
    """A plugin (a file, a module or an installed distribution) that cannot be found or fails to import."""
