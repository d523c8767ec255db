"""XLSX and CSV pieces every export shares (openpyxl, write-only workbooks; the csv module).

Cells are written as text on purpose: a payee, merchant or product name typed as "=HYPERLINK(…)" must
stay data in the file a bank or an auditor opens, never become a live formula; account numbers and ids
keep all their digits. A CSV has no cell types, so a text that a spreadsheet would read as a formula gets
a leading apostrophe instead (the OWASP advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from huanxin.core.domain.text import FORMULA_START

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


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


def csv_text(value: Any) -> str:
    """A CSV cell that a spreadsheet will not run: text starting like a formula gets a leading apostrophe
    (a plain negative number such as "-12.50" stays a number)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text


def csv_bytes(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    """A CSV file in UTF-8 with a byte-order mark (so that Excel shows Chinese correctly), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_text(value) for value in header])
    for row in rows:
        writer.writerow([csv_text(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
