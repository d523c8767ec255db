"""Reverse invoicing (反向开票) without the database: the rolling 12-month window, the qualifications a recycler
needs, the invoice number, the purchase lines, and the tax system's answer.

The rates and the ceiling are not here: they are read from the published ``cn-reverse-invoice-2024`` rule set.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PROGRAMME = "cn-reverse-invoice-2024"

# 国家税务总局公告2024年第5号 lets a resource-recycling enterprise reverse-invoice when it holds one of these: each
# entry is the licence kinds (accounts.Licence.Kind values) that together make one qualification.
QUALIFICATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("危险废物经营许可证", ("hazardous_waste",)),
    ("报废机动车回收拆解企业资质认定证书", ("vehicle_scrapping",)),
    ("营业执照及再生资源回收经营者备案", ("business", "renewable_recycling")),
)

MAX_ITEMS = 20
MAX_ITEM_NAME = 40
MAX_WEIGHT_G = 1_000_000_000  # 1,000 t in one line: more is a typing error
SEQUENCE_DIGITS = 6
TAX_NUMBER = re.compile(r"^\d{20}$")  # 全面数字化的电子发票 numbers are 20 digits


def qualification_met(kinds_held: Iterable[str]) -> str | None:
    """The name of the first qualification the licence kinds held on the day make up, or None."""
    held = set(kinds_held)
    for name, needed in QUALIFICATIONS:
        if held.issuperset(needed):
            return name
    return None


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` calendar months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def window_containing(start: datetime.date) -> datetime.date:
    """The last day of the 12 consecutive months that begin on ``start``."""
    return months_before(start, -12) - datetime.timedelta(days=1)


def earliest_window_start(day: datetime.date) -> datetime.date:
    """The first day of the 12 consecutive months that end on ``day``."""
    return months_before(day, 12) + datetime.timedelta(days=1)


def heaviest_window_fen(sales: Sequence[tuple[datetime.date, int]], day: datetime.date) -> int:
    """The largest total of ``sales`` (date, fen) over any 12 consecutive months that contain ``day``.

    The cap holds for *any* 12 consecutive months: a purchase dated before a seller's later invoices must fit
    every window it falls in, not only the one ending on its own date. As a window's start moves later, its
    total rises only where its end reaches a sale, so the heaviest window starts 12 months before ``day`` or
    at the start of the 12 months ending on one of the later sales; those are the starts tried.
    """
    first = earliest_window_start(day)
    starts = {first} | {earliest_window_start(d) for d, _ in sales if day < d}
    best = 0
    for start in starts:
        if not first <= start <= day:
            continue
        end = window_containing(start)
        best = max(best, sum(fen for d, fen in sales if start <= d <= end))
    return best


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of ``day``'s calendar month."""
    first = day.replace(day=1)
    return first, months_before(first, -1) - datetime.timedelta(days=1)


def invoice_number(uscc: str, year: int, sequence: int) -> str:
    """Our number of an invoice: the issuer's credit code, the year and the issuer's gap-free sequence of it."""
    return f"FX{uscc}{year}{sequence:0{SEQUENCE_DIGITS}d}"


def parse_month(text: str) -> datetime.date | None:
    """``YYYY-MM`` → the month's first day; None when malformed."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
    if not match:
        return None
    try:
        return datetime.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        return None


# ---------------------------------------------------------------- purchase lines


@dataclass(frozen=True)
class Problem:
    """One field's problem (the services turn it into a core FieldError)."""

    field: str
    code: str
    message: str


@dataclass(frozen=True)
class Item:
    """One line of a purchase: what was bought, how much it weighed, what was paid for it (excluding VAT)."""

    name: str
    weight_g: int
    price_fen: int

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "weight_g": self.weight_g, "price_fen": self.price_fen}


def _whole(value: object) -> int | None:
    return value if type(value) is int else None


