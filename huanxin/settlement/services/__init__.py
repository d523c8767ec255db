"""The write side of settlement: periods, closing them into payables, payment batches with maker and
checker, bank files and bank results. Payees and payment orders from other sources are in ``payees`` and
``payables`` (``services.payables.request_payment``).

Every job here is idempotent and resumable: closing a closed period does nothing, batch assembly keeps a
cursor and picks up where a crash left it, and a bank result is recorded on a line once.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, OuterRef, Q, QuerySet
from django.utils import timezone

from huanxin.accounts.models import User
from huanxin.accounts.roles import ADMINISTRATORS, FINANCE_OFFICERS
from huanxin.core import audit, crypto, spreadsheets
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import ConflictError, DomainError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import has_role
from huanxin.policy.models import Programme
from huanxin.settlement import sources
from huanxin.settlement.domain.payables import (
    RESULT_WORDS,
    BankResultRow,
    LineState,
    PayableRow,
    PeriodSettlement,
    check_bank_rows,
    period_bounds,
    settle_period,
)
from huanxin.settlement.models import (
    BankFile,
    BankImport,
    Payable,
    Payee,
    PaymentBatch,
    PaymentLine,
    SettlementPeriod,
)
from huanxin.settlement.payment_sources import PURPOSE
from huanxin.settlement.services.payees import MERCHANT_PREFIX, attach_merchant_payees, sync_merchant_payees
from huanxin.settlement.sources import CONSUMER_SUBSIDY
from huanxin.subsidies import queries as subsidies_queries
from huanxin.subsidies.services.clawbacks import take_clawbacks

# A period is closed only this long after it ended, so a sale recorded in its last second has committed.
CLOSE_GRACE = datetime.timedelta(minutes=5)
# Payables per committed step of batch assembly: each chunk is a few set-based statements.
ASSEMBLY_CHUNK = 2000

Checkpoint = Callable[[str], None]


def _no_checkpoint(step: str) -> None:
    """Production runs pass through; tests inject a crash at a named step."""


# ---------------------------------------------------------------- periods


def ensure_periods(*, programme: Programme, until: datetime.date, length_days: int = 1) -> int:
    """Create the programme's periods from its first sale up to ``until``; returns how many were new.

    A programme that has sold nothing gets no periods (closed programmes of past years would otherwise
    fill the table with empty days). Safe to run any number of times.
    """
    latest = SettlementPeriod.objects.filter(programme=programme).order_by("-starts_at").first()
    if latest is not None:
        day = timezone.localdate(latest.ends_at)
    else:
        earliest = subsidies_queries.first_sale_at(programme.pk)
        if earliest is None:
            return 0
        day = timezone.localdate(earliest)
    created = 0
    while day <= until:
        start, end = period_bounds(day, length_days)
        _, was_new = SettlementPeriod.objects.get_or_create(
            programme=programme, starts_at=start, defaults={"ends_at": end}
        )
        created += was_new
        day = timezone.localdate(end)
    return created


def close_refusal(
    *, period: SettlementPeriod, actor: Any, now: datetime.datetime, earlier_open: bool | None = None
) -> DomainError | None:
    """Why closing ``period`` now would be refused, or None when it would go through.

    A person closes only as a finance officer (the job, named by a string, always may); a period closes only
    once it has ended plus the grace, and only after every earlier period of its programme, because carried
    balances are computed in order. A closed period is not refused: closing it again changes nothing.
    ``earlier_open`` may be given by a caller that already knows it (a page listing many periods).
    """
    if not isinstance(actor, str) and not has_role(actor, *FINANCE_OFFICERS):
        return ForbiddenError("只有财政人员可以结算", code="finance_required")
    if period.status == SettlementPeriod.Status.CLOSED:
        return None
    if period.ends_at + CLOSE_GRACE > now:
        return ConflictError("本期尚未结束，不能结算", code="period_not_ended")
    if earlier_open is None:
        earlier_open = SettlementPeriod.objects.filter(
            programme_id=period.programme_id, starts_at__lt=period.starts_at, status=SettlementPeriod.Status.OPEN
        ).exists()
    if earlier_open:
        return ConflictError("请先结算更早的周期（结转余额需按顺序计算）", code="earlier_period_open")
    return None


def can_close(
    *, period: SettlementPeriod, actor: Any, now: datetime.datetime, earlier_open: bool | None = None
) -> bool:
    """Whether to offer closing ``period``: it is still open and closing it now would not be refused."""
    return period.status == SettlementPeriod.Status.OPEN and (
        close_refusal(period=period, actor=actor, now=now, earlier_open=earlier_open) is None
    )


def close_period(
    *,
    period: SettlementPeriod,
    actor: Any = "settlement-job",
    now: datetime.datetime | None = None,
    checkpoint: Checkpoint = _no_checkpoint,
) -> bool:
    """Close an ended period: each merchant's payable is its sales' subsidies minus its clawbacks plus
    what it carried in; a negative balance is carried out. Returns False if the period was closed already.

    All in one transaction: a crash leaves the period open and untouched, and closing again after a
    successful close changes nothing.
    """
    now = now or timezone.now()
    refusal = close_refusal(period=period, actor=actor, now=now)
    if refusal is not None:
        raise refusal
    with transaction.atomic(durable=True):
        locked = SettlementPeriod.objects.select_for_update().get(pk=period.pk)
        if locked.status == SettlementPeriod.Status.CLOSED:
            return False
        window = (locked.programme_id, locked.starts_at, locked.ends_at)
        # A sale held at checkout is not paid in its own period: what its reviewer's decision releases is
        # paid in the period in which the decision falls (cleared: the subsidy still standing; rejected: 0).
        sales = subsidies_queries.sales_by_merchant(*window)
        released = subsidies_queries.released_by_merchant(*window)
        checkpoint("aggregated_sales")
        clawbacks = take_clawbacks(programme_id=locked.programme_id, start=locked.starts_at, end=locked.ends_at)
        checkpoint("aggregated_clawbacks")
        carries = _open_carries(locked.programme_id)
        settlement = settle_period(
            sales=sales,
            released=released,
            clawbacks=clawbacks,
            open_carries={merchant: carried for merchant, (_, carried) in carries.items()},
        )
        # Each merchant is paid to its payee in the programme, synced from its enrolment.
        sync_merchant_payees(locked.programme)
        _insert_payables(locked, settlement.rows, now)
        checkpoint("payables_created")
        taken = [carries[row.recipient_id][0] for row in settlement.rows if row.recipient_id in carries]
        if taken:
            Payable.objects.filter(pk__in=taken).update(carry_taken=True)
        _record_close(locked, settlement, actor=actor, now=now)
    return True


def _open_carries(programme_id: int) -> dict[int, tuple[int, int]]:
    """The programme's open carries, merchant → (payable id, its negative balance): the latest negative
    balance of each merchant that no later payable has taken in. All of the programme's are read (few: only
    merchants whose returns outran their sales have one), which is cheaper than naming every merchant of the
    period in an IN list."""
    return {
        recipient: (pk, carried)
        for recipient, pk, carried in Payable.objects.filter(
            period__programme_id=programme_id, carried_out_fen__lt=0, carry_taken=False
        ).values_list("recipient_id", "pk", "carried_out_fen")
    }


def _record_close(
    period: SettlementPeriod, settlement: PeriodSettlement, *, actor: Any, now: datetime.datetime
) -> None:
    """Mark the locked period closed with the sums it settled frozen on it, and write the audit row."""
    totals = settlement.totals
    # PeriodTotals names the period's own columns: the counts, sums and highest ids the close freezes.
    for field in dataclasses.fields(totals):
        setattr(period, field.name, getattr(totals, field.name))
    period.status = SettlementPeriod.Status.CLOSED
    period.closed_at = now
    period.closed_by = str(actor)[:150]
    period.save()
    audit.record(
        actor=actor,
        action="settlement.period.close",
        target=period,
        before={"status": "open"},
        after={
            "status": "closed",
            "payables": len(settlement.rows),
            "redemptions_fen": totals.redemptions_fen,
            "clawbacks_fen": totals.clawbacks_fen,
            "redemption_count": totals.redemption_count,
            "withheld_fen": totals.withheld_fen,
            "released_fen": totals.released_fen,
        },
    )


_QUEUED, _NOTHING_DUE = Payable.Status.QUEUED.value, Payable.Status.NOTHING_DUE.value


def _payable_status(row: PayableRow) -> str:
    return _QUEUED if row.is_due else _NOTHING_DUE


def _merchant_payee_ids(programme_id: int, recipients: list[int]) -> dict[int, int]:
    """Merchant → its payee in the programme, for the merchants that have one (an enrolment)."""
    found: dict[int, int] = {}
    prefix = f"{MERCHANT_PREFIX}{programme_id}:"
    for start in range(0, len(recipients), 500):
        chunk = [f"{prefix}{recipient}" for recipient in recipients[start : start + 500]]
        found.update(
            (organisation, pk)
            for organisation, pk in Payee.objects.filter(reference__in=chunk).values_list("organisation_id", "pk")
            if organisation is not None
        )
    return found


def _insert_payables(period: SettlementPeriod, rows: list[PayableRow], now: datetime.datetime) -> None:
    """Write a period's payables, each with the merchant's payee (none when it has no enrolment). On
    PostgreSQL as one INSERT from a column array each, joined to the payees: a city's day has thousands of
    merchants, and ``bulk_create`` prepares every value of every row one by one in Python (measured: about
    half of closing a 5,000-merchant day). The amounts still come from ``settle_period``; only the writing is
    set-based. The source reference is "<period>:<merchant>" (``models.consumer_source_ref``)."""
    if not rows:
        return
    programme_id = period.programme_id
    if connection.vendor != "postgresql":
        payees = _merchant_payee_ids(programme_id, [row.recipient_id for row in rows])
        Payable.objects.bulk_create(
            [
                Payable(
                    period=period,
                    programme_id=programme_id,
                    source_kind=CONSUMER_SUBSIDY,
                    source_ref=f"{period.pk}:{row.recipient_id}",
                    payee_id=payees.get(row.recipient_id),
                    created_at=now,
                    status=_payable_status(row),
                    **row._asdict(),
                )
                for row in rows
            ],
            batch_size=2000,
        )
        return
    # One array per column, in PayableRow's field order (the INSERT's column list), then the status.
    arrays = [list(column) for column in zip(*rows, strict=True)]
    arrays.append([_payable_status(row) for row in rows])
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO settlement_payable (period_id, programme_id, source_kind, created_at, carry_taken, "
            "source_ref, payee_id, recipient_id, redemption_count, redemptions_fen, released_count, released_fen, "
            "clawback_count, clawbacks_fen, carried_in_fen, amount_fen, carried_out_fen, status) "
            "SELECT %s, %s, %s, %s, false, %s || r.recipient_id::text, y.id, r.* "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], "
            "%s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[], %s::text[]) AS r(recipient_id, "
            "redemption_count, redemptions_fen, released_count, released_fen, clawback_count, clawbacks_fen, "
            "carried_in_fen, amount_fen, carried_out_fen, status) "
            "LEFT JOIN settlement_payee y ON y.reference = %s || r.recipient_id::text",
            [
                period.pk,
                programme_id,
                CONSUMER_SUBSIDY,
                now,
                f"{period.pk}:",
                *arrays,
                f"{MERCHANT_PREFIX}{programme_id}:",
            ],
        )


def close_due_periods(*, now: datetime.datetime | None = None) -> int:
    """The periodic job: create periods up to today for open programmes and close every ended one, oldest first."""
    now = now or timezone.now()
    closed = 0
    for programme in Programme.objects.exclude(status=Programme.Status.DRAFT):
        ensure_periods(programme=programme, until=timezone.localdate(now))
        due = SettlementPeriod.objects.filter(
            programme=programme, status=SettlementPeriod.Status.OPEN, ends_at__lte=now - CLOSE_GRACE
        ).order_by("starts_at")
        for period in due:
            closed += close_period(period=period, now=now)
    return closed


# ---------------------------------------------------------------- payment batches


def _next_number(now: datetime.datetime) -> str:
    prefix = f"PB{timezone.localdate(now):%Y%m%d}"
    count = PaymentBatch.objects.filter(number__startswith=prefix).count()
    return f"{prefix}{count + 1:04d}"


def payable_now(programme: Programme) -> QuerySet[Payable]:
    """The programme's payables a new batch would carry: queued (in no batch, or sent back by the bank) and
    with a payee to pay — a merchant's once it is enrolled in the programme (its payee is synced from the
    enrolment when the batch starts). A queued payable without one gets no line (it shows as unmatched in
    reconciliation)."""
    enrolled = subsidies_queries.enrolment_exists(OuterRef("recipient_id"), programme.pk)
    return Payable.objects.filter(programme=programme, status=Payable.Status.QUEUED).filter(
        Q(payee__isnull=False) | (Q(source_kind=CONSUMER_SUBSIDY) & enrolled)
    )


def _nothing_to_pay() -> ValidationFailed:
    return ValidationFailed.for_field("programme", "nothing_to_pay", "没有待支付的应付款")


def prepare_refusal(*, actor: User, programme: Programme) -> DomainError | None:
    """Why ``actor`` cannot prepare a batch of ``programme`` now, or None.

    Only a finance officer prepares; a batch another officer is still assembling is theirs to finish; otherwise
    there must be payables a new batch would carry (its own unfinished batch the maker may always resume).
    """
    if not has_role(actor, *FINANCE_OFFICERS):
        return ForbiddenError("只有财政人员可以办理支付", code="finance_required")
    assembling = PaymentBatch.objects.filter(programme=programme, status=PaymentBatch.Status.ASSEMBLING).first()
    if assembling is not None:
        if assembling.prepared_by_id != actor.pk and not has_role(actor, *ADMINISTRATORS):
            return ConflictError(f"批次 {assembling.number} 正由他人生成，请稍后", code="batch_assembling")
        return None
    if not payable_now(programme).exists():
        return _nothing_to_pay()
    return None


def prepare_batch(*, actor: User, programme: Programme, checkpoint: Checkpoint = _no_checkpoint) -> PaymentBatch:
    """A finance officer gathers every queued payable of a programme into a batch of payment lines.

    Resumable: the batch fixes its scope (the highest queued payable id) when it is started and keeps a
    cursor; each chunk of lines commits with the cursor, so a run killed anywhere and started again
    continues where it stopped and ends with the same lines.
    """
    refusal = prepare_refusal(actor=actor, programme=programme)
    if refusal is not None:
        raise refusal
    now = timezone.now()
    # The merchants' payees take their enrolments' accounts as they stand now, and merchants enrolled since
    # their period closed get theirs (a resumed batch does it again: its remaining lines pay the same).
    with transaction.atomic(durable=True):
        sync_merchant_payees(programme, actor=actor)
        attach_merchant_payees(programme, actor=actor)
    batch = PaymentBatch.objects.filter(programme=programme, status=PaymentBatch.Status.ASSEMBLING).first()
    if batch is None:
        upto = payable_now(programme).aggregate(top=Max("pk"))["top"]
        if upto is None:
            raise _nothing_to_pay()
        try:
            with transaction.atomic(durable=True):
                batch = PaymentBatch.objects.create(
                    number=_next_number(now),
                    programme=programme,
                    prepared_by=actor,
                    prepared_at=now,
                    upto_payable_id=upto,
                )
                audit.record(
                    actor=actor,
                    action="settlement.batch.start",
                    target=batch,
                    after={"number": batch.number, "upto_payable_id": upto},
                )
        except IntegrityError:
            batch = PaymentBatch.objects.get(programme=programme, status=PaymentBatch.Status.ASSEMBLING)
    checkpoint("batch_started")
    while True:
        with transaction.atomic(durable=True):
            locked = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
            top = _assemble_chunk(locked)
            if top is None:
                break
        checkpoint(f"chunk_committed:{top}")
    with transaction.atomic(durable=True):
        finished = PaymentBatch.objects.filter(pk=batch.pk, status=PaymentBatch.Status.ASSEMBLING).update(
            status=PaymentBatch.Status.PREPARED
        )
        batch.refresh_from_db()
        if finished:
            audit.record(
                actor=actor,
                action="settlement.batch.prepare",
                target=batch,
                after={"lines": batch.line_count, "total_fen": batch.total_fen},
            )
    return batch


def _assemble_chunk(batch: PaymentBatch) -> int | None:
    """Turn the next chunk of the batch's queued payables into payment lines and move the cursor past it;
    returns the chunk's last payable id, or None when the batch's scope is exhausted. Runs inside the
    caller's transaction, with the batch row locked.

    Set-based: the lines are made in the database from the payables and their payees (the bank account is
    copied, sealed as it is), so a city's day of thousands of merchants is a few statements instead of
    thousands of model instances. A payable without a payee (a merchant with no enrolment) gets no line: it
    stays queued and shows as unmatched in reconciliation.
    """
    scope: list[int | str] = [batch.programme_id, Payable.Status.QUEUED.value, batch.cursor_payable_id]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(id) FROM (SELECT p.id FROM settlement_payable p "
            "WHERE p.programme_id = %s AND p.status = %s AND p.id > %s AND p.id <= %s ORDER BY p.id LIMIT %s) c",
            [*scope, batch.upto_payable_id, ASSEMBLY_CHUNK],
        )
        top = cursor.fetchone()[0]
        if top is None:
            return None
        # line_id = batch number, "-", the payable id zero-padded to 10 digits (the same in SQLite and
        # PostgreSQL); the purpose is the one the payable's source registered.
        purpose_sql, purpose_params = _purpose_sql()
        cursor.execute(
            "INSERT INTO settlement_paymentline (batch_id, payable_id, line_id, payee_name, bank_name, "  # noqa: S608
            "account_cipher, account_masked, amount_fen, purpose, status, bank_reference, failure_reason) "
            "SELECT %s, p.id, %s || substr('0000000000' || CAST(p.id AS text), length(CAST(p.id AS text)) + 1), "
            f"y.account_name, y.bank_name, y.account_cipher, y.account_masked, p.amount_fen, {purpose_sql}, %s, '', '' "
            "FROM settlement_payable p JOIN settlement_payee y ON y.id = p.payee_id "
            "WHERE p.programme_id = %s AND p.status = %s AND p.id > %s AND p.id <= %s",
            [batch.pk, f"{batch.number}-", *purpose_params, PaymentLine.Status.PENDING.value, *scope, top],
        )
        window = [batch.pk, batch.cursor_payable_id, top]
        cursor.execute(
            "UPDATE settlement_payable SET status = %s WHERE id IN (SELECT payable_id FROM settlement_paymentline "
            "WHERE batch_id = %s AND payable_id > %s AND payable_id <= %s)",
            [Payable.Status.IN_BATCH.value, *window],
        )
        cursor.execute(
            "SELECT count(*), coalesce(sum(amount_fen), 0) FROM settlement_paymentline "
            "WHERE batch_id = %s AND payable_id > %s AND payable_id <= %s",
            window,
        )
        count, total = cursor.fetchone()
    batch.cursor_payable_id = top
    batch.line_count += count
    batch.total_fen += total
    batch.save(update_fields=["cursor_payable_id", "line_count", "total_fen"])
    return int(top)


def _purpose_sql() -> tuple[str, list[str]]:
    """A CASE expression on ``p.source_kind`` giving each registered source's purpose (用途)."""
    registered = list(sources.SOURCES.values())
    if not registered:
        return "%s", [PURPOSE]
    whens = " ".join("WHEN %s THEN %s" for _ in registered)
    params = [value for source in registered for value in (source.kind, source.purpose)]
    return f"CASE p.source_kind {whens} ELSE %s END", [*params, "补贴支付"]


