"""Test helpers: VINs with a correct check digit, traffic-police files, vehicles recorded through the import."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from huanxin.core.domain.identifiers import vin_check_digit

_sequence = itertools.count(1)

HEADER = [
    "业务类型",
    "车辆识别代号",
    "业务日期",
    "车辆类型",
    "使用性质",
    "燃料种类",
    "排量（毫升）",
    "排放标准",
    "所有人类型",
    "所有人名称",
    "所有人证件号码",
    "登记区",
    "检验结果",
    "行驶里程（公里）",
    "注销原因",
]


def vin_with_check_digit(sixteen: str) -> str:
    """A VIN from 16 characters (positions 1–8 and 10–17), with the check digit put in position 9."""
    assert len(sixteen) == 16
    draft = sixteen[:8] + "0" + sixteen[8:]
    return draft[:8] + vin_check_digit(draft) + draft[9:]


def new_vin(wmi: str = "LSV") -> str:
    """A Chinese-looking VIN (world manufacturer identifier LSV…), different on every call."""
    return vin_with_check_digit(f"{wmi}AB23C" + f"P{next(_sequence):07d}")


def registration(vin: str, *, on: str = "2012-05-01", **overrides: Any) -> list[Any]:
    values = {
        "kind": "注册登记",
        "vin": vin,
        "on": on,
        "type": "private_small",
        "use": "非营运",
        "fuel": "汽油",
        "displacement": "1598",
        "emission": "国四",
        "owner_kind": "个人",
        "owner_name": "王小明",
        "owner_id": "",
        "district": "朝阳区",
    }
    values.update(overrides)
    return [
        values["kind"],
        values["vin"],
        values["on"],
        values["type"],
        values["use"],
        values["fuel"],
        values["displacement"],
        values["emission"],
        values["owner_kind"],
        values["owner_name"],
        values["owner_id"],
        values["district"],
        "",
        "",
        "",
    ]


def transfer(vin: str, *, on: str, owner_kind: str, owner_name: str, owner_id: str, district: str = "") -> list[Any]:
    return ["转移登记", vin, on, "", "", "", "", "", owner_kind, owner_name, owner_id, district, "", "", ""]


def inspection(vin: str, *, on: str, passed: str = "合格", mileage: str = "") -> list[Any]:
    return ["检验", vin, on, "", "", "", "", "", "", "", "", "", passed, mileage, ""]


def deregistration(vin: str, *, on: str, reason: str = "报废") -> list[Any]:
    return ["注销登记", vin, on, "", "", "", "", "", "", "", "", "", "", "", reason]


def csv_file(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_file(rows: Sequence[Sequence[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in [HEADER, *rows]:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
