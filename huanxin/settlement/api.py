"""Settlement API: periods, payables, payment batches (maker-checker), bank files and results, SLA."""

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import File, Router, Status, UploadedFile

from huanxin.accounts.http import current_user
from huanxin.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.schemas import QueryInt
from huanxin.policy.models import Programme
from huanxin.settlement import queries, services, sources
from huanxin.settlement.exports import bank_file_response
from huanxin.settlement.models import Payable, Payee, PaymentBatch, SettlementPeriod
from huanxin.settlement.schemas import (
    DeadlineOut,
    ExposureOut,
    ImportOut,
    LineOut,
    PayableOut,
    PeriodOut,
    SettlementBatchIn,
    SettlementBatchOut,
    SettlementPayeeOut,
    SettlementUnmatchedOut,
    SlaOut,
    VerdictOut,
)

router = Router(tags=["清算与支付"])
MAX_RESULT_FILE_BYTES = 10 * 1024 * 1024


def _finance(request: HttpRequest) -> None:
    if not queries.is_finance(request.user):
        raise ForbiddenError("仅限财政、审计人员", code="finance_only")


def period_out(p: SettlementPeriod) -> PeriodOut:
    return PeriodOut(
        id=p.pk,
        programme=p.programme.code,
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        status=p.status,
        redemption_count=p.redemption_count,
        redemptions_fen=p.redemptions_fen,
        clawback_count=p.clawback_count,
        clawbacks_fen=p.clawbacks_fen,
    )


@router.get("/periods", response=list[PeriodOut], summary="清算周期")
def list_periods(request: HttpRequest, programme: str | None = None, status: str | None = None) -> Any:
    _finance(request)
    queryset = SettlementPeriod.objects.select_related("programme").order_by("-starts_at")
    if programme:
        queryset = queryset.filter(programme__code=programme)
    if status:
        queryset = queryset.filter(status=status)
    return [period_out(p) for p in queryset[:200]]


@router.post("/periods/{period_id}/close", response=PeriodOut, summary="结算一个已结束的周期（可重复调用）")
def close(request: HttpRequest, period_id: QueryInt) -> Any:
    _finance(request)
    period = SettlementPeriod.objects.select_related("programme").filter(pk=period_id).first()
    if period is None:
        raise NotFoundError("清算周期不存在", code="period_not_found")
    services.close_period(period=period, actor=current_user(request))
    period.refresh_from_db()
    return period_out(period)


def payee_out(y: Payee) -> SettlementPayeeOut:
    return SettlementPayeeOut(
        id=y.pk,
        kind=y.kind,
        name=y.name,
        reference=y.reference,
        organisation_id=y.organisation_id,
        account_name=y.account_name,
        bank_name=y.bank_name,
        account_masked=y.account_masked,
    )


def payable_out(p: Payable) -> PayableOut:
    return PayableOut(
        id=p.pk,
        programme=p.programme.code,
        source_kind=p.source_kind,
        source=sources.label(p.source_kind),
        source_ref=p.source_ref,
        payee=payee_out(p.payee) if p.payee else None,
        period_id=p.period_id,
        recipient_id=p.recipient_id,
        recipient=p.recipient.name if p.recipient else None,
        redemption_count=p.redemption_count,
        redemptions_fen=p.redemptions_fen,
        clawback_count=p.clawback_count,
        clawbacks_fen=p.clawbacks_fen,
        carried_in_fen=p.carried_in_fen,
        amount_fen=p.amount_fen,
        carried_out_fen=p.carried_out_fen,
        status=p.status,
    )


@router.get("/payables", response=list[PayableOut], summary="应付款：各来源的支付指令及收款人（商户：本商户）")
def list_payables(
    request: HttpRequest,
    status: str | None = None,
    source_kind: str | None = None,
    payee_kind: str | None = None,
) -> Any:
    queryset = queries.payables_visible_to(request.user).order_by("-pk")
    if status:
        queryset = queryset.filter(status=status)
    if source_kind:
        queryset = queryset.filter(source_kind=source_kind)
    if payee_kind:
        queryset = queryset.filter(payee__kind=payee_kind)
    return [payable_out(p) for p in queryset[:500]]


@router.get("/payees", response=list[SettlementPayeeOut], summary="收款人（个人或单位，账号脱敏）")
def list_payees(request: HttpRequest, kind: str | None = None) -> Any:
    _finance(request)
    return [payee_out(y) for y in queries.payees(kind=kind)[:500]]


