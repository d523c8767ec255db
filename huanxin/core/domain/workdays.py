"""China's working-day calendar: statutory holidays and the weekend days moved to work (调休).

The State Council publishes each year's schedule in a notice of the General Office; the data files in
``huanxin/core/data/calendar/<year>.toml`` copy it. Deadlines such as "3 working days to accept"
are counted on this calendar. A year with no file is treated as Monday–Friday only, and
:func:`WorkCalendar.covers` tells callers whether a date's year is known.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CALENDAR_DIR = Path(__file__).resolve().parent.parent / "data" / "calendar"


@dataclass(frozen=True)
class WorkCalendar:
    """Holidays and adjusted working days for the years it covers."""

    holidays: frozenset[datetime.date] = field(default_factory=frozenset)
    workdays: frozenset[datetime.date] = field(default_factory=frozenset)
    years: frozenset[int] = field(default_factory=frozenset)

    def covers(self, day: datetime.date) -> bool:
        """Whether the official schedule for ``day``'s year is loaded."""
        return day.year in self.years

    def is_working_day(self, day: datetime.date) -> bool:
        """A working day: not a holiday, and either a weekday or a weekend day moved to work."""
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        return day.weekday() < 5

    def add_working_days(self, start: datetime.date, days: int) -> datetime.date:
        """The date ``days`` working days after ``start`` (the start day itself is not counted).

        A deadline of "3 working days" for something received on a Friday before a long holiday ends
        on the third working day after it; a negative count goes backwards.
        """
        step = 1 if days >= 0 else -1
        remaining = abs(days)
        current = start
        while remaining:
            current += datetime.timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end ≤ start)."""
        count = 0
        current = start
        while current < end:
            current += datetime.timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


def parse_calendar_file(text: str) -> tuple[int, set[datetime.date], set[datetime.date]]:
    """Read one year's TOML file: its year, its days off and its adjusted working days."""
    data = tomllib.loads(text)
    year = int(data["year"])
    holidays = {datetime.date.fromisoformat(day) for block in data.get("holidays", []) for day in block["days"]}
    workdays = {datetime.date.fromisoformat(entry["date"]) for entry in data.get("workdays", [])}
    for day in holidays | workdays:
        if day.year != year:
            raise ValueError(f"{day} does not belong to the calendar year {year}")
    if holidays & workdays:
        raise ValueError(f"days both off and working in {year}: {sorted(holidays & workdays)}")
    return year, holidays, workdays


def load_calendar(paths: Iterable[Path] | None = None) -> WorkCalendar:
    """Build the calendar from the yearly data files (all of them by default)."""
    files = sorted(CALENDAR_DIR.glob("*.toml")) if paths is None else list(paths)
    holidays: set[datetime.date] = set()
    workdays: set[datetime.date] = set()
    years: set[int] = set()
    for path in files:
        year, year_holidays, year_workdays = parse_calendar_file(path.read_text(encoding="utf-8"))
        years.add(year)
        holidays |= year_holidays
        workdays |= year_workdays
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years))


_DEFAULT: WorkCalendar | None = None


def default_calendar() -> WorkCalendar:
    """The calendar from the shipped data files, loaded once per process."""
    global _DEFAULT  # noqa: PLW0603 - a process-wide cache of immutable data
    if _DEFAULT is None:
        _DEFAULT = load_calendar()
    return _DEFAULT


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """``start`` plus ``days`` working days on the official calendar."""
    return default_calendar().add_working_days(start, days)


def is_working_day(day: datetime.date) -> bool:
    """Whether ``day`` is a working day on the official calendar."""
    return default_calendar().is_working_day(day)
