"""XLSX pieces every export shares (openpyxl, write-only workbooks).

Cells are written as text on purpose: a payee, merchant or product name typed as "=HYPERLINK(…)" must
stay data in the file a bank or an auditor opens, never become a live formula; account numbers and ids
keep all their digits.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def text_cell(sheet: Any, value: Any, *, bold: bool = False) -> WriteOnlyCell:
    """A cell that is always data. (openpyxl reads a string starting with "=" as a formula unless the
    cell's type is set to string.)"""
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def text_row(sheet: Any, values: Iterable[Any], *, bold: bool = False) -> list[WriteOnlyCell]:
    return [text_cell(sheet, value, bold=bold) for value in values]


def workbook_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
