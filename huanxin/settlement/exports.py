"""XLSX/CSV exports: the reconciliation report (streamed row by row in openpyxl's write-only mode) and a
merchant's statement."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from huanxin.core.domain.money import format_yuan
from huanxin.core.spreadsheets import XLSX_CONTENT_TYPE, csv_bytes, text_row, workbook_bytes
from huanxin.settlement.models import BankFile, Payable, PaymentLine, SettlementPeriod
from huanxin.settlement.queries import reconciliation_rows, unmatched_items

RECONCILIATION_COLUMNS = [
    "核销编号",
    "核销时间",
    "商户",
    "序列号",
    "补贴（元）",
    "清算周期",
    "应付款编号",
    "应付状态",
    "支付行号",
    "支付状态",
    "银行流水号",
    "到账时间",
    "核销至到账天数",
]


def reconciliation_xlsx(period: SettlementPeriod) -> bytes:
    """Every redemption of the period with its payable, line and bank result; a second sheet lists what
    does not tie up. Cells are text so nothing is read as a formula or loses digits (core.spreadsheets)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("对账明细")
    sheet.append(text_row(sheet, RECONCILIATION_COLUMNS))
    for row in reconciliation_rows(period):
        sheet.append(
            text_row(
                sheet,
                [
                    str(row.redemption_id),
                    f"{timezone.localtime(row.redeemed_at):%Y-%m-%d %H:%M:%S}",
                    row.merchant,
                    row.serial,
                    format_yuan(row.subsidy_fen, symbol=False, grouping=False),
                    row.period,
                    str(row.payable_id or ""),
                    row.payable_status,
                    row.line_id,
                    row.line_status,
                    row.bank_reference,
                    f"{timezone.localtime(row.paid_at):%Y-%m-%d %H:%M}" if row.paid_at else "",
                    "" if row.days_to_pay is None else str(row.days_to_pay),
                ],
            )
        )
    problems = book.create_sheet("未匹配项")
    problems.append(text_row(problems, ["类型", "编号", "说明"]))
    for item in unmatched_items(period):
        problems.append(text_row(problems, [item.kind, item.reference, item.detail]))
    return workbook_bytes(book)


STATEMENT_COLUMNS = [
    "清算周期",
    "项目",
    "核销笔数",
    "立减补贴（元）",
    "退货追回笔数",
    "退货追回（元）",
    "上期结转（元）",
    "结转下期（元）",
    "应付（元）",
    "状态",
    "银行流水号",
    "到账时间",
    "说明",
]


def _line_note(line: PaymentLine) -> str:
    if line.status == PaymentLine.Status.FAILED:
        return f"支付失败：{line.failure_reason}"
    if line.status == PaymentLine.Status.PENDING:
        return f"批次 {line.batch_id} 等待银行回盘"
    return ""


def statement_rows(payables: Iterable[Payable]) -> Iterator[list[str]]:
    """One line per payable, as the statement page shows it (the paid line's bank reference and time)."""
    for p in payables:
        lines = list(p.lines.all())
        paid = next((line for line in lines if line.status == PaymentLine.Status.PAID), None)
        notes = [note for note in (_line_note(line) for line in lines) if note]
        if p.carried_out_fen:
            notes.insert(0, f"余额 {format_yuan(p.carried_out_fen, symbol=False, grouping=False)} 元结转下期")
        yield [
            str(p.period or ""),
            p.programme.code,
            str(p.redemption_count),
            format_yuan(p.redemptions_fen, symbol=False, grouping=False),
            str(p.clawback_count),
            format_yuan(p.clawbacks_fen, symbol=False, grouping=False),
            format_yuan(p.carried_in_fen, symbol=False, grouping=False),
            format_yuan(p.carried_out_fen, symbol=False, grouping=False),
            format_yuan(p.amount_fen, symbol=False, grouping=False),
            p.get_status_display(),
            paid.bank_reference if paid else "",
            f"{timezone.localtime(paid.result_at):%Y-%m-%d %H:%M}" if paid and paid.result_at else "",
            "；".join(notes),
        ]


def statement_xlsx(payables: Iterable[Payable]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("结算单")
    sheet.append(text_row(sheet, STATEMENT_COLUMNS, bold=True))
    for row in statement_rows(payables):
        sheet.append(text_row(sheet, row))
    return workbook_bytes(book)


def statement_csv(payables: Iterable[Payable]) -> bytes:
    return csv_bytes(STATEMENT_COLUMNS, statement_rows(payables))


def attachment(content: bytes, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def bank_file_response(bank_file: BankFile, number: str) -> HttpResponse:
    content_type = "text/csv" if bank_file.file_format == "csv" else XLSX_CONTENT_TYPE
    return attachment(bytes(bank_file.content), f"{number}.{bank_file.file_format}", content_type)
