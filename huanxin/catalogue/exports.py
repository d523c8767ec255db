"""Spreadsheets the catalogue hands out: the import report and the import template (XLSX, openpyxl)."""

from __future__ import annotations

from openpyxl import Workbook

from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.catalogue.domain.products import FIELD_LABELS
from huanxin.catalogue.services import ImportReport
from huanxin.core.spreadsheets import text_cell, text_row, workbook_bytes


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
        summary.append([text_cell(summary, label, bold=True), text_cell(summary, value)])
    refused = workbook.create_sheet("拒绝的行")
    refused.append([text_cell(refused, title, bold=True) for title in ("行号", "列", "原因代码", "原因", "原值")])
    for error in report.errors:
        refused.append(text_row(refused, (error.row, error.column_label, error.code, error.message, error.value)))
    return workbook_bytes(workbook)


def import_template_xlsx() -> bytes:
    """An empty product list with the expected header, one example row, and the category codes."""
    workbook = Workbook(write_only=True)
    products = workbook.create_sheet("产品")
    products.append(text_row(products, FIELD_LABELS.values(), bold=True))
    products.append(text_row(products, ("海尔", "BCD-500WLHTD78SMU1", "冰箱", 1, None, "", "海尔冰箱500升")))
    categories = workbook.create_sheet("品类代码")
    categories.append([text_cell(categories, "品类代码", bold=True), text_cell(categories, "中文名称", bold=True)])
    for code, name in CATEGORIES.items():
        categories.append([text_cell(categories, code), text_cell(categories, name)])
    return workbook_bytes(workbook)
