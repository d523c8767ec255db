"""E-bike trade-in: dates of the old and new bike, product catalogue, price floor, fixed amount and bonuses.

Input (POLICY.md): old_bike = {registered_in_beijing_on, battery, deregistered_on, battery_health_assessed},
new_bike = {in_catalogue, price_fen, registered_on, battery}, same_owner, history = [{"programme"}].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from huanxin.core.domain.money import format_yuan
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.dates import DateLimit, admits_all, describe_all, read_limits
from huanxin.policy.domain.decision import Decision, Reason
from huanxin.policy.domain.family import Compiled, Meta, Term
from huanxin.policy.domain.inputs import (
    as_mapping,
    read_bool,
    read_choice,
    read_date,
    read_history_programmes,
    read_money,
    read_object,
    read_optional_date,
)
from huanxin.policy.domain.money import format_yuan_plain

BATTERIES = {"lithium": "锂电池", "lead_acid": "铅酸电池"}

# Input fields a bonus condition may test, with the values each may take.
_CONDITION_FIELDS: dict[str, tuple[Any, ...]] = {
    "old_bike.battery": tuple(BATTERIES),
    "new_bike.battery": tuple(BATTERIES),
    "old_bike.battery_health_assessed": (True, False),
    "new_bike.in_catalogue": (True, False),
    "same_owner": (True, False),
}


class _Bonus(NamedTuple):
    """An amount added when every condition on the input holds."""

    code: str
    label: str
    amount_fen: int
    when: tuple[tuple[str, Any], ...]


def _read_bonus(table: Table) -> _Bonus:
    """Read one [[bonuses]] entry and check its conditions name real input fields and values."""
    when_table = table.table("when")
    conditions: list[tuple[str, Any]] = []
    for field in when_table.names():
        value = when_table.raw(field)
        allowed = _CONDITION_FIELDS.get(field)
        if allowed is None:
            raise refuse(when_table.where(field), f"unknown input field; known: {', '.join(_CONDITION_FIELDS)}")
        if not any(value is option or (type(value) is str and value == option) for option in allowed):
            raise refuse(when_table.where(field), f"value must be one of {allowed!r}")
        conditions.append((field, value))
    when_table.finish()
    if not conditions:
        raise refuse(when_table.path, "a bonus needs at least one condition")
    code = table.text("code")
    if not code.startswith("bonus"):
        raise refuse(table.where("code"), "bonus reason codes start with 'bonus'")
    bonus = _Bonus(code, table.text("label"), table.integer("amount_fen", minimum=1), tuple(conditions))
    table.finish()
    return bonus


def compile_ebike(root: Table, meta: Meta) -> Compiled:
    """Compile an e-bike catalogue: dates, catalogue, ownership, price floor, once per person, bonuses."""
    rules = root.table("rules")
    old_registered = read_limits(rules, "old_registered")
    old_deregistered = read_limits(rules, "old_deregistered")
    new_registered = read_limits(rules, "new_registered")
    catalogue_name = rules.text("catalogue_name")
    price_floor = rules.integer("price_floor_fen", minimum=1)
    base_amount = rules.integer("base_amount_fen", minimum=1)
    quota = rules.integer("quota", minimum=1)
    rules.finish()
    bonuses = tuple(_read_bonus(table) for table in root.tables("bonuses", required=False))

    programme, rule_version = meta.code, meta.rule_version
    floor_text = format_yuan(price_floor, symbol=False)
    base_text = format_yuan(base_amount, symbol=False)
    base_reason = Reason("fixed_amount", True, f"电动自行车以旧换新基础补贴 {base_text} 元")

    def dated(code: str, what: str, value: Any, limits: tuple[DateLimit, ...], absent: str) -> Reason:
        """Check one date against its cut-offs; a null date fails with the 'absent' explanation."""
        if value is None:
            return Reason(code, False, absent)
        ok = admits_all(limits, value)
        return Reason(code, ok, f"{what} {value}，{'符合' if ok else '不符合'}{describe_all(limits)}的要求")

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one e-bike trade-in application; every criterion is reported even after a failure."""
        data = as_mapping(payload, "")
        old = read_object(data, "old_bike")
        old_on = read_optional_date(old, "registered_in_beijing_on", "old_bike.")
        old_battery = read_choice(old, "battery", BATTERIES, "old_bike.")
        deregistered_on = read_optional_date(old, "deregistered_on", "old_bike.")
        assessed = read_bool(old, "battery_health_assessed", "old_bike.")
        new = read_object(data, "new_bike")
        in_catalogue = read_bool(new, "in_catalogue", "new_bike.")
        price = read_money(new, "price_fen", "new_bike.", minimum=1)
        new_on = read_date(new, "registered_on", "new_bike.")
        new_battery = read_choice(new, "battery", BATTERIES, "new_bike.")
        same_owner = read_bool(data, "same_owner")
        history = read_history_programmes(data)
        received = sum(1 for entry in history if entry["programme"] == programme)

        reasons = [
            dated("registration_date", "旧车北京登记日期", old_on, old_registered, "旧车未在北京登记"),
            dated("deregistration_date", "旧车注销日期", deregistered_on, old_deregistered, "旧车尚未注销登记"),
            Reason("catalogue", in_catalogue, f"新车{'已' if in_catalogue else '未'}列入{catalogue_name}"),
            dated("new_registration_date", "新车登记日期", new_on, new_registered, "新车尚未登记"),
            Reason("ownership", same_owner, "新旧车为同一车主" if same_owner else "新旧车不是同一车主"),
            Reason(
                "price_floor",
                price >= price_floor,
                f"新车价格 {format_yuan(price, symbol=False)} 元，"
                f"{'不低于' if price >= price_floor else '低于'} {floor_text} 元",
            ),
            Reason(
                "quota",
                received < quota,
                f"本人已享受电动自行车以旧换新补贴 {received} 次，每人限 {quota} 次",
            ),
        ]
        eligible = all(reason.passed for reason in reasons)
        amount = 0
        if eligible:
            values = {
                "old_bike.battery": old_battery,
                "new_bike.battery": new_battery,
                "old_bike.battery_health_assessed": assessed,
                "new_bike.in_catalogue": in_catalogue,
                "same_owner": same_owner,
            }
            amount = base_amount
            reasons.append(base_reason)
            for bonus in bonuses:
                # A bonus not earned is not a failure: it passes with a message saying no bonus applies.
                if all(values[field] == value for field, value in bonus.when):
                    amount += bonus.amount_fen
                    bonus_text = format_yuan(bonus.amount_fen, symbol=False)
                    reasons.append(Reason(bonus.code, True, f"{bonus.label}，加补 {bonus_text} 元"))
                else:
                    reasons.append(Reason(bonus.code, True, f"不符合“{bonus.label}”，无此项加补"))
        return Decision(programme, rule_version, eligible, amount, {}, tuple(reasons))

    terms = (
        Term("旧车", f"在北京登记日期{describe_all(old_registered)}，注销登记日期{describe_all(old_deregistered)}"),
        Term(
            "新车",
            f"列入{catalogue_name}，登记日期{describe_all(new_registered)}，"
            f"价格不低于 {format_yuan_plain(price_floor)} 元，与旧车为同一车主",
        ),
        Term("补贴", f"每辆 {format_yuan_plain(base_amount)} 元，每人限 {quota} 次"),
        *(Term("加补", f"{bonus.label}，加 {format_yuan_plain(bonus.amount_fen)} 元") for bonus in bonuses),
    )
    max_amount = base_amount + sum(bonus.amount_fen for bonus in bonuses)
    return Compiled(
        evaluate=evaluate, category_names={}, max_amounts_fen={None: max_amount}, quotas={None: quota}, terms=terms
    )
