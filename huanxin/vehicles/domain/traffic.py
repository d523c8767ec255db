"""Rows of the traffic police's registration data (机动车登记信息): the columns a file may have and the check
of each row.

Pure: a row arrives as text cells and leaves either as an :class:`EventRow` ready to record or as a list of
:class:`RowError`, each with the spreadsheet row number, the field, a stable code and a Chinese reason. The file
is read by the catalogue's reader (CSV in UTF-8 with or without BOM, GB18030/GBK, UTF-16; or XLSX).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Final

from huanxin.catalogue.domain import products
from huanxin.catalogue.domain.products import ImportFileError
from huanxin.core.domain.identifiers import IdentifierError, validate_resident_id, validate_uscc
from huanxin.core.domain.text import FORMULA_CODE, formula_message, starts_like_formula
from huanxin.vehicles.domain import records
from huanxin.vehicles.domain.vin import VinError, validate_vin

__all__ = ["FIELD_LABELS", "CheckedRows", "EventRow", "ImportFileError", "RowError", "check_rows", "map_header"]

FIELD_LABELS: Final[dict[str, str]] = {
    "kind": "业务类型",
    "vin": "车辆识别代号",
    "occurred_on": "业务日期",
    "vehicle_type": "车辆类型",
    "use": "使用性质",
    "fuel": "燃料种类",
    "displacement_ml": "排量（毫升）",
    "emission_standard": "排放标准",
    "owner_kind": "所有人类型",
    "owner_name": "所有人名称",
    "owner_id_number": "所有人证件号码",
    "district": "登记区",
    "inspection_passed": "检验结果",
    "mileage_km": "行驶里程（公里）",
    "reason": "注销原因",
}
REQUIRED_COLUMNS: Final = ("kind", "vin", "occurred_on")
# The kinds the traffic police record; scrapping is recorded by the licensed scrapping enterprise.
IMPORTABLE_KINDS: Final = ("registration", "transfer", "inspection", "deregistration")
DEREGISTRATION_REASONS: Final[Mapping[str, str]] = {
    "scrapped": "报废",
    "lost": "灭失",
    "exported": "出口",
    "returned": "退车",
    "other": "其他",
}
# No motor vehicle on the road today was registered before the People's Republic kept a register.
EARLIEST_EVENT_DATE: Final = datetime.date(1950, 1, 1)
MAX_DISPLACEMENT_ML: Final = 30_000  # the largest engines on the road are about 20 L (heavy trucks, buses)
MAX_MILEAGE_KM: Final = 10_000_000
OWNER_NAME_MAX: Final = 120
REPORT_VALUE_LENGTH: Final = 100

_HEADER_ALIASES: Final[dict[str, str]] = {
    **{label: name for name, label in FIELD_LABELS.items()},
    **{name: name for name in FIELD_LABELS},
    "业务类别": "kind",
    "登记类型": "kind",
    "vin": "vin",
    "车架号": "vin",
    "车辆识别代号(vin)": "vin",
    "日期": "occurred_on",
    "登记日期": "occurred_on",
    "排量": "displacement_ml",
    "排量(ml)": "displacement_ml",
    "排量(毫升)": "displacement_ml",
    "所有人": "owner_name",
    "所有人姓名/名称": "owner_name",
    "证件号码": "owner_id_number",
    "身份证明号码": "owner_id_number",
    "行政区": "district",
    "所在区": "district",
    "行驶里程": "mileage_km",
    "里程": "mileage_km",
    "行驶里程(公里)": "mileage_km",
}

_DATE_PATTERNS: Final = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_PASSED: Final = {"合格": True, "通过": True, "是": True, "true": True, "1": True,
                  "不合格": False, "未通过": False, "否": False, "false": False, "0": False}  # fmt: skip


@dataclass(frozen=True)
class RowError(products.RowError):
    """Why one row (or one cell of it) was refused, named with the traffic-police file's columns."""

    labels: ClassVar[Mapping[str, str]] = FIELD_LABELS


