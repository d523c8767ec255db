"""Where payables come from, and how the bank's answer goes back to them.

Settlement pays what a source hands it — a merchant's consumer-goods period, a car subsidy, a top-up — and
imports none of the apps that hand it money. Each source registers itself once, by a kind string, in a
``payment_sources`` module of its app (``SettlementConfig.ready()`` imports every installed app's), the way
periodic jobs are registered in ``jobs``::

    from huanxin.settlement.sources import PaymentResult, register

    def _paid(result: PaymentResult) -> None:
        Application.objects.filter(pk=result.source_ref).update(status="paid", paid_at=result.at)

    register("car-subsidy", label="汽车以旧换新补贴", purpose="汽车以旧换新补贴", on_paid=_paid, on_failed=...)

The callbacks run in the transaction that records the bank's answer: when one raises, nothing of that import
is recorded (the finance officer sees the error and can import the file again).

A failure is not final: the payable goes back to the queue and is paid in the next batch, to the payee's
account as it stands then (``PaymentResult.requeued``). ``on_failed`` tells the source so that it can show
it (e.g. "the bank refused the account, correct it"); it must not give the money back or request the payment
again, or the same subsidy would be paid twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

# Kinds the platform plans for; registering any other kind is allowed (a kind is a short lowercase word).
CONSUMER_SUBSIDY = "consumer-subsidy"


@dataclass(frozen=True)
class PaymentResult:
    """What the bank answered for one payable's payment line, as its source receives it."""

    source_kind: str
    source_ref: str
    payable_id: int
    payee_id: int | None
    line_id: str
    amount_fen: int
    paid: bool
    bank_reference: str
    failure_reason: str
    at: datetime.datetime
    # A failed payment is queued again for the next batch (never by the source): always True when not paid.
    requeued: bool = False


Callback = Callable[[PaymentResult], None]


def _ignore(result: PaymentResult) -> None:
    """A source that needs no word back (the payable's own status says it)."""


@dataclass(frozen=True)
class Source:
    kind: str
    label: str
    purpose: str
    on_paid: Callback = _ignore
    on_failed: Callback = _ignore


# In registration order.
SOURCES: dict[str, Source] = {}


def _valid_kind(kind: str) -> bool:
    return 0 < len(kind) <= 40 and kind == kind.lower() and all(c.isalnum() or c == "-" for c in kind)


def register(
    kind: str,
    *,
    label: str,
    purpose: str,
    on_paid: Callback | None = None,
    on_failed: Callback | None = None,
) -> Source:
    """Add a source of payables; a kind is registered once (a second, different source under it is a mistake).

    ``label`` names the source on pages; ``purpose`` is the 用途 of its lines in the bank's payment file.
    """
    if not _valid_kind(kind):
        raise ValueError(f"source kind {kind!r}: lowercase letters, digits and hyphens, at most 40")
    if not label or not purpose or len(purpose) > 100:
        raise ValueError(f"source {kind!r} needs a label and a purpose of at most 100 characters")
    source = Source(kind, label, purpose, on_paid or _ignore, on_failed or _ignore)
    known = SOURCES.get(kind)
    if known is not None:
        if known != source:
            raise ValueError(f"source {kind!r} is already registered with another definition")
        return known
    SOURCES[kind] = source
    return source


def get(kind: str) -> Source | None:
    return SOURCES.get(kind)


def label(kind: str) -> str:
    """The source's Chinese name, or its kind when no app registers it (any more)."""
    source = SOURCES.get(kind)
    return source.label if source else kind


def listening_kinds() -> list[str]:
    """The kinds whose source wants to hear the bank's answer (registered a callback)."""
    return [s.kind for s in SOURCES.values() if s.on_paid is not _ignore or s.on_failed is not _ignore]


def notify(result: PaymentResult) -> None:
    """Tell the payable's source what the bank answered (called inside the import's transaction)."""
    source = SOURCES.get(result.source_kind)
    if source is None:
        return
    (source.on_paid if result.paid else source.on_failed)(result)
