"""Date cut-offs as the notices write them: "含当日" (on or before, on or after) or strictly before/after.

A catalogue names the kind of cut-off in the key itself (``registered_on_or_before`` versus
``registered_before``) so that the difference between 商消费函〔2024〕75号's "含当日" and a plain "before"
can be read off the file, not guessed from code.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from huanxin.policy.domain.config import Table, refuse

# Suffix → (the limit is an upper bound, the cut-off day itself is allowed)
_SUFFIXES: dict[str, tuple[bool, bool]] = {
    "on_or_before": (True, True),
    "before": (True, False),
    "on_or_after": (False, True),
    "after": (False, False),
}


class DateLimit(NamedTuple):
    """One cut-off day, as an upper or lower bound, with or without the day itself."""

    day: date
    upper: bool
    inclusive: bool

    def admits(self, value: date) -> bool:
        """Whether value falls on the allowed side of the cut-off."""
        if self.upper:
            return value <= self.day if self.inclusive else value < self.day
        return value >= self.day if self.inclusive else value > self.day

    def describe(self) -> str:
        """The cut-off in Chinese, saying explicitly whether the day itself counts."""
        day = self.day.isoformat()
        if self.upper:
            return f"不晚于 {day}（含当日）" if self.inclusive else f"早于 {day}（不含当日）"
        return f"不早于 {day}（含当日）" if self.inclusive else f"晚于 {day}（不含当日）"


def admits_all(limits: tuple[DateLimit, ...], value: date) -> bool:
    """Whether value satisfies every cut-off."""
    return all(limit.admits(value) for limit in limits)


def describe_all(limits: tuple[DateLimit, ...]) -> str:
    """All cut-offs in Chinese, joined."""
    return "、".join(limit.describe() for limit in limits)


def read_limits(table: Table, stem: str) -> tuple[DateLimit, ...]:
    """Read the cut-offs written as <stem>_on_or_before, <stem>_before, <stem>_on_or_after, <stem>_after."""
    limits: list[DateLimit] = []
    for suffix, (upper, inclusive) in _SUFFIXES.items():
        day = table.optional_day(f"{stem}_{suffix}")
        if day is not None:
            limits.append(DateLimit(day, upper, inclusive))
    if sum(limit.upper for limit in limits) > 1 or sum(not limit.upper for limit in limits) > 1:
        raise refuse(table.where(stem), "at most one upper and one lower cut-off")
    return tuple(limits)


def read_limit_tables(table: Table, stem: str, keys: tuple[str, ...]) -> tuple[dict[str, DateLimit], str] | None:
    """Read one per-key cut-off table, e.g. registered_before = {gasoline = …, nev = …}; None when absent."""
    found: tuple[dict[str, DateLimit], str] | None = None
    for suffix, (upper, inclusive) in _SUFFIXES.items():
        sub = table.optional_table(f"{stem}_{suffix}")
        if sub is None:
            continue
        if found is not None:
            raise refuse(table.where(stem), "give one cut-off table per kind of date, not several")
        limits = {key: DateLimit(sub.day(key), upper, inclusive) for key in keys if sub.has(key)}
        sub.finish()
        found = (limits, suffix)
    return found
