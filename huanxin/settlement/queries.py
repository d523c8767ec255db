"""The read side of settlement: merchant statements, the reconciliation report, the SLA board."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from huanxin.accounts.models import Organisation
from huanxin.accounts.roles import FINANCE_OFFICERS, FINANCE_READERS, MERCHANT_MANAGERS
from huanxin.core.domain.money import format_yuan
from huanxin.core.domain.workdays import add_working_days
from huanxin.core.errors import ForbiddenError, NotFoundError
from huanxin.core.permissions import has_role, organisations_for
from huanxin.settlement.models import BankFile, Payable, Payee, PaymentBatch, PaymentLine, SettlementPeriod
from huanxin.subsidies import queries as subsidies_queries
from huanxin.subsidies.models import RedemptionHold

# Consumer goods are paid within 30 working days of the period's end (2026 processing timelines).
PAYMENT_DEADLINE_WORKING_DAYS = 30


def is_finance(user: Any) -> bool:
    """Settlement is read by finance officers, auditors and administrators."""
    return has_role(user, *FINANCE_READERS)


def payables_visible_to(user: Any) -> QuerySet[Payable]:
    """A merchant's managers see its payables; finance, auditors and administrators see all."""
    queryset = Payable.objects.select_related("period", "programme", "recipient", "payee")
    if is_finance(user):
        return queryset
    return queryset.filter(recipient_id__in=organisations_for(user, *MERCHANT_MANAGERS))


def may_download_bank_files(user: Any) -> bool:
    """Payment files hold full account numbers: only finance officers download them (auditors read the masked
    lines)."""
    return has_role(user, *FINANCE_OFFICERS)


def get_bank_file_for_user(user: Any, number: str, file_format: str) -> BankFile:
    """A batch's payment file (it holds full account numbers): finance officers only."""
    if not may_download_bank_files(user):
        raise ForbiddenError("只有财政人员可以下载支付文件", code="finance_required")
    bank_file = BankFile.objects.filter(batch__number=number, file_format=file_format).first()
    if bank_file is None:
        raise NotFoundError("支付文件不存在（批次尚未复核？）", code="file_not_found")
    return bank_file


@dataclass(frozen=True)
class Statement:
    """A merchant's statement: per period what was earned, netted, paid and what is still pending and why."""

    merchant: Organisation
    payables: list[Payable]
    open_sales_fen: int
    open_sales_count: int
    open_clawbacks_fen: int
    paid_fen: int
    pending_fen: int
    held_fen: int = 0
    held_count: int = 0


def merchant_statement(merchant: Organisation) -> Statement:
    """A merchant's latest 200 payables with what is still unsettled, held, owed back, paid and
    waiting for payment."""
    payables = list(
        Payable.objects.filter(recipient=merchant)
        .select_related("period", "period__programme")
        .prefetch_related("lines")
        .order_by("-period__starts_at")[:200]
    )
    # Held sales wait for a reviewer whatever their period: what a clearing would pay now.
    unsettled = subsidies_queries.merchant_unsettled(merchant.pk, settled=_in_closed_period)
    paid = Payable.objects.filter(recipient=merchant, status=Payable.Status.PAID).aggregate(total=Sum("amount_fen"))
    pending = Payable.objects.filter(
        recipient=merchant, status__in=[Payable.Status.QUEUED, Payable.Status.IN_BATCH]
    ).aggregate(total=Sum("amount_fen"))
    return Statement(
        merchant,
        payables,
        unsettled.sales_fen,
        unsettled.sales_count,
        unsettled.open_clawbacks_fen,
        paid["total"] or 0,
        pending["total"] or 0,
        unsettled.held_fen,
        unsettled.held_count,
    )


def _in_closed_period(merchant: Any, programme: Any, at: Any) -> Exists:
    """Condition on a sale (given references to its merchant, programme and settlement time): a closed
    period of its programme covers it."""
    return Exists(
        SettlementPeriod.objects.filter(
            status=SettlementPeriod.Status.CLOSED, programme_id=programme, starts_at__lte=at, ends_at__gt=at
        )
    )


def _in_paid_payable(merchant: Any, programme: Any, at: Any) -> Exists:
    """Condition on a sale: the merchant's payable of the period of its programme that covers it is paid."""
    return Exists(
        Payable.objects.filter(
            recipient_id=merchant,
            period__programme_id=programme,
            period__starts_at__lte=at,
            period__ends_at__gt=at,
            status=Payable.Status.PAID,
        )
    )


@dataclass(frozen=True)
class ReconciliationRow:
    redemption_id: int
    redeemed_at: datetime.datetime
    merchant: str
    serial: str
    subsidy_fen: int
    period: str
    payable_id: int | None
    payable_status: str
    line_id: str
    line_status: str
    bank_reference: str
    paid_at: datetime.datetime | None
    days_to_pay: int | None


