"""Figures by group: per-row values summed per group (e.g. expression kind), as shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence


@dataclass
class GroupedShares:
    """Rows counted per group, and per named value (1/0 for "correct", a chance level...)
    its sum per group; ``share`` is the mean of a value over a group or over all rows."""

    total: dict[str, int] = field(default_factory=dict)
    sums: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, group: str, values: Mapping[str, float]) -> None:
        self.total[group] = self.total.get(group, 0) + 1
        for name, value in values.items():
            per_group = self.sums.setdefault(name, {})
            per_group[group] = per_group.get(group, 0) + value

    @property
    def n(self) -> int:
        return sum(self.total.values())

    def share(self, name: str, group: str | None = None) -> float:
        """The mean of value ``name`` over ``group``'s rows (all rows with None; 0 when empty)."""
        sums = self.sums.get(name, {})
        if group is None:
            return sum(sums.values()) / self.n if self.n else 0.0
        return sums.get(group, 0) / self.total[group]

    def groups(self, order: Sequence[str] = ()) -> list[str]:
        """The groups seen: those in ``order`` first, in that order, then the others sorted."""
        known = [g for g in order if g in self.total]
        return known + sorted(g for g in self.total if g not in order)
