"""Reading an uploaded product list: CSV (UTF-8 with or without BOM, or GB18030) or XLSX, as rows of text.

Chinese Excel saves "CSV" in the system code page (GBK/GB18030) unless told otherwise, and "CSV UTF-8"
with a byte-order mark; both must import without the user knowing the difference.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from huanxin.catalogue.domain.products import ImportFileError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the legacy binary .xls (and .doc) container
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode text" export: UTF-16, tab-separated
TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ""}


@dataclass(frozen=True)
class Table:
    """A file's header cells and its data rows, each with the row number a person sees in Excel."""

    file_format: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def file_format(file_name: str, content: bytes) -> str:
    """ "xlsx" or "csv", decided by the bytes first and the name second; refuses anything else."""
    suffix = PurePosixPath(file_name.replace("\\", "/")).suffix.lower()
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if content.startswith(OLE_MAGIC) or suffix == ".xls":
        raise ImportFileError(
            "unsupported_format", "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV UTF-8 后再导入"
        )
    if suffix in {".xlsx", ".xlsm"}:
        raise ImportFileError("invalid_file", "文件不是有效的 .xlsx 工作簿，可能已损坏")
    if suffix not in TEXT_SUFFIXES:
        raise ImportFileError("unsupported_format", "只支持 .xlsx 和 .csv 文件")
    return "csv"


def read_table(file_name: str, content: bytes, *, max_rows: int = MAX_ROWS) -> Table:
    """The header and data rows of an uploaded file; refuses files over 20 MB or with more than ``max_rows`` rows."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(
            "file_too_large", f"文件大小超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分为多个文件分批导入"
        )
    if not content.strip():
        raise ImportFileError("empty_file", "文件是空的")
    kind = file_format(file_name, content)
    lines = _xlsx_lines(content) if kind == "xlsx" else _csv_lines(content)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    data_rows = 0
    for row_number, cells in lines:
        blank = not any(cell.strip() for cell in cells)
        if header is None:
            if not blank:
                header = cells
            continue
        if not blank:
            data_rows += 1
            if data_rows > max_rows:
                raise ImportFileError("too_many_rows", f"文件超过 {max_rows:,} 行数据，请拆分为多个文件分批导入")
        rows.append((row_number, cells))
    if header is None:
        raise ImportFileError("empty_file", "文件中没有内容")
    if data_rows == 0:
        raise ImportFileError("no_rows", "文件只有表头，没有产品数据")
    return Table(file_format=kind, header=header, rows=rows)


def _decode(content: bytes) -> str:
    """UTF-8 (BOM or not) first, GB18030 second: every byte string is one or the other or neither."""
    if content.startswith(UTF16_BOMS):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            raise ImportFileError("invalid_encoding", "文件声明为 UTF-16，但内容不是有效的 UTF-16 编码") from None
    if content.startswith(UTF8_BOM):
        try:
            return content[len(UTF8_BOM) :].decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError("invalid_encoding", "文件声明为 UTF-8，但内容不是有效的 UTF-8 编码") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK and GB2312, the code pages Chinese Windows writes CSV in.
        return content.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFileError("invalid_encoding", "无法识别文件编码，请另存为 CSV UTF-8 或 .xlsx 后再导入") from None


def _csv_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # A record may span lines (a quoted cell with a line break); Excel shows it as one row, so count records.
        for number, cells in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in cells]
    except csv.Error as exc:
        raise ImportFileError("invalid_file", f"CSV 文件格式有误：{exc}") from None


def _cell_text(value: Any) -> str:
    """A cell as the text a person sees: 3.0 typed as a number is "3"; a date is YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def _xlsx_lines(content: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # an untrusted file can break the zip or XML reader in many different ways
        raise ImportFileError("invalid_file", "文件不是有效的 .xlsx 工作簿，可能已损坏") from None
    try:
        if not workbook.worksheets:
            raise ImportFileError("empty_file", "工作簿中没有工作表")
        sheet = workbook.worksheets[0]
        try:
            rows: Iterable[Sequence[Any]] = sheet.iter_rows(values_only=True)
            for number, values in enumerate(rows, start=1):
                yield number, [_cell_text(value) for value in values]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, SyntaxError):
            raise ImportFileError("invalid_file", "读取 .xlsx 工作簿时出错，文件可能已损坏") from None
    finally:
        workbook.close()