BANK_FILE_COLUMNS = ["行号", "收款人", "开户行", "收款账号", "金额（元）", "用途"]


def bank_file_rows(batch: PaymentBatch) -> list[list[str]]:
    """The payment file's rows: the full account number appears here and nowhere else."""
    rows = [BANK_FILE_COLUMNS]
    for line in batch.lines.order_by("line_id"):
        rows.append(
            [
                line.line_id,
                line.payee_name,
                line.bank_name,
                crypto.decrypt(line.account_cipher, purpose="bank_account"),
                format_yuan(line.amount_fen, symbol=False, grouping=False),
                line.purpose,
            ]
        )
    return rows


def _bank_csv_bytes(rows: list[list[str]]) -> bytes:
    """The payment file as CSV: every value exactly as it is paid. Unlike ``core.spreadsheets.csv_bytes`` no
    apostrophe is put before a value that looks like a formula: the bank matches the payee name and the
    account number character for character, and a changed name fails the payment (the XLSX file keeps such
    a name as a text cell instead). It can: a name that starts like a formula is refused where it is entered
    (``core.domain.text``), so nobody can put a live formula into this file."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    # UTF-8 with BOM: the bank's Excel opens it with the Chinese intact.
    return "\ufeff".encode() + buffer.getvalue().encode()


def _xlsx_bytes(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("支付明细")
    for row in rows:
        sheet.append(spreadsheets.text_row(sheet, row))
    return spreadsheets.workbook_bytes(book)


def approve_refusal(*, actor: User, batch: PaymentBatch) -> DomainError | None:
    """Why ``actor`` cannot approve ``batch`` now, or None: the checker is a finance officer who did not prepare
    it (four eyes), and only a prepared batch is approved."""
    if not has_role(actor, *FINANCE_OFFICERS):
        return ForbiddenError("只有财政人员可以办理支付", code="finance_required")
    if batch.prepared_by_id == actor.pk:
        return ForbiddenError("制单人不能复核自己生成的批次", code="four_eyes")
    if batch.status != PaymentBatch.Status.PREPARED:
        return ConflictError("该批次不是待复核状态", code="batch_not_prepared")
    return None


def approve_batch(*, actor: User, batch: PaymentBatch) -> PaymentBatch:
    """The checker — a finance officer who did not prepare the batch — approves it; the bank files are made."""
    refusal = approve_refusal(actor=actor, batch=batch)
    if refusal is not None:
        raise refusal
    rows = bank_file_rows(batch)
    files = {"csv": _bank_csv_bytes(rows), "xlsx": _xlsx_bytes(rows)}
    digests = {file_format: hashlib.sha256(content).hexdigest() for file_format, content in files.items()}
    with transaction.atomic(durable=True):
        now = timezone.now()
        if not PaymentBatch.objects.filter(pk=batch.pk, status=PaymentBatch.Status.PREPARED).update(
            status=PaymentBatch.Status.APPROVED, approved_by=actor, approved_at=now
        ):
            raise ConflictError("该批次不是待复核状态", code="batch_not_prepared")
        for file_format, content in files.items():
            BankFile.objects.create(batch=batch, file_format=file_format, content=content, sha256=digests[file_format])
        audit.record(
            actor=actor,
            action="settlement.batch.approve",
            target=batch,
            before={"status": "prepared"},
            after={
                "status": "approved",
                "lines": batch.line_count,
                "total_fen": batch.total_fen,
                "csv_sha256": digests["csv"],
            },
        )
    batch.refresh_from_db()
    return batch


# ---------------------------------------------------------------- bank results


def _parse_amount(text: str) -> int | None:
    from huanxin.core.domain.money import parse_yuan

    try:
        return parse_yuan(text)
    except ValueError:
        return None


def _decode_results(content: bytes) -> str:
    """A bank's CSV as text: UTF-16 when it starts with a UTF-16 byte-order mark (Excel's "Unicode text"), else
    UTF-8 (BOM or not), else GB18030; anything else, or text with a NUL in it, is refused on ``file``."""
    encodings = ("utf-16",) if content.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise ValidationFailed.for_field("file", "invalid_encoding", "文件编码无法识别，请另存为 CSV UTF-8 后再导入")


def parse_bank_results(file_name: str, content: bytes) -> list[BankResultRow]:
    """Read a bank result file (CSV or XLSX): 行号, 结果 (成功/失败), 金额（元）, 银行流水号, 失败原因."""
    if file_name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception:
            raise ValidationFailed.for_field("file", "invalid_file", "无法读取该 Excel 文件") from None
        table = [
            ["" if cell is None else str(cell).strip() for cell in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        text = _decode_results(content)
        try:
            table = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
        except csv.Error:
            raise ValidationFailed.for_field("file", "invalid_file", "无法读取该 CSV 文件") from None
    if not table:
        raise ValidationFailed.for_field("file", "empty_file", "文件为空")
    header = table[0]
    wanted = {
        "行号": "line_id",
        "结果": "status",
        "金额（元）": "amount",
        "银行流水号": "reference",
        "失败原因": "reason",
    }
    index = {key: header.index(name) for name, key in wanted.items() if name in header}
    missing = [name for name, key in wanted.items() if key not in index and key in {"line_id", "status", "amount"}]
    if missing:
        raise ValidationFailed.for_field("file", "missing_columns", f"缺少列：{'、'.join(missing)}")

    def cell(row: list[str], key: str) -> str:
        position = index.get(key)
        return row[position] if position is not None and position < len(row) else ""

    rows = []
    for number, row in enumerate(table[1:], start=2):
        if not any(row):
            continue
        rows.append(
            BankResultRow(
                row_number=number,
                line_id=cell(row, "line_id"),
                status=RESULT_WORDS.get(cell(row, "status"), "?"),
                amount_fen=_parse_amount(cell(row, "amount")),
                bank_reference=cell(row, "reference")[:60],
                reason=cell(row, "reason")[:200],
            )
        )
    return rows


@dataclass(frozen=True)
class ImportOutcome:
    record: BankImport
    verdicts: list[dict[str, Any]]


def import_refusal(*, actor: User, batch: PaymentBatch) -> DomainError | None:
    """Why ``actor`` cannot import bank results for ``batch`` now, or None: a finance officer imports, into an
    approved batch that still has lines without a result (in a settled one every row would be refused)."""
    if not has_role(actor, *FINANCE_OFFICERS):
        return ForbiddenError("只有财政人员可以办理支付", code="finance_required")
    if batch.status == PaymentBatch.Status.SETTLED:
        return ConflictError("该批次每一行都已有支付结果，无需再导入回盘", code="batch_settled")
    if batch.status != PaymentBatch.Status.APPROVED:
        return ConflictError("批次尚未复核，不能导入回盘", code="batch_not_approved")
    return None


def import_bank_results(*, actor: User, batch: PaymentBatch, file_name: str, content: bytes) -> ImportOutcome:
    """Record the bank's answer line by line: paid lines settle their payables, failed lines send theirs back
    to the queue; refused rows are reported with reasons and change nothing."""
    refusal = import_refusal(actor=actor, batch=batch)
    if refusal is not None:
        raise refusal
    rows = parse_bank_results(file_name, content)
    now = timezone.now()
    with transaction.atomic(durable=True):
        lines = {
            line.line_id: line for line in PaymentLine.objects.select_for_update().filter(batch=batch).order_by("pk")
        }
        verdicts = check_bank_rows(rows, {k: LineState(v.amount_fen, v.status) for k, v in lines.items()})
        by_row = {row.row_number: row for row in rows}
        paid: list[int] = []
        failed: list[int] = []
        answered: list[tuple[PaymentLine, BankResultRow]] = []
        for verdict in verdicts:
            if not verdict.accepted:
                continue
            row = by_row[verdict.row_number]
            line = lines[verdict.line_id]
            if row.status == "paid":
                PaymentLine.objects.filter(pk=line.pk, status=PaymentLine.Status.PENDING).update(
                    status=PaymentLine.Status.PAID, bank_reference=row.bank_reference, result_at=now
                )
                paid.append(line.payable_id)
                answered.append((line, row))
            else:
                PaymentLine.objects.filter(pk=line.pk, status=PaymentLine.Status.PENDING).update(
                    status=PaymentLine.Status.FAILED,
                    failure_reason=row.reason,
                    bank_reference=row.bank_reference,
                    result_at=now,
                )
                failed.append(line.payable_id)
                answered.append((line, row))
        # Paid payables are settled; failed ones go back to the queue for the next batch.
        Payable.objects.filter(pk__in=paid).update(status=Payable.Status.PAID)
        Payable.objects.filter(pk__in=failed).update(status=Payable.Status.QUEUED)
        _tell_sources(answered, now)
        accepted = sum(v.accepted for v in verdicts)
        report = [v.__dict__ for v in verdicts]
        record = BankImport.objects.create(
            batch=batch,
            file_name=file_name[:200],
            sha256=hashlib.sha256(content).hexdigest(),
            imported_by=actor,
            accepted=accepted,
            refused=len(verdicts) - accepted,
            report=report,
        )
        if not PaymentLine.objects.filter(batch=batch, status=PaymentLine.Status.PENDING).exists():
            PaymentBatch.objects.filter(pk=batch.pk).update(status=PaymentBatch.Status.SETTLED)
        audit.record(
            actor=actor,
            action="settlement.bank.import",
            target=batch,
            after={"file": file_name, "accepted": accepted, "refused": len(verdicts) - accepted},
        )
    return ImportOutcome(record=record, verdicts=report)


def _tell_sources(answered: list[tuple[PaymentLine, BankResultRow]], now: datetime.datetime) -> None:
    """Give each answered line's source the bank's word, in the import's transaction. Only sources that
    registered a callback are asked (consumer-goods payables need none: their status is what is read)."""
    listening = sources.listening_kinds()
    if not answered or not listening:
        return
    payables = {
        pk: (kind, ref, payee)
        for pk, kind, ref, payee in Payable.objects.filter(
            pk__in=[line.payable_id for line, _ in answered], source_kind__in=listening
        ).values_list("pk", "source_kind", "source_ref", "payee_id")
    }
    for line, row in answered:
        found = payables.get(line.payable_id)
        if found is None:
            continue
        kind, ref, payee = found
        sources.notify(
            sources.PaymentResult(
                source_kind=kind,
                source_ref=ref,
                payable_id=line.payable_id,
                payee_id=payee,
                line_id=line.line_id,
                amount_fen=line.amount_fen,
                paid=row.status == "paid",
                bank_reference=row.bank_reference,
                failure_reason="" if row.status == "paid" else row.reason,
                at=now,
                requeued=row.status != "paid",
            )
        )


def get_batch(number: str) -> PaymentBatch:
    batch = PaymentBatch.objects.filter(number=number).first()
    if batch is None:
        raise NotFoundError("支付批次不存在", code="batch_not_found")
    return batch
