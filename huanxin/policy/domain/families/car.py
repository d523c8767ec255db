"""Passenger cars: scrap-and-replace (报废更新) and replacement (置换更新) subsidies.

Input (POLICY.md): old_vehicle = {fuel, registered_on, owned_since}, new_vehicle = {energy, displacement_l,
price_fen, in_nev_catalogue}, applied_on, history = [{"programme"}]. A field is required only where the
programme's rules read it (e.g. price_fen where the amount is a rate of the price).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from huanxin.core.domain.money import format_yuan
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.dates import DateLimit, admits_all, describe_all, read_limit_tables, read_limits
from huanxin.policy.domain.decision import Decision, Reason, new_reason
from huanxin.policy.domain.family import Compiled, Meta, Term
from huanxin.policy.domain.inputs import (
    as_mapping,
    read_bool,
    read_choice,
    read_date,
    read_history_programmes,
    read_money,
    read_number,
    read_object,
    read_optional_bool,
    read_optional_choice,
    read_optional_date,
    read_optional_money,
    read_optional_number,
    read_optional_str,
)
from huanxin.policy.domain.money import format_rate, format_yuan_plain

OLD_FUELS = {
    "gasoline": "汽油乘用车",
    "diesel": "柴油乘用车",
    "other": "其他燃料乘用车",
    "nev": "新能源乘用车",
}
NEW_ENERGIES = {"nev": "新能源乘用车", "fuel": "燃油乘用车"}


class _Amount(NamedTuple):
    """What a new car of one energy type gets: a fixed sum, or a rate of its price up to a cap."""

    fixed_fen: int | None
    rate_bp: int | None
    cap_fen: int | None

    @property
    def most_fen(self) -> int:
        """The largest amount this rule can pay."""
        return self.fixed_fen if self.fixed_fen is not None else self.cap_fen or 0


def _read_amount(table: Table) -> _Amount:
    """Read [amounts.<energy>]: either amount_fen, or rate_bp with cap_fen."""
    fixed = table.optional_integer("amount_fen", minimum=1)
    rate = table.optional_integer("rate_bp", minimum=1)
    cap = table.optional_integer("cap_fen", minimum=1)
    table.finish()
    if (fixed is None) == (rate is None) or (rate is None) != (cap is None):
        raise refuse(table.path, "give either amount_fen, or rate_bp together with cap_fen")
    return _Amount(fixed, rate, cap)


class _Exclusivity(NamedTuple):
    """'One car subsidy' rules read from the person's history."""

    programmes: frozenset[str] | None  # None: any programme
    per_new_vehicle: bool
    label: str


def _read_exclusivity(table: Table | None) -> _Exclusivity | None:
    """Read [exclusivity]: which programmes count, and whether per person or per new car (matched by VIN)."""
    if table is None:
        return None
    scope = table.text("scope")
    if scope not in {"person", "new_vehicle"}:
        raise refuse(table.where("scope"), "scope is 'person' or 'new_vehicle'")
    programmes = frozenset(table.texts("programmes")) if table.has("programmes") else None
    if programmes is None and scope == "person":
        raise refuse(table.where("programmes"), "a per-person rule must list the programmes that exclude each other")
    result = _Exclusivity(programmes, scope == "new_vehicle", table.text("label"))
    table.finish()
    return result


