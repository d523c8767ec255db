"""Pure rules of claiming, over plain values."""

from __future__ import annotations

import datetime
from collections.abc import Iterable


def qualification_expiry(
    *,
    issued_at: datetime.datetime,
    valid_days: int,
    programme_ends_on: datetime.date | None,
    zone: datetime.tzinfo,
) -> datetime.datetime:
    """When a qualification stops being usable: ``valid_days`` after it was issued, but never after the
    programme's last day (inclusive, in the programme's time zone) — money of a finished programme cannot
    be spent, so a qualification must not promise it."""
    expires_at = issued_at + datetime.timedelta(days=valid_days)
    if programme_ends_on is None:
        return expires_at
    day_after_end = programme_ends_on + datetime.timedelta(days=1)
    programme_end = datetime.datetime.combine(day_after_end, datetime.time.min, tzinfo=zone)
    return min(expires_at, programme_end)


def free_slot(taken: Iterable[int], quota: int) -> int | None:
    """The lowest quota slot not yet used, or None when the person has used the whole quota."""
    used = set(taken)
    return next((slot for slot in range(quota) if slot not in used), None)
