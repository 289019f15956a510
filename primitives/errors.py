"""The project's error hierarchy.

Every error a user can cause is a ``ReclipError`` (a ``ValueError``), so callers can
catch one type, and every message names the problem. It lives in ``primitives`` only
because that is the bottom of the import graph: every other package may use it.
"""

from __future__ import annotations


class ReclipError(ValueError):
    """Base class of every error reclip raises on bad input."""


class BoxError(ReclipError):
    """A proposal box is malformed: wrong shape, NaN/infinite, reversed or empty."""


class RegistryError(ReclipError):
    """A primitive name is unknown or registered twice, or a primitive is malformed."""
