"""Pages: merchants' statements; finance officers' periods, batches, approvals, bank results,
reconciliation and the SLA board."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Min
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import OrganisationKind
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import FINANCE_OFFICERS, MERCHANT_MANAGERS
from huanxin.core.errors import DomainError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.jobs import JOBS_BY_NAME
from huanxin.core.notices import notify_rows
from huanxin.core.permissions import has_role
from huanxin.core.spreadsheets import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE
from huanxin.policy.models import Programme
from huanxin.settlement import queries, services, sources
from huanxin.settlement.exports import (
    attachment,
    bank_file_response,
    reconciliation_xlsx,
    statement_csv,
    statement_xlsx,
)
from huanxin.settlement.models import BankFile, BankImport, Payable, Payee, SettlementPeriod


@login_required
def statement(request: AuthenticatedRequest) -> HttpResponse:
    """A merchant's statement per period: earned, clawed back, carried, paid, and what is pending and why."""
    merchant = acting_organisation(
        request,
        roles=MERCHANT_MANAGERS,
        kinds=(OrganisationKind.MERCHANT,),
        requested=request.GET.get("merchant"),
        first_by_default=True,
    )
    file_format = request.GET.get("format", "")
    if file_format == "xlsx":
        content = statement_xlsx(queries.merchant_payables(merchant))
        return attachment(content, f"statement-{merchant.pk}.xlsx", XLSX_CONTENT_TYPE)
    if file_format == "csv":
        content = statement_csv(queries.merchant_payables(merchant))
        return attachment(content, f"statement-{merchant.pk}.csv", CSV_CONTENT_TYPE)
    if file_format:
        raise ValidationFailed.for_field("format", "invalid_choice", "导出格式应为 xlsx 或 csv")
    return render(request, "settlement/statement.html", {"s": queries.merchant_statement(merchant)})


def _finance(request: AuthenticatedRequest) -> None:
    if not queries.is_finance(request.user):
        raise PermissionDenied


@login_required
def board(request: AuthenticatedRequest) -> HttpResponse:
    """The SLA board: pre-funded amounts outstanding per merchant, the oldest unpaid sale, late periods."""
    _finance(request)
    deadlines = queries.period_deadlines(timezone.localdate())
    return render(
        request,
        "settlement/board.html",
        {
            "outstanding": queries.prefunded_outstanding(),
            "deadlines": deadlines,
            "overdue": sum(1 for d in deadlines if d.overdue),
            "now": timezone.now(),
        },
    )


