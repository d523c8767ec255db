"""Pure rules of claiming and returning, over plain values."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass


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


class ReturnRefused(ValueError):
    """A return that the figures do not allow; ``code`` is stable, the message is for the clerk."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReturnQuote:
    """The figures of a return before it is committed (and as recorded once it is).

    ``new_price_fen`` and ``new_subsidy_fen`` are what the customer keeps buying and the subsidy on it
    (both 0 for a whole-order return); ``refund_fen`` is owed to the customer; ``clawback_fen`` goes back to
    the budget and is owed by the merchant; ``quota_released`` says whether the person gets the quota back.
    """

    kind: str
    new_price_fen: int
    new_subsidy_fen: int
    refund_fen: int
    clawback_fen: int
    quota_released: bool


def whole_return(*, still_paid_fen: int, subsidy_now_fen: int, quota_restored_on_return: bool) -> ReturnQuote:
    """A whole-order return (整单退货): the customer gets back everything they still pay (what they paid at
    the till less any earlier refund), the subsidy the budget still carries for the sale goes back to it,
    and the quota comes back only if the programme says so."""
    return ReturnQuote(
        kind="full",
        new_price_fen=0,
        new_subsidy_fen=0,
        refund_fen=still_paid_fen,
        clawback_fen=subsidy_now_fen,
        quota_released=quota_restored_on_return,
    )


def partial_return(
    *, price_fen: int, subsidy_fen: int, subsidy_now_fen: int, new_price_fen: int, subsidy_at_new_price: int
) -> ReturnQuote:
    """A partial return (部分退货): the clerk gives the new final price (before subsidy). The customer's
    subsidy is the rule's amount on that price, never more than the subsidy they got; they get back the
    difference between what they paid and what they now pay. The budget takes back what it still carries
    beyond the new subsidy (``subsidy_now_fen`` is less than ``subsidy_fen`` only when a rejected hold
    already took it back), owed by the merchant. The customer keeps the item, so the quota stays used."""
    if isinstance(new_price_fen, bool) or not isinstance(new_price_fen, int) or new_price_fen <= 0:
        raise ReturnRefused("invalid_price", "新的最终成交价应为大于0的整数（分）")
    if new_price_fen >= price_fen:
        raise ReturnRefused("price_not_lower", "新的最终成交价应低于原成交价")
    new_subsidy = max(0, min(subsidy_at_new_price, subsidy_fen))
    refund = (price_fen - subsidy_fen) - (new_price_fen - new_subsidy)
    if refund <= 0:
        # The subsidy falls by more than the price (e.g. the new price is below the rule's minimum), so the
        # customer would owe money: that is not a return, it is a whole-order return and a new sale.
        raise ReturnRefused("refund_not_positive", "按新价格重算补贴后顾客无退款，请改为整单退货")
    return ReturnQuote(
        kind="partial",
        new_price_fen=new_price_fen,
        new_subsidy_fen=new_subsidy,
        refund_fen=refund,
        clawback_fen=max(0, subsidy_now_fen - new_subsidy),
        quota_released=False,
    )
