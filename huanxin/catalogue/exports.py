"""Spreadsheets the catalogue hands out: the import report and the import template (XLSX, openpyxl)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.catalogue.domain.products import FIELD_LABELS
from huanxin.catalogue.services import ImportReport

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _text(sheet: Any, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    """A cell that is always data: a refused value like "=HYPERLINK(…)" must never become a live formula."""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_report_xlsx(report: ImportReport) -> bytes:
    """The import report as a workbook: a summary sheet and one line per refusal (row, column, code, reason)."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet("汇总")
    for label, value in (
        ("文件名", report.file_name),
        ("导入时间", f"{report.uploaded_at:%Y-%m-%d %H:%M}"),
        ("导入人", report.uploaded_by),
        ("数据行数", report.total_rows),
        ("新增", report.created),
        ("更新", report.updated),
        ("未变", report.unchanged),
        ("拒绝", report.refused),
    ):
        summary.append([_text(summary, label, bold=True), _text(summary, value)])
    refused = workbook.create_sheet("拒绝的行")
    refused.append([_text(refused, title, bold=True) for title in ("行号", "列", "原因代码", "原因", "原值")])
    for error in report.errors:
        refused.append(
            [_text(refused, value) for value in (error.row, error.column_label, error.code, error.message, error.value)]
        )
    return _save(workbook)


def import_template_xlsx() -> bytes:
    """An empty product list with the expected header, one example row, and the category codes."""
    workbook = Workbook(write_only=True)
    products = workbook.create_sheet("产品")
    products.append([_text(products, title, bold=True) for title in FIELD_LABELS.values()])
    products.append([_text(products, v) for v in ("海尔", "BCD-500WLHTD78SMU1", "冰箱", 1, None, "", "海尔冰箱500升")])
    categories = workbook.create_sheet("品类代码")
    categories.append([_text(categories, "品类代码", bold=True), _text(categories, "中文名称", bold=True)])
    for code, name in CATEGORIES.items():
        categories.append([_text(categories, code), _text(categories, name)])
    return _save(workbook)
