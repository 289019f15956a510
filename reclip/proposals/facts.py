"""What a proposal source declares in its registry entry: what it gives (boxes, masks,
labels, scores), what it needs (a weights file, a device) and its options, each with its
type, range and default. ``build_source`` checks a spec's options against them, the help
texts list them, and the evaluation asks ``gives`` instead of knowing names.

A factory carries its facts as the attribute ``facts`` (``declare(factory, SourceFacts(...))``);
a user's source that declares none gives boxes and takes the options its signature names.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from primitives import ReclipError

GIVES = ("boxes", "masks", "labels", "scores")


class SourceOptionError(ReclipError):
    """A spec option the source does not declare, of the wrong type, or out of its range."""


@dataclass(frozen=True)
class SourceOption:
    """One option: ``kind`` is int, float, bool or str; ``low``/``high`` bound numbers (inclusive)."""

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    help: str = ""

    def check(self, value: Any, where: str) -> Any:
        """``value`` as this option's type, else a SourceOptionError saying what it must be."""
        must = f"{where}: option {self.name!r} must be {self._describe()}, got {value!r}"
        if self.kind is bool:
            if not isinstance(value, bool):
                raise SourceOptionError(must)
            return value
        if self.kind is str:
            return str(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SourceOptionError(must)
        if self.kind is int and not isinstance(value, int):
            raise SourceOptionError(must)
        if not math.isfinite(value) or (self.low is not None and value < self.low) \
                or (self.high is not None and value > self.high):
            raise SourceOptionError(must)
        return self.kind(value)

    def _describe(self) -> str:
        kind = {int: "a whole number", float: "a number", bool: "true or false"}.get(self.kind, "text")
        if self.low is not None and self.high is not None:
            return f"{kind} from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{kind} of at least {self.low:g}"
        return kind

    def __str__(self) -> str:
        return f"{self.name}={self.default}"


@dataclass(frozen=True)
class SourceFacts:
    """``gives``: a subset of GIVES; ``needs``: what a user must have ("a weights file", "a
    device"); ``arg``: the ARG after ':' (``None``: takes none) and whether it is required;
    ``options``: the declared options, or ``None`` (undeclared: its signature's names)."""

    gives: frozenset[str] = frozenset({"boxes"})
    needs: tuple[str, ...] = ()
    arg: str | None = None
    arg_required: bool = False
    options: tuple[SourceOption, ...] | None = None
    summary: str = ""
    examples: tuple[str, ...] = field(default=())

    def option(self, name: str) -> SourceOption | None:
        return next((o for o in self.options or () if o.name == name), None)

    def usage(self, name: str) -> str:
        """``name[:ARG]`` as a help text writes it."""
        if self.arg is None:
            return name
        return f"{name}:{self.arg}" if self.arg_required else f"{name}[:{self.arg}]"


def declare(factory: Callable, facts: SourceFacts) -> Callable:
    """Attach ``facts`` to a source factory (a function or a class) and return it."""
    factory.facts = facts  # type: ignore[attr-defined]
    return factory


def facts_of(factory: Any) -> SourceFacts:
    """A factory's declared facts; undeclared: boxes, options from its signature."""
    facts = getattr(factory, "facts", None)
    return facts if isinstance(facts, SourceFacts) else SourceFacts()
