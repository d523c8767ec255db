"""Pure rules of claiming and returning, over plain values."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

# The reasons of a quote decision that a claim checks: the purchase is not known yet, so price and grade
# are decided at checkout, but category, quota and the other-province exclusion are decided now.
CLAIM_REASON_CODES = frozenset({"category", "quota", "other_region"})


@dataclass(frozen=True)
class ClaimReason:
    code: str
    passed: bool
    message: str


def claim_reasons(decision_reasons: Iterable[dict[str, object]]) -> list[ClaimReason]:
    """The reasons of a decision that matter when a qualification is claimed, in the engine's order."""
    return [
        ClaimReason(str(r["code"]), bool(r["passed"]), str(r["message"]))
        for r in decision_reasons
        if r["code"] in CLAIM_REASON_CODES
    ]


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


def slice_order(start: int, count: int) -> list[int]:
    """Try slices starting at the claimant's own, then the others in turn (fall-through before refusal)."""
    return [(start + offset) % count for offset in range(count)] if count else []


@dataclass(frozen=True)
class ReturnAmounts:
    """What a return reverses: the subsidy given back to the pool and owed by the merchant."""

    reversed_fen: int
    full: bool


def return_amounts(
    *,
    price_fen: int,
    subsidy_fen: int,
    returned_fen: int,
    refunded_before_fen: int,
    refund_fen: int,
    subsidy_at_price: int | None,
) -> ReturnAmounts:
    """Reverse the whole remaining subsidy on a full refund; on a partial one, the subsidy recomputed on the
    lower price replaces the one given (never more than was given)."""
    remaining_price = price_fen - refunded_before_fen - refund_fen
    if remaining_price < 0:
        raise ValueError("refund exceeds what the customer paid")
    still_given = subsidy_fen - returned_fen
    if remaining_price == 0 or subsidy_at_price is None:
        return ReturnAmounts(reversed_fen=still_given, full=True)
    new_subsidy = min(subsidy_at_price, still_given)
    return ReturnAmounts(reversed_fen=still_given - new_subsidy, full=False)
