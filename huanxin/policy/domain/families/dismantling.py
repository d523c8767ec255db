"""Dismantling fund: a per-unit amount from a table keyed by category, subtype and one measurement.

Input (POLICY.md): processed_year, units = [{category, subtype, screen_in, load_kg, volume_l, cooling_w,
count}]. The amount is the total over all units; a unit needs only the measurement its table rows use.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from huanxin.core.domain.labels import field_named
from huanxin.core.domain.money import format_yuan
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.decision import Decision, InputError, Reason
from huanxin.policy.domain.family import Compiled, Meta
from huanxin.policy.domain.inputs import (
    MISSING,
    as_mapping,
    read_int,
    read_number,
    read_optional_number,
    wrong_type,
)

MEASURES = {"screen_in": "英寸", "load_kg": "千克", "volume_l": "升", "cooling_w": "瓦"}
_BOUNDS = ("at_least", "above", "below", "at_most")


class _Row(NamedTuple):
    """One line of the per-unit table: which units it covers and what each gets."""

    category: str
    subtypes: frozenset[str] | None
    measure: str | None
    bounds: tuple[tuple[str, Decimal], ...]
    amount_fen: int
    label: str

    def covers(self, subtype: str | None, measures: Mapping[str, Decimal | None]) -> bool:
        """Whether a unit of this row's category falls in this row."""
        if self.subtypes is not None and subtype not in self.subtypes:
            return False
        if self.measure is None:
            return True
        value = measures.get(self.measure)
        if value is None:
            return False
        for bound, limit in self.bounds:
            if (
                (bound == "at_least" and value < limit)
                or (bound == "above" and value <= limit)
                or (bound == "below" and value >= limit)
                or (bound == "at_most" and value > limit)
            ):
                return False
        return True


class _Category(NamedTuple):
    """A category of the table with its subtype codes (Chinese names) and whether a subtype must be given."""

    name: str
    subtypes: Mapping[str, str]
    subtype_required: bool


def _read_row(table: Table, categories: Mapping[str, _Category]) -> _Row:
    """Read one [[rates]] row and check it refers to known categories, subtypes and measurements."""
    category = table.text("category")
    if category not in categories:
        raise refuse(table.where("category"), f"unknown category {category!r}")
    subtypes = frozenset(table.texts("subtypes")) if table.has("subtypes") else None
    unknown = (subtypes or frozenset()) - set(categories[category].subtypes)
    if unknown:
        raise refuse(table.where("subtypes"), f"unknown subtype(s) {', '.join(sorted(unknown))}")
    measure = table.optional_text("measure")
    if measure is not None and measure not in MEASURES:
        raise refuse(table.where("measure"), f"measure is one of {', '.join(MEASURES)}")
    bounds = tuple((bound, value) for bound in _BOUNDS if (value := table.optional_decimal(bound)) is not None)
    if (measure is None) != (not bounds):
        raise refuse(table.path, "a measure needs at least one bound (at_least, above, below, at_most) and vice versa")
    row = _Row(category, subtypes, measure, bounds, table.integer("amount_fen"), table.text("label"))
    table.finish()
    return row


