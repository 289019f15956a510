"""The primitives' own error; the base errors live in ``foundation``."""

from __future__ import annotations

from foundation.errors import ReclipError


class BoxError(ReclipError):
    """A proposal box is malformed: wrong shape, NaN/infinite, reversed or empty."""