def _current_lines(queryset: QuerySet[PaymentLine]) -> dict[int, PaymentLine]:
    """The paid (or else the latest) payment line of each payable among ``queryset``."""
    lines: dict[int, PaymentLine] = {}
    for line in queryset.order_by("pk"):
        current = lines.get(line.payable_id)
        if current is None or line.status == PaymentLine.Status.PAID or current.status == PaymentLine.Status.FAILED:
            lines[line.payable_id] = line
    return lines


def _held_status(hold: RedemptionHold) -> str:
    if hold.status == RedemptionHold.Status.HELD:
        return "暂扣待复核"
    if hold.status == RedemptionHold.Status.REJECTED:
        return "暂扣后驳回，不支付"
    return f"暂扣后放行，{timezone.localtime(hold.decided_at):%Y-%m-%d} 结算"


def reconciliation_rows(period: SettlementPeriod) -> Iterator[ReconciliationRow]:
    """Every redemption of a period tied to its payable, payment line and bank result (streamed)."""
    payables = {p.recipient_id: p for p in Payable.objects.filter(period=period)}
    lines = _current_lines(PaymentLine.objects.filter(payable__period=period))
    label = f"{timezone.localtime(period.starts_at):%Y-%m-%d}"
    queryset = subsidies_queries.sales_in_window(period.programme_id, period.starts_at, period.ends_at)
    for redemption in queryset.iterator(chunk_size=5000):
        # A held sale is settled with the period in which its hold is decided, not with this one: a cleared
        # one is tied to that period's payable (held sales are few, so each is looked up on its own).
        hold = redemption.hold if redemption.withheld else None
        if hold is None:
            payable = payables.get(redemption.merchant_id)
        elif hold.status == RedemptionHold.Status.CLEARED and hold.released_fen:
            payable = Payable.objects.filter(
                recipient_id=redemption.merchant_id,
                period__programme_id=period.programme_id,
                period__starts_at__lte=hold.decided_at,
                period__ends_at__gt=hold.decided_at,
            ).first()
            if payable is not None and payable.pk not in lines:
                lines.update(_current_lines(PaymentLine.objects.filter(payable=payable)))
        else:
            payable = None
        line = lines.get(payable.pk) if payable else None
        paid_at = line.result_at if line and line.status == PaymentLine.Status.PAID else None
        yield ReconciliationRow(
            redemption_id=redemption.pk,
            redeemed_at=redemption.redeemed_at,
            merchant=redemption.merchant.name,
            serial=redemption.serial,
            subsidy_fen=redemption.subsidy_fen,
            period=label,
            payable_id=payable.pk if payable else None,
            payable_status=(
                _held_status(hold) if hold is not None else (payable.get_status_display() if payable else "未结算")
            ),
            line_id=line.line_id if line else "",
            line_status=line.get_status_display() if line else "",
            bank_reference=line.bank_reference if line else "",
            paid_at=paid_at,
            days_to_pay=(timezone.localdate(paid_at) - timezone.localdate(redemption.redeemed_at)).days
            if paid_at
            else None,
        )


@dataclass(frozen=True)
class Unmatched:
    kind: str
    reference: str
    detail: str


def unmatched_items(period: SettlementPeriod) -> list[Unmatched]:
    """What does not tie up: frozen sums that no longer match the rows, redemptions with no payable,
    payables never paid, failed lines, paid totals that differ from payables."""
    problems: list[Unmatched] = []
    if period.status == SettlementPeriod.Status.CLOSED:
        # Held sales are not in the period's frozen sums: they are settled when their hold is decided.
        window = (period.programme_id, period.starts_at, period.ends_at)
        count, total = subsidies_queries.settled_sales_total(*window)
        if (count, total) != (period.redemption_count, period.redemptions_fen):
            problems.append(
                Unmatched(
                    "period",
                    str(period),
                    f"本期核销现为 {count} 笔 {format_yuan(total)}，"
                    f"结算时为 {period.redemption_count} 笔 {format_yuan(period.redemptions_fen)}",
                )
            )
        for redemption_id in subsidies_queries.settled_sales_after(*window, period.max_redemption_id, limit=100):
            problems.append(Unmatched("redemption", str(redemption_id), "结算后才写入本期的核销，未计入应付"))
    payables = Payable.objects.filter(period=period).select_related("recipient", "payee").prefetch_related("lines")
    for payable in payables:
        problems += _payable_problems(payable)
    return problems