@router.get("/unmatched", response=list[SettlementUnmatchedOut], summary="非周期来源（汽车补贴、补发等）的未匹配支付")
def list_unmatched(request: HttpRequest, source_kind: str | None = None) -> Any:
    _finance(request)
    return [SettlementUnmatchedOut(**u.__dict__) for u in queries.source_unmatched(source_kind=source_kind)]


def batch_out(b: PaymentBatch) -> SettlementBatchOut:
    return SettlementBatchOut(
        id=b.pk,
        number=b.number,
        programme=b.programme.code,
        status=b.status,
        prepared_by=str(b.prepared_by),
        approved_by=str(b.approved_by) if b.approved_by else None,
        line_count=b.line_count,
        total_fen=b.total_fen,
    )


@router.get("/batches", response=list[SettlementBatchOut], summary="支付批次")
def list_batches(request: HttpRequest) -> Any:
    _finance(request)
    return [batch_out(b) for b in queries.batches()[:100]]


@router.post("/batches", response={201: SettlementBatchOut}, summary="生成支付批次（制单）")
def prepare(request: HttpRequest, payload: SettlementBatchIn) -> Any:
    programme = Programme.objects.filter(code=payload.programme).first()
    if programme is None:
        raise NotFoundError("补贴项目不存在", code="unknown_programme")
    return Status(201, batch_out(services.prepare_batch(actor=current_user(request), programme=programme)))


@router.get("/batches/{number}", response=SettlementBatchOut, summary="批次详情")
def get_batch(request: HttpRequest, number: str) -> Any:
    _finance(request)
    return batch_out(services.get_batch(number))


@router.get("/batches/{number}/lines", response=list[LineOut], summary="批次支付明细（账号脱敏）")
def list_lines(request: HttpRequest, number: str) -> Any:
    _finance(request)
    batch = services.get_batch(number)
    return [
        LineOut(
            line_id=x.line_id,
            source_kind=x.payable.source_kind,
            payee_kind=x.payable.payee.kind if x.payable.payee else None,
            payee_name=x.payee_name,
            bank_name=x.bank_name,
            account_masked=x.account_masked,
            amount_fen=x.amount_fen,
            status=x.status,
            bank_reference=x.bank_reference,
            failure_reason=x.failure_reason,
        )
        for x in batch.lines.select_related("payable__payee").order_by("line_id")
    ]


@router.post(
    "/batches/{number}/approve", response=SettlementBatchOut, summary="复核批次并生成银行支付文件（不能复核自己制的单）"
)
def approve(request: HttpRequest, number: str) -> Any:
    return batch_out(services.approve_batch(actor=current_user(request), batch=services.get_batch(number)))


@router.get("/batches/{number}/file.{file_format}", summary="下载银行支付文件（CSV 或 XLSX，含完整账号）")
def download(request: HttpRequest, number: str, file_format: str) -> HttpResponse:
    return bank_file_response(queries.get_bank_file_for_user(current_user(request), number, file_format), number)


@router.post("/batches/{number}/results", response=ImportOut, summary="导入银行回盘（逐行校验）")
def import_results(request: HttpRequest, number: str, file: File[UploadedFile]) -> Any:
    if file.size is not None and file.size > MAX_RESULT_FILE_BYTES:
        raise ValidationFailed.for_field("file", "file_too_large", "回盘文件不能超过 10 MB")
    outcome = services.import_bank_results(
        actor=current_user(request),
        batch=services.get_batch(number),
        file_name=file.name or "result.csv",
        content=file.read(),
    )
    return ImportOut(
        accepted=outcome.record.accepted,
        refused=outcome.record.refused,
        rows=[VerdictOut(**row) for row in outcome.verdicts],
    )


@router.get("/sla", response=SlaOut, summary="垫资未结清金额与付款时限")
def sla(request: HttpRequest) -> Any:
    _finance(request)
    return SlaOut(
        outstanding=[ExposureOut(**e.__dict__) for e in queries.prefunded_outstanding()],
        deadlines=[
            DeadlineOut(
                period_id=d.period.pk,
                programme=d.period.programme.code,
                starts_at=d.period.starts_at,
                due_on=d.due_on,
                unpaid_fen=d.unpaid_fen,
                overdue=d.overdue,
            )
            for d in queries.period_deadlines(timezone.localdate())
        ],
    )