def compile_car(root: Table, meta: Meta) -> Compiled:
    """Compile a car catalogue: old-car dates, ownership, catalogue, displacement, window, one subsidy."""
    old_rules = root.table("old_vehicle")
    registered = read_limit_tables(old_rules, "registered", tuple(OLD_FUELS))
    if registered is not None and set(registered[0]) != set(OLD_FUELS):
        raise refuse(old_rules.where("registered"), f"give a cut-off for each fuel: {', '.join(OLD_FUELS)}")
    registration_limits: dict[str, DateLimit] = registered[0] if registered else {}
    owned_since = read_limits(old_rules, "owned_since")
    old_rules.finish()

    new_rules = root.table("new_vehicle")
    catalogue_name = new_rules.optional_text("nev_catalogue_name")
    max_displacement = new_rules.optional_decimal("max_displacement_l")
    # 商消费函〔2024〕75号 and successors: a fuel car is subsidised only when the scrapped car was a fuel car.
    fuel_only_after_fuel = new_rules.flag("fuel_only_after_fuel", default=False)
    new_rules.finish()

    amounts_table = root.table("amounts")
    amounts = {
        energy: _read_amount(amounts_table.table(energy)) for energy in NEW_ENERGIES if amounts_table.has(energy)
    }
    amounts_table.finish()
    if not amounts:
        raise refuse("amounts", "give [amounts.nev] and/or [amounts.fuel]")

    window_table = root.optional_table("window")
    window = read_limits(window_table, "applied") if window_table else ()
    if window_table is not None:
        window_table.finish()
    exclusivity = _read_exclusivity(root.optional_table("exclusivity"))

    programme, rule_version = meta.code, meta.rule_version
    needs_fuel = bool(registration_limits) or fuel_only_after_fuel
    # Message tails are built once here; per decision only the input's own figures are formatted.
    registration_checks = {
        fuel: (
            limit,
            f"旧车为{OLD_FUELS[fuel]}，",
            f" 注册登记，符合{limit.describe()}注册登记的要求",
            f" 注册登记，不符合{limit.describe()}注册登记的要求",
        )
        for fuel, limit in registration_limits.items()
    }
    owned_text = describe_all(owned_since)
    window_text = describe_all(window)
    nev_listed = Reason("catalogue", True, f"新车已列入{catalogue_name}")
    nev_not_listed = Reason("catalogue", False, f"新车未列入{catalogue_name}")
    fuel_after_nev = Reason("fuel_type", False, "报废新能源乘用车后购买燃油乘用车，不予补贴")
    fuel_after_fuel = {
        fuel: Reason("fuel_type", True, f"报废{name}后购买燃油乘用车") for fuel, name in OLD_FUELS.items()
    }
    not_subsidised = {
        energy: Reason("energy", False, f"本政策不补贴新购{name}") for energy, name in NEW_ENERGIES.items()
    }

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one car application; every criterion is reported even after a failure."""
        data = as_mapping(payload, "")
        old = read_object(data, "old_vehicle")
        if needs_fuel:
            fuel: str | None = read_choice(old, "fuel", OLD_FUELS, "old_vehicle.")
        else:
            fuel = read_optional_choice(old, "fuel", OLD_FUELS, "old_vehicle.")
        if registration_limits:
            registered_on: date | None = read_date(old, "registered_on", "old_vehicle.")
        else:
            registered_on = read_optional_date(old, "registered_on", "old_vehicle.")
        if owned_since:
            owned: date | None = read_date(old, "owned_since", "old_vehicle.")
        else:
            owned = read_optional_date(old, "owned_since", "old_vehicle.")
        new = read_object(data, "new_vehicle")
        energy = read_choice(new, "energy", NEW_ENERGIES, "new_vehicle.")
        amount_rule = amounts.get(energy)
        if amount_rule is not None and amount_rule.rate_bp is not None:
            price: int | None = read_money(new, "price_fen", "new_vehicle.", minimum=1)
        else:
            price = read_optional_money(new, "price_fen", "new_vehicle.", minimum=1)
        if energy == "fuel" and max_displacement is not None:
            displacement: Decimal | None = read_number(new, "displacement_l", "new_vehicle.")
        else:
            displacement = read_optional_number(new, "displacement_l", "new_vehicle.")
        if energy == "nev" and catalogue_name is not None:
            in_catalogue: bool | None = read_bool(new, "in_nev_catalogue", "new_vehicle.")
        else:
            in_catalogue = read_optional_bool(new, "in_nev_catalogue", "new_vehicle.")
        vin = read_optional_str(new, "vin", "new_vehicle.")
        if window:
            applied_on: date | None = read_date(data, "applied_on")
        else:
            applied_on = read_optional_date(data, "applied_on")
        history = read_history_programmes(data)

        # Messages quote the input's own date text (validated above): formatting date objects is slow.
        reasons: list[Reason] = []
        eligible = True
        if fuel is not None and registered_on is not None and registration_limits:
            limit, head, passed_tail, failed_tail = registration_checks[fuel]
            if limit.admits(registered_on):
                reasons.append(Reason("registration_date", True, f"{head}{old['registered_on']}{passed_tail}"))
            else:
                eligible = False
                reasons.append(Reason("registration_date", False, f"{head}{old['registered_on']}{failed_tail}"))
        if owned is not None and owned_since:
            ok = admits_all(owned_since, owned)
            eligible = eligible and ok
            verdict = "符合" if ok else "不符合"
            reasons.append(
                Reason(
                    "ownership",
                    ok,
                    f"旧车自 {old['owned_since']} 起登记在申请人名下，{verdict}{owned_text}的要求",
                )
            )
        if energy == "fuel" and fuel_only_after_fuel and fuel is not None:
            if fuel == "nev":
                eligible = False
                reasons.append(fuel_after_nev)
            else:
                reasons.append(fuel_after_fuel[fuel])
        if amount_rule is None:
            eligible = False
            reasons.append(not_subsidised[energy])
        if energy == "nev" and catalogue_name is not None:
            if in_catalogue:
                reasons.append(nev_listed)
            else:
                eligible = False
                reasons.append(nev_not_listed)
        if displacement is not None and energy == "fuel" and max_displacement is not None:
            ok = displacement <= max_displacement
            eligible = eligible and ok
            verdict = "不超过" if ok else "超过"
            reasons.append(Reason("displacement", ok, f"新车排量 {displacement} 升，{verdict} {max_displacement} 升"))
        if applied_on is not None and window:
            ok = admits_all(window, applied_on)
            eligible = eligible and ok
            verdict = "符合" if ok else "不符合"
            reasons.append(Reason("window", ok, f"申请日期 {data['applied_on']}，{verdict}{window_text}的申请期限"))
        if exclusivity is not None:
            reason = _exclusivity_reason(exclusivity, history, vin)
            eligible = eligible and reason.passed
            reasons.append(reason)

        amount = 0
        if eligible and amount_rule is not None:
            kind = NEW_ENERGIES[energy]
            if amount_rule.fixed_fen is not None:
                amount = amount_rule.fixed_fen
                amount_text = format_yuan(amount, symbol=False)
                reasons.append(new_reason(Reason, ("fixed_amount", True, f"购买{kind}，补贴 {amount_text} 元")))
            elif price is not None and amount_rule.rate_bp is not None and amount_rule.cap_fen is not None:
                amount = _rate_then_cap(reasons, kind, price, amount_rule.rate_bp, amount_rule.cap_fen)
        return Decision(programme, rule_version, eligible, amount, {}, tuple(reasons))

    terms = _terms(
        registration_limits,
        owned_text,
        amounts,
        catalogue_name,
        max_displacement,
        fuel_only_after_fuel=fuel_only_after_fuel,
        window_text=window_text,
        exclusivity=exclusivity,
    )
    reads = {"new_vehicle.energy"}
    optional_reads = {
        "old_vehicle.fuel": needs_fuel,
        "old_vehicle.registered_on": bool(registration_limits),
        "old_vehicle.owned_since": bool(owned_since),
        "new_vehicle.price_fen": any(rule.rate_bp is not None for rule in amounts.values()),
        "new_vehicle.displacement_l": max_displacement is not None and "fuel" in amounts,
        "new_vehicle.in_nev_catalogue": catalogue_name is not None and "nev" in amounts,
        "applied_on": bool(window),
        # A per-new-car rule matches history by VIN, which only the application (not a quote form) knows.
        "history": exclusivity is not None and not exclusivity.per_new_vehicle,
    }
    reads.update(path for path, read in optional_reads.items() if read)
    most = max(rule.most_fen for rule in amounts.values())
    quota = 1 if exclusivity is not None and not exclusivity.per_new_vehicle else None
    return Compiled(
        evaluate=evaluate,
        category_names={},
        max_amounts_fen={None: most},
        quotas={None: quota},
        terms=terms,
        reads=frozenset(reads),
    )


def _terms(
    registration_limits: Mapping[str, DateLimit],
    owned_text: str,
    amounts: Mapping[str, _Amount],
    catalogue_name: str | None,
    max_displacement: Decimal | None,
    *,
    fuel_only_after_fuel: bool,
    window_text: str,
    exclusivity: _Exclusivity | None,
) -> tuple[Term, ...]:
    """The car rules in plain Chinese: old-car dates and ownership, what each new car gets, window, limit."""
    terms: list[Term] = []
    if registration_limits:
        dates = "；".join(f"{OLD_FUELS[fuel]}{limit.describe()}" for fuel, limit in registration_limits.items())
        terms.append(Term("旧车注册登记日期", dates))
    if owned_text:
        terms.append(Term("旧车登记在本人名下的日期", owned_text))
    for energy, rule in amounts.items():
        conditions = []
        if energy == "nev" and catalogue_name is not None:
            conditions.append(f"须列入{catalogue_name}")
        if energy == "fuel" and max_displacement is not None:
            conditions.append(f"排量 {max_displacement} 升及以下")
        if energy == "fuel" and fuel_only_after_fuel:
            conditions.append("仅限报废燃油乘用车后购买")
        if rule.fixed_fen is not None:
            conditions.append(f"补贴 {format_yuan_plain(rule.fixed_fen)} 元")
        elif rule.rate_bp is not None and rule.cap_fen is not None:
            conditions.append(f"按新车价格 {format_rate(rule.rate_bp)} 补贴，最高 {format_yuan_plain(rule.cap_fen)} 元")
        terms.append(Term(f"购买{NEW_ENERGIES[energy]}", "，".join(conditions)))
    for energy, name in NEW_ENERGIES.items():
        if energy not in amounts:
            terms.append(Term(f"购买{name}", "不予补贴"))
    if window_text:
        terms.append(Term("申请日期", window_text))
    if exclusivity is not None:
        scope = "每辆新车限享受一次" if exclusivity.per_new_vehicle else "每人限享受一次"
        terms.append(Term("限享一次", f"{scope}{exclusivity.label}"))
    return tuple(terms)


def _exclusivity_reason(exclusivity: _Exclusivity, history: list[Mapping[str, Any]], vin: str | None) -> Reason:
    """One car subsidy only: refuse when the history holds a programme that excludes this one."""
    if exclusivity.per_new_vehicle:
        # 商办消费函〔2025〕8号: scrap or replacement subsidy for one new car, not both. History entries are
        # matched to this car by VIN; without a VIN the service layer must check the car itself.
        prior = [
            entry
            for entry in history
            if vin is not None
            and entry.get("vin") == vin
            and (exclusivity.programmes is None or entry["programme"] in exclusivity.programmes)
        ]
        if prior:
            return Reason("exclusivity", False, f"该新车已享受{exclusivity.label}，不能重复享受")
        return Reason("exclusivity", True, f"该新车未享受过{exclusivity.label}")
    programmes = exclusivity.programmes or frozenset()
    prior = [entry for entry in history if entry["programme"] in programmes]
    if prior:
        return Reason("exclusivity", False, f"本人已享受{exclusivity.label}，每人限一次")
    return Reason("exclusivity", True, f"本人未享受过{exclusivity.label}")


def _rate_then_cap(reasons: list[Reason], kind: str, price: int, rate_bp: int, cap_fen: int) -> int:
    """Apply the rate to the price, then the cap, rounding half-up once; append the rate and cap reasons."""
    raw = (price * rate_bp + 5_000) // 10_000
    price_text, raw_text, rate_text, cap_text = (
        format_yuan(price, symbol=False),
        format_yuan(raw, symbol=False),
        format_rate(rate_bp),
        format_yuan(cap_fen, symbol=False),
    )
    reasons.append(new_reason(Reason, ("rate", True, f"{kind}价格 {price_text} 元，补贴 {rate_text} 为 {raw_text} 元")))
    if raw > cap_fen:
        reasons.append(
            Reason(
                "cap",
                True,
                f"价格 {price_text} 元，补贴 {rate_text} 为 {raw_text} 元，超过上限 {cap_text} 元，按上限补贴",
            )
        )
        return cap_fen
    reasons.append(new_reason(Reason, ("cap", True, f"补贴 {raw_text} 元，未超过上限 {cap_text} 元")))
    return raw