def validate_items(raw: Sequence[Mapping[str, object]]) -> tuple[list[Item], list[Problem]]:
    """The purchase lines, normalised, and every problem with them named by field (``items[0].weight_g``)."""
    errors: list[Problem] = []
    items: list[Item] = []
    if not raw:
        return [], [Problem("items", "items_required", "请至少填写一项收购物品")]
    if len(raw) > MAX_ITEMS:
        return [], [Problem("items", "too_many_items", f"一张发票最多 {MAX_ITEMS} 项收购物品")]
    for index, line in enumerate(raw):
        prefix = f"items[{index}]"
        name = " ".join(str(line.get("name") or "").split())
        weight = _whole(line.get("weight_g"))
        price = _whole(line.get("price_fen"))
        if not name:
            errors.append(Problem(f"{prefix}.name", "item_name_required", f"第 {index + 1} 项：请填写物品名称"))
        elif len(name) > MAX_ITEM_NAME:
            errors.append(
                Problem(f"{prefix}.name", "item_name_too_long", f"第 {index + 1} 项：物品名称不超过 {MAX_ITEM_NAME} 字")
            )
        if weight is None or not 0 < weight <= MAX_WEIGHT_G:
            errors.append(
                Problem(
                    f"{prefix}.weight_g",
                    "invalid_weight",
                    f"第 {index + 1} 项：重量应大于 0 且不超过 1,000 吨（以克计）",
                )
            )
        if price is None or price <= 0:
            errors.append(Problem(f"{prefix}.price_fen", "invalid_price", f"第 {index + 1} 项：收购金额应大于 0"))
        if name and weight is not None and price is not None:
            items.append(Item(name, weight, price))
    return items, errors


# ---------------------------------------------------------------- the tax system's answer


@dataclass(frozen=True)
class TaxAnswerRow:
    line: int
    number: str
    tax_number: str


@dataclass(frozen=True)
class TaxAnswerError:
    line: int
    field: str
    code: str
    message: str


HEADER_ALIASES = {
    "number": ("number", "我方发票号码", "平台发票号码", "发票号码"),
    "tax_number": ("tax_number", "数电发票号码", "税务发票号码"),
}
MAX_ANSWER_ROWS = 5_000


def parse_tax_answer(content: bytes) -> tuple[list[TaxAnswerRow], list[TaxAnswerError]]:
    """The tax system's answer, a CSV of our invoice number → its 数电发票 number (header row first, UTF-8 with
    or without BOM, or GB18030 as spreadsheets in China save it)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            return [], [TaxAnswerError(0, "file", "invalid_encoding", "文件编码无法识别，请保存为 UTF-8 编码的 CSV")]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return [], [TaxAnswerError(0, "file", "empty_file", "文件为空")]
    columns: dict[str, int] = {}
    cleaned = [h.strip() for h in header]
    for key, aliases in HEADER_ALIASES.items():
        found = next((i for i, h in enumerate(cleaned) if h in aliases), None)
        if found is None:
            return [], [TaxAnswerError(1, key, "missing_column", f"缺少列“{aliases[1]}”")]
        columns[key] = found
    rows: list[TaxAnswerRow] = []
    errors: list[TaxAnswerError] = []
    seen_numbers: dict[str, int] = {}
    seen_tax: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ANSWER_ROWS:
            errors.append(TaxAnswerError(line, "file", "too_many_rows", f"一次最多导入 {MAX_ANSWER_ROWS} 行"))
            break
        number = values[columns["number"]].strip() if columns["number"] < len(values) else ""
        tax_number = values[columns["tax_number"]].strip() if columns["tax_number"] < len(values) else ""
        if not number:
            errors.append(TaxAnswerError(line, "number", "required", "缺少我方发票号码"))
            continue
        if not TAX_NUMBER.match(tax_number):
            errors.append(TaxAnswerError(line, "tax_number", "invalid_tax_number", "数电发票号码应为20位数字"))
            continue
        if number in seen_numbers:
            errors.append(
                TaxAnswerError(line, "number", "duplicate_row", f"与第 {seen_numbers[number]} 行的发票号码重复")
            )
            continue
        if tax_number in seen_tax:
            errors.append(
                TaxAnswerError(line, "tax_number", "duplicate_row", f"与第 {seen_tax[tax_number]} 行的数电发票号码重复")
            )
            continue
        seen_numbers[number], seen_tax[tax_number] = line, line
        rows.append(TaxAnswerRow(line, number, tax_number))
    if not rows and not errors:
        errors.append(TaxAnswerError(0, "file", "empty_file", "文件中没有数据行"))
    return rows, errors
