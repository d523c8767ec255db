"""XLSX exports: the reconciliation report (streamed row by row in openpyxl's write-only mode)."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from huanxin.core.domain.money import format_yuan
from huanxin.core.spreadsheets import XLSX_CONTENT_TYPE, text_row, workbook_bytes
from huanxin.settlement.models import BankFile, SettlementPeriod
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


def attachment(content: bytes, file_name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response


def bank_file_response(bank_file: BankFile, number: str) -> HttpResponse:
    content_type = "text/csv" if bank_file.file_format == "csv" else XLSX_CONTENT_TYPE
    return attachment(bytes(bank_file.content), f"{number}.{bank_file.file_format}", content_type)