@dataclass(frozen=True)
class EventRow:
    """One valid row: an event of a vehicle, normalised. ``owner_id_number`` is plaintext here and is sealed
    by the service before anything is stored."""

    row_number: int
    kind: str
    vin: str
    occurred_on: datetime.date
    district_code: str = ""
    vehicle_type: str = ""
    use: str = ""
    fuel: str = ""
    displacement_ml: int = 0
    emission_standard: str = ""
    owner_kind: str = ""
    owner_name: str = ""
    owner_id_number: str = field(default="", repr=False)
    inspection_passed: bool | None = None
    mileage_km: int | None = None
    reason: str = ""

    @property
    def identity(self) -> tuple[str, str, datetime.date]:
        """What makes two rows the same event: the vehicle, the kind and the day."""
        return (self.vin, self.kind, self.occurred_on)

    def canonical(self) -> str:
        """Every value of the row in one fixed text form: two rows with the same text are the same event,
        recorded once (the service keys it, as it contains an identity number)."""
        values = (
            self.kind,
            self.vin,
            self.occurred_on.isoformat(),
            self.district_code,
            self.vehicle_type,
            self.use,
            self.fuel,
            str(self.displacement_ml),
            self.emission_standard,
            self.owner_kind,
            self.owner_name,
            self.owner_id_number,
            "" if self.inspection_passed is None else str(int(self.inspection_passed)),
            "" if self.mileage_km is None else str(self.mileage_km),
            self.reason,
        )
        return "\x1f".join(values)


