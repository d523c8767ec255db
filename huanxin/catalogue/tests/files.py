"""Build the files a person would upload: CSV in the encodings Excel writes, and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

CHINESE_HEADER = ["品牌", "型号", "品类", "能效等级", "水效等级", "能效标识编号", "名称"]
ENGLISH_HEADER = ["brand", "model", "category", "energy_grade", "water_grade", "label_number", "name"]


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, title: str = "产品") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