def _payable_problems(payable: Payable) -> list[Unmatched]:
    """What does not tie up for one payable (its lines prefetched): queued and never put in a batch, a failed
    line, paid a different sum than it owes."""
    problems = []
    lines = list(payable.lines.all())
    paid = sum(line.amount_fen for line in lines if line.status == PaymentLine.Status.PAID)
    if payable.status == Payable.Status.QUEUED and not lines:
        who = payable.recipient.name if payable.recipient else (payable.payee.name if payable.payee else "")
        problems.append(
            Unmatched("payable", str(payable.pk), f"{who} 应付 {format_yuan(payable.amount_fen)} 尚未进入支付批次")
        )
    for line in lines:
        if line.status == PaymentLine.Status.FAILED:
            problems.append(Unmatched("line", line.line_id, f"支付失败：{line.failure_reason}"))
    if payable.status == Payable.Status.PAID and paid != payable.amount_fen:
        problems.append(
            Unmatched(
                "payable",
                str(payable.pk),
                f"已付 {format_yuan(paid)} 与应付 {format_yuan(payable.amount_fen)} 不符",
            )
        )
    return problems


def source_unmatched(*, source_kind: str | None = None, limit: int = 500) -> list[Unmatched]:
    """Reconciliation of the payables that other sources handed settlement (no period): the same checks as a
    period's, over the unfinished and mismatched ones (paid payables whose lines add up are left out)."""
    queryset = (
        Payable.objects.filter(period__isnull=True)
        .exclude(status=Payable.Status.NOTHING_DUE)
        .select_related("payee")
        .prefetch_related("lines")
        .order_by("pk")
    )
    if source_kind:
        queryset = queryset.filter(source_kind=source_kind)
    problems: list[Unmatched] = []
    for payable in queryset.iterator(chunk_size=2000):
        problems += _payable_problems(payable)
        if len(problems) >= limit:
            break
    return problems[:limit]


def finance_payables(
    *, source_kind: str | None = None, status: str | None = None, payee_kind: str | None = None
) -> QuerySet[Payable]:
    """Payables from every source for the finance pages, newest first, with payee and programme."""
    queryset = Payable.objects.select_related("programme", "payee", "period", "recipient").order_by("-pk")
    if source_kind:
        queryset = queryset.filter(source_kind=source_kind)
    if status:
        queryset = queryset.filter(status=status)
    if payee_kind:
        queryset = queryset.filter(payee__kind=payee_kind)
    return queryset


def payees(*, kind: str | None = None) -> QuerySet[Payee]:
    """Payees, newest first (finance readers: masked accounts only)."""
    queryset = Payee.objects.select_related("organisation").order_by("-pk")
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset


@dataclass(frozen=True)
class MerchantExposure:
    merchant_id: int
    merchant: str
    outstanding_fen: int
    oldest_unpaid: datetime.datetime | None


def prefunded_outstanding(limit: int = 100) -> list[MerchantExposure]:
    """Subsidy each merchant has given at the till and not yet been paid for, largest first, with the oldest
    unpaid sale: what merchants complain about most."""
    rows = subsidies_queries.outstanding_by_merchant(paid=_in_paid_payable, limit=limit)
    return [MerchantExposure(r.merchant_id, r.merchant, r.outstanding_fen, r.oldest_sale) for r in rows]


@dataclass(frozen=True)
class PeriodDeadline:
    period: SettlementPeriod
    due_on: datetime.date
    unpaid_fen: int
    overdue: bool


def period_deadlines(today: datetime.date, limit: int = 60) -> list[PeriodDeadline]:
    """Periods with money still unpaid and their payment deadline (30 working days after the period)."""
    unpaid = Payable.objects.filter(period=OuterRef("pk")).exclude(
        status__in=[Payable.Status.PAID, Payable.Status.NOTHING_DUE]
    )
    periods = (
        SettlementPeriod.objects.annotate(
            unpaid=Subquery(unpaid.values("period").annotate(total=Sum("amount_fen")).values("total")[:1])
        )
        .filter(Q(unpaid__gt=0) | Q(status=SettlementPeriod.Status.OPEN, ends_at__lte=timezone.now()))
        .select_related("programme")
        .order_by("starts_at")[:limit]
    )
    result = []
    for period in periods:
        last_day = timezone.localdate(period.ends_at - datetime.timedelta(microseconds=1))
        due = add_working_days(last_day, PAYMENT_DEADLINE_WORKING_DAYS)
        result.append(PeriodDeadline(period, due, period.unpaid or 0, today > due))
    return result


def batches() -> QuerySet[PaymentBatch]:
    return PaymentBatch.objects.select_related("programme", "prepared_by", "approved_by").order_by("-prepared_at")


def batch_summary(batch: PaymentBatch) -> dict[str, int]:
    rows = batch.lines.values("status").annotate(n=Count("pk"), total=Sum("amount_fen"))
    summary = {f"{r['status']}_count": r["n"] for r in rows} | {f"{r['status']}_fen": r["total"] or 0 for r in rows}
    return summary


def merchant_payables(merchant: Organisation) -> QuerySet[Payable]:
    """Every payable of a merchant, newest period first, with its payment lines (the statement's export)."""
    return (
        Payable.objects.filter(recipient=merchant)
        .select_related("period", "period__programme")
        .prefetch_related("lines")
        .order_by("-period__starts_at", "pk")
    )
