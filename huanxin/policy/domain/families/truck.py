"""Operating-truck renewal: fixed amounts for listed combinations of scrapped and purchased trucks.

Input (POLICY.md): old_truck = {emission_standard, weight_class} or null,
new_truck = {energy, weight_class, refrigerated} or null. The catalogue lists the options in order of
precedence; the first option whose conditions all hold decides the amount (they are not added up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from huanxin.core.domain.money import format_yuan
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.decision import Decision, Reason
from huanxin.policy.domain.family import Compiled, Meta, Term
from huanxin.policy.domain.inputs import (
    MISSING,
    as_mapping,
    read_bool,
    read_choice,
    read_optional_object,
    wrong_type,
)
from huanxin.policy.domain.money import format_yuan_plain

EMISSION_STANDARDS = {f"guo{level}": f"国{name}" for level, name in enumerate("一二三四五六", start=1)}
WEIGHT_CLASSES = {"heavy": "重型", "medium": "中型", "light": "轻型"}
NEW_ENERGIES = {"guo6": "国六", "nev": "新能源"}

_OLD_FIELDS: dict[str, Mapping[str, str]] = {
    "emission_standard": EMISSION_STANDARDS,
    "weight_class": WEIGHT_CLASSES,
}
_NEW_FIELDS: dict[str, Mapping[str, str] | None] = {
    "energy": NEW_ENERGIES,
    "weight_class": WEIGHT_CLASSES,
    "refrigerated": None,  # a boolean
}


class _Option(NamedTuple):
    """One subsidised combination: conditions on the old and the new truck, and its fixed amount."""

    label: str
    amount_fen: int
    old: tuple[tuple[str, Any], ...] | None
    new: tuple[tuple[str, Any], ...] | None


def _read_conditions(
    table: Table, key: str, fields: Mapping[str, Mapping[str, str] | None]
) -> tuple[tuple[str, Any], ...] | None:
    """Read an option's conditions on one truck, checking each field and value exists in the contract."""
    sub = table.optional_table(key)
    if sub is None:
        return None
    conditions: list[tuple[str, Any]] = []
    for field in sub.names():
        if field not in fields:
            raise refuse(sub.where(field), f"unknown field; known: {', '.join(fields)}")
        choices = fields[field]
        value = sub.flag(field) if choices is None else sub.text(field)
        if choices is not None and value not in choices:
            raise refuse(sub.where(field), f"value must be one of {', '.join(choices)}")
        conditions.append((field, value))
    sub.finish()
    return tuple(conditions)


def _matches(conditions: tuple[tuple[str, Any], ...] | None, truck: Mapping[str, Any] | None) -> bool:
    """Whether a truck meets an option's conditions (no conditions: anything, including no truck)."""
    if conditions is None:
        return True
    return truck is not None and all(truck[field] == value for field, value in conditions)


def compile_truck(root: Table, meta: Meta) -> Compiled:
    """Compile a truck-renewal catalogue: ordered options, first match pays its fixed amount."""
    options: list[_Option] = []
    for table in root.tables("options"):
        option = _Option(
            label=table.text("label"),
            amount_fen=table.integer("amount_fen", minimum=1),
            old=_read_conditions(table, "old_truck", _OLD_FIELDS),
            new=_read_conditions(table, "new_truck", _NEW_FIELDS),
        )
        table.finish()
        if option.old is None and option.new is None:
            raise refuse(table.path, "an option needs conditions on the old truck, the new truck or both")
        options.append(option)
    if not options:
        raise refuse("options", "at least one option is required")

    programme, rule_version = meta.code, meta.rule_version
    none_matched = Reason("fixed_amount", False, f"不符合任一补贴情形：{'；'.join(option.label for option in options)}")

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one truck renewal: the first listed option that the old and new trucks meet."""
        data = as_mapping(payload, "")
        for key in ("old_truck", "new_truck"):
            # Both keys must be present; null says "no truck scrapped" or "no truck bought".
            if key not in data:
                raise wrong_type(MISSING, key, "对象或 null")
        old_input = read_optional_object(data, "old_truck")
        old = None
        if old_input is not None:
            old = {
                "emission_standard": read_choice(old_input, "emission_standard", EMISSION_STANDARDS, "old_truck."),
                "weight_class": read_choice(old_input, "weight_class", WEIGHT_CLASSES, "old_truck."),
            }
        new_input = read_optional_object(data, "new_truck")
        new = None
        if new_input is not None:
            new = {
                "energy": read_choice(new_input, "energy", NEW_ENERGIES, "new_truck."),
                "weight_class": read_choice(new_input, "weight_class", WEIGHT_CLASSES, "new_truck."),
                "refrigerated": read_bool(new_input, "refrigerated", "new_truck."),
            }
        for option in options:
            if _matches(option.old, old) and _matches(option.new, new):
                amount_text = format_yuan(option.amount_fen, symbol=False)
                reason = Reason("fixed_amount", True, f"{option.label}，补贴 {amount_text} 元")
                return Decision(programme, rule_version, True, option.amount_fen, {}, (reason,))
        return Decision(programme, rule_version, False, 0, {}, (none_matched,))

    # Options are tried in file order and the first match pays, so the terms keep that order.
    terms = tuple(Term(option.label, f"补贴 {format_yuan_plain(option.amount_fen)} 元") for option in options)
    most = max(option.amount_fen for option in options)
    return Compiled(
        evaluate=evaluate, category_names={}, max_amounts_fen={None: most}, quotas={None: None}, terms=terms
    )