@login_required
def periods(request: AuthenticatedRequest) -> HttpResponse:
    _finance(request)
    if request.method == "POST":
        period = SettlementPeriod.objects.filter(pk=request.POST.get("period") or 0).first()
        if period is None:
            raise Http404
        try:
            closed = services.close_period(period=period, actor=request.user)
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            messages.success(request, "已结算" if closed else "该周期此前已结算，未重复计算")
        return redirect("settlement:periods")
    rows = list(SettlementPeriod.objects.select_related("programme").order_by("-starts_at")[:120])
    # The oldest open period of each programme, so that "an earlier period is open" costs one query per page.
    oldest_open = dict(
        SettlementPeriod.objects.filter(status=SettlementPeriod.Status.OPEN)
        .values("programme_id")
        .annotate(first=Min("starts_at"))
        .values_list("programme_id", "first")
    )
    now = timezone.now()
    listed = []
    for period in rows:
        earlier_open = oldest_open.get(period.programme_id, period.starts_at) < period.starts_at
        refusal = services.close_refusal(period=period, actor=request.user, now=now, earlier_open=earlier_open)
        listed.append(
            {
                "period": period,
                "can_close": services.can_close(period=period, actor=request.user, now=now, earlier_open=earlier_open),
                "why_not": refusal.detail if refusal is not None and period.status == "open" else "",
            }
        )
    return render(
        request,
        "settlement/periods.html",
        {
            "periods": listed,
            "grace_minutes": int(services.CLOSE_GRACE.total_seconds() // 60),
            "job_minutes": int(JOBS_BY_NAME["settlement.close_periods"].every.total_seconds() // 60),
        },
    )


@login_required
def batches(request: AuthenticatedRequest) -> HttpResponse:
    _finance(request)
    if request.method == "POST":
        programme = Programme.objects.filter(code=request.POST.get("programme", "")).first()
        if programme is None:
            raise Http404
        try:
            batch = services.prepare_batch(actor=request.user, programme=programme)
        except DomainError as error:
            messages.error(request, error.first_message)
            return redirect("settlement:batches")
        messages.success(request, f"已生成批次 {batch.number}，请另一名财政人员复核")
        return redirect("settlement:batch", number=batch.number)
    programmes = Programme.objects.exclude(status=Programme.Status.DRAFT).order_by("code")
    is_officer = has_role(request.user, *FINANCE_OFFICERS)
    return render(
        request,
        "settlement/batches.html",
        {
            "batches": queries.batches()[:100],
            # Only programmes a batch can be prepared for now are offered.
            "preparable": [
                p
                for p in programmes
                if is_officer and services.prepare_refusal(actor=request.user, programme=p) is None
            ],
            "is_officer": is_officer,
        },
    )


@login_required
def batch(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _finance(request)
    try:
        current = services.get_batch(number)
    except DomainError:
        raise Http404 from None
    return render(
        request,
        "settlement/batch.html",
        {
            "batch": current,
            "lines": current.lines.select_related("payable__payee").order_by("line_id")[:1000],
            "summary": queries.batch_summary(current),
            "imports": BankImport.objects.filter(batch=current).order_by("-imported_at"),
            # Offered only to those who may download them (the link would be refused).
            "files": BankFile.objects.filter(batch=current).only("file_format", "sha256", "created_at")
            if queries.may_download_bank_files(request.user)
            else BankFile.objects.none(),
            "can_approve": services.approve_refusal(actor=request.user, batch=current) is None,
            "is_preparer": current.prepared_by_id == request.user.pk,
            "can_import": services.import_refusal(actor=request.user, batch=current) is None,
        },
    )


@login_required
def payables(request: AuthenticatedRequest) -> HttpResponse:
    """Payment orders from every source with their payee (person or organisation, masked account), and what
    of the sources without periods does not tie up."""
    _finance(request)
    chosen = {
        key: request.GET.get(key, "") for key in ("source_kind", "status", "payee_kind") if request.GET.get(key, "")
    }
    rows = list(queries.finance_payables(**chosen)[:200])
    return render(
        request,
        "settlement/payables.html",
        {
            "rows": [(p, sources.label(p.source_kind)) for p in rows],
            "chosen": chosen,
            "source_choices": [(s.kind, s.label) for s in sources.SOURCES.values()],
            "status_choices": Payable.Status.choices,
            "payee_kinds": Payee.Kind.choices,
            "unmatched": queries.source_unmatched(source_kind=chosen.get("source_kind"), limit=100),
        },
    )


@login_required
@require_POST
def approve(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _finance(request)
    try:
        services.approve_batch(actor=request.user, batch=services.get_batch(number))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, "已复核，银行支付文件已生成")
    return redirect("settlement:batch", number=number)


@login_required
@require_POST
def import_results(request: AuthenticatedRequest, number: str) -> HttpResponse:
    _finance(request)
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "请选择回盘文件")
        return redirect("settlement:batch", number=number)
    try:
        outcome = services.import_bank_results(
            actor=request.user,
            batch=services.get_batch(number),
            file_name=upload.name or "result.csv",
            content=upload.read(),
        )
    except DomainError as error:
        messages.error(request, error.first_message)
    else:
        notify_rows(
            request,
            f"回盘已导入：接受 {outcome.record.accepted} 行，拒绝 {outcome.record.refused} 行",
            accepted=outcome.record.accepted,
            refused=outcome.record.refused,
        )
    return redirect("settlement:batch", number=number)


@login_required
def download(request: AuthenticatedRequest, number: str, file_format: str) -> HttpResponse:
    try:
        bank_file = queries.get_bank_file_for_user(request.user, number, file_format)
    except ForbiddenError:
        raise PermissionDenied from None
    except NotFoundError:
        raise Http404 from None
    return bank_file_response(bank_file, number)


@login_required
def reconciliation(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _finance(request)
    period = SettlementPeriod.objects.select_related("programme").filter(pk=pk).first()
    if period is None:
        raise Http404
    if request.GET.get("format") == "xlsx":
        return attachment(reconciliation_xlsx(period), f"reconciliation-{period.pk}.xlsx", XLSX_CONTENT_TYPE)
    rows = []
    for index, row in enumerate(queries.reconciliation_rows(period)):
        if index >= 500:
            break
        rows.append(row)
    return render(
        request,
        "settlement/reconciliation.html",
        {
            "period": period,
            "rows": rows,
            "unmatched": queries.unmatched_items(period),
        },
    )