@dataclass
class CheckedRows:
    """The outcome of checking every data row of a file: the rows to record and the reasons for the rest."""

    valid: list[EventRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    @property
    def refused_rows(self) -> int:
        return len({error.row for error in self.errors})


def _header_key(text: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip().strip("*").strip().lower()
    return re.sub(r"\s+", "", cleaned)


_ALIASES: Final = {_header_key(alias): name for alias, name in _HEADER_ALIASES.items()}


def map_header(cells: Sequence[str]) -> dict[str, int]:
    """Which column holds which field; unknown columns are ignored. Refuses a missing or repeated column."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = _ALIASES.get(_header_key(cell))
        if name is None:
            continue
        if name in columns:
            raise ImportFileError("duplicate_column", f"表头中“{FIELD_LABELS[name]}”列出现了不止一次")
        columns[name] = index
    missing = [FIELD_LABELS[name] for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise ImportFileError(
            "missing_columns",
            f"表头缺少必需的列：{'、'.join(missing)}（第一行应为表头，如 业务类型、车辆识别代号、业务日期）",
        )
    return columns


def parse_date(text: str) -> datetime.date:
    """A day written as 2024-03-01, 2024/3/1, 2024.3.1, 2024年3月1日 or 20240301; ValueError otherwise."""
    cleaned = "".join(unicodedata.normalize("NFKC", text).split())
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(part) for part in match.groups())
            return datetime.date(year, month, day)
    raise ValueError(text)


def _integer(text: str) -> int:
    cleaned = "".join(unicodedata.normalize("NFKC", text).split()).replace(",", "")
    if cleaned.endswith(".0"):
        cleaned = cleaned[:-2]
    if not cleaned.isdigit() or len(cleaned) > 12:
        raise ValueError(text)
    return int(cleaned)


def _shown(value: str) -> str:
    return value[:REPORT_VALUE_LENGTH]


class _Row:
    """Collects the errors of one row while its cells are read."""

    def __init__(self, row_number: int, values: Mapping[str, str]) -> None:
        self.number = row_number
        self.raw = {name: (values.get(name) or "").strip() for name in FIELD_LABELS}
        self.errors: list[RowError] = []

    def refuse(self, column: str, code: str, message: str, *, show: bool = True) -> None:
        self.errors.append(RowError(self.number, column, code, message, _shown(self.raw[column]) if show else ""))

    def required(self, column: str) -> str:
        value = self.raw[column]
        if not value:
            self.refuse(column, f"missing_{column}", f"{FIELD_LABELS[column]}不能为空")
        return value

    def choice(self, column: str, vocabulary: str, *, required: bool) -> str:
        value = self.required(column) if required else self.raw[column]
        if not value:
            return ""
        code = records.parse(vocabulary, value)
        if code is None:
            self.refuse(column, f"unknown_{column}", f"{FIELD_LABELS[column]}“{_shown(value)}”无法识别")
            return ""
        return code


def check_row(
    row_number: int, values: Mapping[str, str], *, districts: Mapping[str, str], today: datetime.date
) -> EventRow | list[RowError]:
    """Check one data row. ``districts`` maps each district's code, name and short name to its code; ``today``
    is the Beijing date (no event is dated in the future)."""
    row = _Row(row_number, values)
    kind = row.choice("kind", "event_kind", required=True)
    if kind and kind not in IMPORTABLE_KINDS:
        row.refuse("kind", "kind_not_importable", "报废回收由报废机动车回收拆解企业录入，不能通过登记数据导入")
        kind = ""
    vin = ""
    if row.required("vin"):
        try:
            vin = validate_vin(row.raw["vin"])
        except VinError as exc:
            row.refuse("vin", exc.code, exc.message)
    occurred_on: datetime.date | None = None
    if row.required("occurred_on"):
        try:
            occurred_on = parse_date(row.raw["occurred_on"])
        except ValueError:
            row.refuse("occurred_on", "invalid_date", "业务日期格式不正确，应为 YYYY-MM-DD")
        else:
            if occurred_on > today:
                row.refuse("occurred_on", "date_in_future", "业务日期不能晚于今天")
            elif occurred_on < EARLIEST_EVENT_DATE:
                row.refuse("occurred_on", "date_out_of_range", "业务日期不能早于1950年1月1日，请核对")
    facts: dict[str, object] = {}
    if kind == "registration":
        facts |= _vehicle_facts(row)
    if kind in {"registration", "transfer"}:
        facts |= _owner_facts(row, today)
    if kind == "registration" or (kind == "transfer" and row.raw["district"]):
        facts["district_code"] = _district(row, districts)
    if kind == "transfer" and row.raw["use"]:
        facts["use"] = row.choice("use", "use", required=False)
    if kind == "inspection":
        facts |= _inspection_facts(row)
    if kind == "deregistration" and row.raw["reason"]:
        reason = next(
            (code for code, label in DEREGISTRATION_REASONS.items() if row.raw["reason"] in {code, label}), None
        )
        if reason is None:
            row.refuse("reason", "unknown_reason", "注销原因应为 报废、灭失、出口、退车 或 其他")
        facts["reason"] = reason or ""
    if row.errors or not kind or not vin or occurred_on is None:
        return row.errors
    return EventRow(row_number=row_number, kind=kind, vin=vin, occurred_on=occurred_on, **facts)  # type: ignore[arg-type]


def _vehicle_facts(row: _Row) -> dict[str, object]:
    vehicle_type = row.choice("vehicle_type", "vehicle_type", required=True)
    use = row.choice("use", "use", required=True)
    fuel = row.choice("fuel", "fuel", required=True)
    # A battery-electric or fuel-cell car has no engine: no displacement and no emission stage to state.
    engineless = fuel in {"bev", "fcev"}
    displacement = 0
    text = row.raw["displacement_ml"]
    if not text and not engineless and fuel:
        row.refuse("displacement_ml", "missing_displacement_ml", "燃油车辆的排量不能为空（单位：毫升）")
    elif text:
        try:
            displacement = _integer(text)
        except ValueError:
            row.refuse("displacement_ml", "invalid_displacement_ml", "排量应为整数毫升，如 1998")
        else:
            if displacement > MAX_DISPLACEMENT_ML:
                row.refuse("displacement_ml", "displacement_out_of_range", "排量超出合理范围，请以毫升填写")
    emission = row.choice("emission_standard", "emission_standard", required=False)
    if not row.raw["emission_standard"] and not engineless and fuel:
        row.refuse("emission_standard", "missing_emission_standard", "燃油车辆的排放标准不能为空（国一至国六）")
    return {
        "vehicle_type": vehicle_type,
        "use": use,
        "fuel": fuel,
        "displacement_ml": displacement,
        "emission_standard": emission,
    }


def _owner_facts(row: _Row, today: datetime.date) -> dict[str, object]:
    owner_kind = row.choice("owner_kind", "owner_kind", required=True)
    name = " ".join(row.required("owner_name").split())
    if len(name) > OWNER_NAME_MAX:
        row.refuse("owner_name", "too_long", f"所有人名称不能超过{OWNER_NAME_MAX}个字符")
    elif starts_like_formula(name):
        row.refuse("owner_name", FORMULA_CODE, formula_message(FIELD_LABELS["owner_name"]))
    number = ""
    if row.required("owner_id_number") and owner_kind:
        try:
            if owner_kind == "person":
                number = validate_resident_id(row.raw["owner_id_number"], today=today)
            else:
                number = validate_uscc(row.raw["owner_id_number"])
        except IdentifierError as exc:
            # The number is personal data: the report names the problem but never repeats the value.
            row.refuse("owner_id_number", f"owner_id_{exc.code}", exc.message, show=False)
    return {"owner_kind": owner_kind, "owner_name": name, "owner_id_number": number}


def _district(row: _Row, districts: Mapping[str, str]) -> str:
    text = row.required("district")
    if not text:
        return ""
    code = districts.get("".join(text.split()))
    if code is None:
        row.refuse("district", "unknown_district", f"登记区“{_shown(text)}”不是北京市的行政区，请填写区名称或代码")
        return ""
    return code


def _inspection_facts(row: _Row) -> dict[str, object]:
    passed: bool | None = None
    if row.required("inspection_passed"):
        passed = _PASSED.get(row.raw["inspection_passed"].lower())
        if passed is None:
            row.refuse("inspection_passed", "invalid_inspection_passed", "检验结果应为 合格 或 不合格")
    mileage: int | None = None
    if row.raw["mileage_km"]:
        try:
            mileage = _integer(row.raw["mileage_km"])
        except ValueError:
            row.refuse("mileage_km", "invalid_mileage_km", "行驶里程应为整数公里")
        else:
            if mileage > MAX_MILEAGE_KM:
                row.refuse("mileage_km", "mileage_out_of_range", "行驶里程超出合理范围")
                mileage = None
    return {"inspection_passed": passed, "mileage_km": mileage}


def check_rows(
    rows: Iterable[tuple[int, Sequence[str]]],
    columns: Mapping[str, int],
    *,
    districts: Mapping[str, str],
    today: datetime.date,
) -> CheckedRows:
    """Check every data row; the same event (vehicle, kind, day) twice in one file is refused the second time."""
    result = CheckedRows()
    first_seen: dict[tuple[str, str, datetime.date], int] = {}
    for row_number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between blocks of data are not rows
        result.total_rows += 1
        values = {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}
        checked = check_row(row_number, values, districts=districts, today=today)
        if isinstance(checked, list):
            result.errors.extend(checked)
            continue
        earlier = first_seen.setdefault(checked.identity, row_number)
        if earlier != row_number:
            result.errors.append(
                RowError(
                    row_number,
                    "vin",
                    "duplicate_in_file",
                    f"与第 {earlier} 行是同一车辆同一天的同一业务，同一文件中只能出现一次",
                    checked.vin,
                )
            )
            continue
        result.valid.append(checked)
    return result
