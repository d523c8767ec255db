"""Files the merchant takes away: its sales history as XLSX or CSV (the rows the page's filter selects)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.utils import timezone
from openpyxl import Workbook

from huanxin.core.domain.money import format_yuan
from huanxin.core.spreadsheets import csv_bytes, text_row, workbook_bytes
from huanxin.subsidies.models import Redemption

SALES_COLUMNS = [
    "核销编号",
    "核销时间",
    "门店",
    "资格码",
    "品类",
    "产品",
    "序列号/IMEI",
    "成交价（元）",
    "补贴（元）",
    "已冲回补贴（元）",
    "顾客实付（元）",
    "已退还顾客（元）",
    "状态",
    "规则版本",
]


def _yuan(amount_fen: int) -> str:
    return format_yuan(amount_fen, symbol=False, grouping=False)


def sales_rows(redemptions: Iterable[Redemption]) -> Iterator[list[Any]]:
    """One line per sale; ``redemptions`` carry ``refunded_fen`` (queries.merchant_sales)."""
    from huanxin.catalogue.domain.categories import category_name

    for r in redemptions:
        yield [
            str(r.pk),
            f"{timezone.localtime(r.redeemed_at):%Y-%m-%d %H:%M:%S}",
            r.store.name,
            r.qualification.code,
            category_name(r.category),
            str(r.product),
            r.serial,
            _yuan(r.price_fen),
            _yuan(r.subsidy_fen),
            _yuan(r.returned_fen),
            _yuan(r.paid_fen),
            _yuan(getattr(r, "refunded_fen", 0)),
            r.get_status_display(),
            r.rule_version,
        ]


def sales_xlsx(redemptions: Iterable[Redemption]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("核销记录")
    sheet.append(text_row(sheet, SALES_COLUMNS, bold=True))
    for row in sales_rows(redemptions):
        sheet.append(text_row(sheet, row))
    return workbook_bytes(book)


def sales_csv(redemptions: Iterable[Redemption]) -> bytes:
    return csv_bytes(SALES_COLUMNS, sales_rows(redemptions))