def compile_dismantling_fund(root: Table, meta: Meta) -> Compiled:
    """Compile a dismantling-fund catalogue: processing years, category table, per-unit rows."""
    rules = root.table("rules")
    first_year = rules.integer("processed_year_at_least", minimum=1)
    end_year = rules.integer("processed_year_before", minimum=first_year + 1)
    window_note = rules.text("window_note")
    rules.finish()

    categories_table = root.table("categories")
    categories: dict[str, _Category] = {}
    for code in categories_table.names():
        table = categories_table.table(code)
        subtypes_table = table.optional_table("subtypes")
        subtypes: dict[str, str] = {}
        if subtypes_table is not None:
            subtypes = {key: subtypes_table.text(key) for key in subtypes_table.names()}
            subtypes_table.finish()
        categories[code] = _Category(table.text("name"), subtypes, table.flag("subtype_required", default=False))
        table.finish()
    categories_table.finish()
    rows = tuple(_read_row(table, categories) for table in root.tables("rates"))
    if not rows:
        raise refuse("rates", "at least one row is required")

    # Which measurement a unit must carry, by (category, subtype): the ones its candidate rows test.
    needed: dict[tuple[str, str | None], frozenset[str]] = {}
    for code, category in categories.items():
        for subtype in (None, *category.subtypes):
            needed[(code, subtype)] = frozenset(
                row.measure
                for row in rows
                if row.category == code and row.measure and (row.subtypes is None or subtype in row.subtypes)
            )

    rows_by_category = {code: tuple(row for row in rows if row.category == code) for code in categories}
    programme, rule_version = meta.code, meta.rule_version
    years_text = f"{first_year} 年至 {end_year - 1} 年"
    known = "、".join(categories)

    def read_unit(entry: object, index: int) -> tuple[str, str | None, dict[str, Decimal | None], int]:
        """Validate one unit line and return (category, subtype, measurements, count)."""
        prefix = f"units[{index}]."
        unit = as_mapping(entry, f"units[{index}]")
        category_code = unit.get("category", MISSING)
        if type(category_code) is not str:
            raise wrong_type(category_code, f"{prefix}category", "品类代码字符串")
        category = categories.get(category_code)
        if category is None:
            raise InputError("unknown_category", f"{prefix}category", f"不支持的品类 {category_code}，可选：{known}")
        subtype = unit.get("subtype")
        if subtype is None:
            if category.subtype_required:
                raise wrong_type(None, f"{prefix}subtype", "字符串")
        elif type(subtype) is not str:
            raise wrong_type(subtype, f"{prefix}subtype", "字符串")
        elif category.subtypes and subtype not in category.subtypes:
            allowed = "、".join(category.subtypes)
            raise InputError(
                "invalid_value", f"{prefix}subtype", f"{field_named(prefix + 'subtype')}应为以下之一：{allowed}"
            )
        wanted = needed.get((category_code, subtype), needed[(category_code, None)])
        measures = {
            measure: read_number(unit, measure, prefix)
            if measure in wanted
            else read_optional_number(unit, measure, prefix)
            for measure in MEASURES
        }
        return category_code, subtype, measures, read_int(unit, "count", prefix, minimum=1)

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one dismantling-fund claim: the year must be covered; each unit is priced from the table."""
        data = as_mapping(payload, "")
        year = read_int(data, "processed_year", minimum=1)
        entries = data.get("units", MISSING)
        if type(entries) is not list:
            raise wrong_type(entries, "units", "数组")
        if not entries:
            raise InputError("invalid_value", "units", "拆解设备至少包含一项")
        units = [read_unit(entry, index) for index, entry in enumerate(entries)]

        in_window = first_year <= year < end_year
        if not in_window:
            reason = Reason("window", False, f"处理年度 {year}，不在本标准适用年度（{years_text}）内；{window_note}")
            return Decision(programme, rule_version, False, 0, {}, (reason,))
        reasons = [Reason("window", True, f"处理年度 {year}，在本标准适用年度（{years_text}）内")]
        lines: list[int] = []
        for index, (category_code, subtype, measures, count) in enumerate(units):
            category = categories[category_code]
            unit_name = category.subtypes.get(subtype, category.name) if subtype else category.name
            candidates = rows_by_category[category_code]
            row = next((row for row in candidates if row.covers(subtype, measures)), None)
            if row is None:
                lines.append(0)
                message = f"units[{index}]：{unit_name} {count} 台，不在基金补贴标准范围内，不予补贴"
            elif row.amount_fen == 0:
                lines.append(0)
                message = f"units[{index}]：{unit_name} {count} 台，属“{row.label}”，不予补贴"
            else:
                line = row.amount_fen * count
                lines.append(line)
                message = (
                    f"units[{index}]：{unit_name} {count} 台，按“{row.label}”"
                    f"每台 {format_yuan(row.amount_fen, symbol=False)} 元，计 {format_yuan(line, symbol=False)} 元"
                )
            reasons.append(Reason("per_unit", True, message))
        total = sum(lines)
        if total > 0:
            reasons.append(Reason("total", True, f"合计补贴 {format_yuan(total, symbol=False)} 元"))
        else:
            reasons.append(Reason("total", False, "没有符合补贴标准的产品"))
        return Decision(programme, rule_version, total > 0, total, {"line_amounts_fen": lines}, tuple(reasons))

    max_amounts: dict[str | None, int | None] = {
        code: max((row.amount_fen for row in rows if row.category == code), default=0) for code in categories
    }
    max_amounts[None] = max(row.amount_fen for row in rows)
    return Compiled(
        evaluate=evaluate,
        category_names={code: category.name for code, category in categories.items()},
        max_amounts_fen=max_amounts,
        quotas=dict.fromkeys([*categories, None]),
    )
