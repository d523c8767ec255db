"""Product rows: the natural key, the columns an import file may have, and the check of each row.

Everything here is pure: a row arrives as text cells and leaves either as a :class:`ProductRow` ready to
store or as a list of :class:`RowError` with a stable code and a Chinese reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Self

from huanxin.catalogue.domain.categories import resolve_category
from huanxin.core.domain.text import FORMULA_CODE, formula_message, starts_like_formula

# Field name → the Chinese column title used in templates, messages and the report.
FIELD_LABELS: dict[str, str] = {
    "brand": "品牌",
    "model_number": "型号",
    "category": "品类",
    "energy_grade": "能效等级",
    "water_grade": "水效等级",
    "label_number": "能效标识编号",
    "name": "名称",
}
REQUIRED_FIELDS = ("brand", "model_number", "category")
# What the import compares with the stored product to tell "updated" from "unchanged".
STORED_FIELDS = ("category", "energy_grade", "water_grade", "label_number", "name")

MAX_LENGTHS = {"brand": 60, "model_number": 60, "label_number": 40, "name": 120}
# The China Energy Label runs from grade 1 (best) to at most grade 5; water-efficiency labels likewise.
GRADES = range(1, 6)
# Longest raw cell value kept in an error report: enough to recognise the row, never a whole blob.
REPORT_VALUE_LENGTH = 100

# Header cell (normalised by _header_key) → field. Chinese titles first, then the English ones.
HEADER_ALIASES: dict[str, str] = {
    "品牌": "brand",
    "型号": "model_number",
    "产品型号": "model_number",
    "规格型号": "model_number",
    "品类": "category",
    "产品品类": "category",
    "能效等级": "energy_grade",
    "水效等级": "water_grade",
    "能效标识编号": "label_number",
    "能效标识备案号": "label_number",
    "名称": "name",
    "产品名称": "name",
    "brand": "brand",
    "model": "model_number",
    "model_number": "model_number",
    "category": "category",
    "energy_grade": "energy_grade",
    "water_grade": "water_grade",
    "label_number": "label_number",
    "name": "name",
}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (format, size, header); no row of it is stored."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ProductKey:
    """The natural key of a product model: the brand and the model number, both normalised."""

    brand: str
    model_number: str


@dataclass(frozen=True)
class ProductRow:
    """One valid row of an import file, normalised and ready to store."""

    row_number: int
    brand: str
    model_number: str
    category: str
    energy_grade: int | None
    water_grade: int | None
    label_number: str
    name: str

    @property
    def key(self) -> ProductKey:
        return ProductKey(self.brand, self.model_number)

    def stored_values(self) -> dict[str, str | int | None]:
        """The values an existing product must have for this row to change nothing."""
        return {name: getattr(self, name) for name in STORED_FIELDS}


@dataclass(frozen=True)
class RowError:
    """Why one row (or one cell of it) was refused: the spreadsheet row number, the field, a stable code.

    Every import of the platform reports its rows with this (a subclass names its own columns in ``labels``)."""

    labels: ClassVar[Mapping[str, str]] = FIELD_LABELS

    row: int
    column: str
    code: str
    message: str
    value: str = ""

    @property
    def column_label(self) -> str:
        return self.labels.get(self.column, self.column)

    def as_dict(self) -> dict[str, str | int]:
        return {"row": self.row, "column": self.column, "code": self.code, "message": self.message, "value": self.value}

    @classmethod
    def from_dict(cls, data: Mapping[str, str | int]) -> Self:
        return cls(
            row=int(data["row"]),
            column=str(data["column"]),
            code=str(data["code"]),
            message=str(data["message"]),
            value=str(data.get("value", "")),
        )


@dataclass
class CheckedRows:
    """The outcome of checking every data row of a file: the rows to store and the reasons for the rest."""

    valid: list[ProductRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    @property
    def refused_rows(self) -> int:
        return len({error.row for error in self.errors})


def normalise_brand(text: str) -> str:
    """A brand as stored: trimmed, inner whitespace collapsed to one space, case kept (海尔, Haier)."""
    return " ".join(text.split())


def normalise_model_number(text: str) -> str:
    """A model number as stored: full-width characters made half-width, whitespace collapsed, upper case.

    Model numbers are typed by hand in Chinese spreadsheets, where ＢＣＤ－５００ and bcd-500 both mean BCD-500.
    """
    return " ".join(unicodedata.normalize("NFKC", text).split()).upper()


def product_key(brand: str, model_number: str) -> ProductKey:
    """The natural key for a brand and model number as typed."""
    return ProductKey(normalise_brand(brand), normalise_model_number(model_number))


_EMPTY_GRADE = {"", "-", "—", "/", "无", "none", "n/a"}
_GRADE_PATTERN = re.compile(r"^([1-5一二三四五])(?:\.0+)?(?:级)?(?:能效|水效)?$")
_CHINESE_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parse_grade(text: str) -> int | None:
    """An energy or water grade from a cell: 1–5 (also "1级", "一级", "1.0"); blank or "无" means none.

    Raises ValueError for anything else, including 0 and 6: the label has no such grade.
    """
    cleaned = "".join(unicodedata.normalize("NFKC", text).split()).lower()
    if cleaned in _EMPTY_GRADE:
        return None
    match = _GRADE_PATTERN.match(cleaned)
    if match is None:
        raise ValueError(text)
    digit = match.group(1)
    return _CHINESE_DIGITS.get(digit) or int(digit)


def _header_key(text: str) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip().strip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", cleaned)


def map_header(cells: Sequence[str]) -> dict[str, int]:
    """Which column holds which field; unknown columns are ignored. Refuses a missing or repeated column."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = HEADER_ALIASES.get(_header_key(cell))
        if name is None:
            continue
        if name in columns:
            raise ImportFileError("duplicate_column", f"表头中“{FIELD_LABELS[name]}”列出现了不止一次")
        columns[name] = index
    missing = [FIELD_LABELS[name] for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        raise ImportFileError(
            "missing_columns",
            f"表头缺少必需的列：{'、'.join(missing)}（第一行应为表头，如 品牌、型号、品类 或 brand、model、category）",
        )
    return columns


def _shown(value: str) -> str:
    return value[:REPORT_VALUE_LENGTH]


def check_row(row_number: int, values: Mapping[str, str]) -> ProductRow | list[RowError]:
    """Check one data row: required brand, model and category, a known category, grades 1–5, lengths."""
    errors: list[RowError] = []
    raw = {name: (values.get(name) or "").strip() for name in FIELD_LABELS}
    brand = normalise_brand(raw["brand"])
    model_number = normalise_model_number(raw["model_number"])
    label_number = normalise_model_number(raw["label_number"])
    name = " ".join(raw["name"].split())
    for field_name, message in (("brand", "品牌不能为空"), ("model_number", "型号不能为空")):
        if not raw[field_name]:
            errors.append(RowError(row_number, field_name, f"missing_{field_name}", message))
    category = resolve_category(raw["category"]) if raw["category"] else None
    if not raw["category"]:
        errors.append(RowError(row_number, "category", "missing_category", "品类不能为空"))
    elif category is None:
        errors.append(
            RowError(
                row_number,
                "category",
                "unknown_category",
                f"品类“{_shown(raw['category'])}”不在补贴品类目录中，请填写品类代码或中文名称",
                _shown(raw["category"]),
            )
        )
    grades: dict[str, int | None] = {}
    for field_name in ("energy_grade", "water_grade"):
        try:
            grades[field_name] = parse_grade(raw[field_name])
        except ValueError:
            errors.append(
                RowError(
                    row_number,
                    field_name,
                    f"invalid_{field_name}",
                    f"{FIELD_LABELS[field_name]}应为1至5级，没有则留空",
                    _shown(raw[field_name]),
                )
            )
    for field_name, value in (("brand", brand), ("model_number", model_number), ("label_number", label_number)):
        if len(value) > MAX_LENGTHS[field_name]:
            errors.append(_too_long(row_number, field_name, value))
    if len(name) > MAX_LENGTHS["name"]:
        errors.append(_too_long(row_number, "name", name))
    for field_name, value in (("brand", brand), ("name", name)):
        if starts_like_formula(value):
            errors.append(
                RowError(row_number, field_name, FORMULA_CODE, formula_message(FIELD_LABELS[field_name]), _shown(value))
            )
    if errors or category is None:
        return errors
    return ProductRow(
        row_number=row_number,
        brand=brand,
        model_number=model_number,
        category=category,
        energy_grade=grades["energy_grade"],
        water_grade=grades["water_grade"],
        label_number=label_number,
        name=name,
    )


def _too_long(row_number: int, field_name: str, value: str) -> RowError:
    limit = MAX_LENGTHS[field_name]
    return RowError(
        row_number, field_name, "too_long", f"{FIELD_LABELS[field_name]}不能超过{limit}个字符", _shown(value)
    )


def check_rows(rows: Iterable[tuple[int, Sequence[str]]], columns: Mapping[str, int]) -> CheckedRows:
    """Check every data row; a brand and model already seen earlier in the same file is refused."""
    result = CheckedRows()
    first_seen: dict[ProductKey, int] = {}
    for row_number, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between blocks of data are not rows
        result.total_rows += 1
        values = {name: cells[index] if index < len(cells) else "" for name, index in columns.items()}
        checked = check_row(row_number, values)
        errors = checked if isinstance(checked, list) else []
        brand, model_number = values.get("brand", ""), values.get("model_number", "")
        if brand.strip() and model_number.strip():
            key = product_key(brand, model_number)
            earlier = first_seen.setdefault(key, row_number)
            if earlier != row_number:
                errors.append(
                    RowError(
                        row_number,
                        "model_number",
                        "duplicate_in_file",
                        f"品牌和型号与第 {earlier} 行重复，同一文件中每个型号只能出现一次",
                        _shown(f"{key.brand} {key.model_number}"),
                    )
                )
        if errors:
            result.errors.extend(errors)
        elif isinstance(checked, ProductRow):
            result.valid.append(checked)
    return result
