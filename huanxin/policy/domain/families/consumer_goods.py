"""Consumer goods (appliances, digital, smart home): a rate of the final price, grade bonus, cap and quota.

Input (POLICY.md, quote contract): category, price_fen, energy_grade, water_grade, optional purchased_on,
history = [{"programme", "category"}], other_region_categories = [category, …].
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, NamedTuple

from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.core.domain.labels import field_named
from huanxin.core.domain.money import MAX_FEN, apply_rate, format_yuan
from huanxin.policy.domain.config import Table, refuse
from huanxin.policy.domain.dates import admits_all, describe_all, read_limits
from huanxin.policy.domain.decision import Decision, InputError, Reason, new_reason
from huanxin.policy.domain.family import Compiled, Meta, Term
from huanxin.policy.domain.inputs import MISSING, as_mapping, list_item_error, parse_date, wrong_type
from huanxin.policy.domain.money import format_rate, format_yuan_plain

GRADE_NAMES = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}
_GRADES = (None, 1, 2, 3, 4, 5)


class _Item(NamedTuple):
    """Everything one category needs per decision, precomputed: figures and the constant reasons."""

    name: str
    quota: int
    cap_fen: int
    cap_text: str
    price_ceiling_fen: int | None
    ceiling_text: str
    # Indexed by energy_grade * 6 + water_grade (null as 0): (reason or None, rate_bp, rate text, passed).
    grades: tuple[tuple[Reason | None, int, str, bool], ...]
    category_reason: Reason
    other_region_passed: Reason
    other_region_failed: Reason
    quota_reasons: tuple[Reason, ...]  # the passing quota reason, by number already received (0 … quota-1)


class _Rules(NamedTuple):
    """The programme-wide defaults a category may override."""

    rate_bp: int
    cap_fen: int
    quota: int
    required_grade: int | None
    bonus_grade: int | None
    bonus_rate_bp: int
    price_ceiling_fen: int | None


def _read_rules(table: Table, defaults: _Rules | None) -> _Rules:
    """Read the rule figures of [rules] or of one [categories.<code>] table (which falls back to [rules])."""

    def number(key: str, minimum: int = 0) -> int | None:
        fallback = None if defaults is None else getattr(defaults, key)
        if table.has(key):
            return table.integer(key, minimum=minimum)
        return fallback

    rate_bp = number("rate_bp")
    cap_fen = number("cap_fen")
    quota = number("quota", 1)
    if rate_bp is None or cap_fen is None:
        raise refuse(table.path, "rate_bp and cap_fen are required")
    required_grade = number("required_grade", 1)
    bonus_grade = number("bonus_grade", 1)
    bonus_rate_bp = number("bonus_rate_bp") or 0
    for grade_key, grade in (("required_grade", required_grade), ("bonus_grade", bonus_grade)):
        if grade is not None and grade > max(GRADE_NAMES):
            raise refuse(table.where(grade_key), "energy and water grades run 1 to 5")
    if (bonus_grade is None) != (bonus_rate_bp == 0):
        raise refuse(table.path, "bonus_grade and bonus_rate_bp go together")
    return _Rules(
        rate_bp=rate_bp,
        cap_fen=cap_fen,
        quota=1 if quota is None else quota,
        required_grade=required_grade,
        bonus_grade=bonus_grade,
        bonus_rate_bp=bonus_rate_bp,
        price_ceiling_fen=number("price_ceiling_fen", 1),
    )


def _grade_entry(rules: _Rules, energy: int | None, water: int | None) -> tuple[Reason | None, int, bool]:
    """Decide the grade criterion for one (energy, water) pair: POLICY.md's "energy OR water grade"."""
    required, bonus_grade = rules.required_grade, rules.bonus_grade
    if required is None and bonus_grade is None:
        return (None, rules.rate_bp, True)
    labelled = [(grade, f"{GRADE_NAMES[grade]}{kind}") for grade, kind in ((energy, "能效"), (water, "水效")) if grade]
    # The better of the two labels decides; on a tie the energy label is named (it is listed first).
    best = min(labelled, key=lambda pair: pair[0], default=None)
    if required is not None and (best is None or best[0] > required):
        shown = "、".join(label for _, label in labelled) if labelled else "未标注能效或水效等级"
        wanted = "一级能效或水效" if required == 1 else f"{GRADE_NAMES[required]}及以上能效或水效"
        return (Reason("grade", False, f"{shown}，未达到{wanted}要求"), 0, False)
    rate = rules.rate_bp
    if best is not None and bonus_grade is not None and best[0] <= bonus_grade:
        rate += rules.bonus_rate_bp
        return (Reason("grade", True, f"{best[1]}，补贴比例 {format_rate(rate)}"), rate, True)
    if required is None:
        assert bonus_grade is not None
        return (
            Reason("grade", True, f"非{GRADE_NAMES[bonus_grade]}能效或水效，补贴比例 {format_rate(rate)}"),
            rate,
            True,
        )
    assert best is not None
    return (Reason("grade", True, f"{best[1]}，补贴比例 {format_rate(rate)}"), rate, True)


def _compile_item(name: str, rules: _Rules) -> _Item:
    """Precompute one category's figures and constant reasons."""
    grades = tuple(
        (reason, rate_bp, format_rate(rate_bp), passed)
        for reason, rate_bp, passed in (_grade_entry(rules, energy, water) for energy in _GRADES for water in _GRADES)
    )
    quota_reasons = tuple(
        Reason("quota", True, f"本人已享受{name}补贴 {used} 件，每人限 {rules.quota} 件") for used in range(rules.quota)
    )
    return _Item(
        name=name,
        quota=rules.quota,
        cap_fen=rules.cap_fen,
        cap_text=format_yuan(rules.cap_fen, symbol=False),
        price_ceiling_fen=rules.price_ceiling_fen,
        ceiling_text=format_yuan(rules.price_ceiling_fen or 0, symbol=False),
        grades=grades,
        category_reason=Reason("category", True, f"{name}属于本政策补贴品类"),
        other_region_passed=Reason("other_region", True, f"本年度未在外省享受过{name}补贴"),
        other_region_failed=Reason("other_region", False, f"本年度已在外省享受过{name}补贴，不能在本市重复申领"),
        quota_reasons=quota_reasons,
    )


def _grade_text(grade: int) -> str:
    """一级 for grade 1, 二级及以上 for a lower requirement (grade 1 is the best)."""
    return GRADE_NAMES[grade] if grade == 1 else f"{GRADE_NAMES[grade]}及以上"


def _describe(rules: _Rules) -> str:
    """One category's rule in plain Chinese: grade, price ceiling, rate, bonus, cap and quota."""
    parts = []
    if rules.required_grade is not None:
        parts.append(f"{_grade_text(rules.required_grade)}能效或水效产品")
    if rules.price_ceiling_fen is not None:
        parts.append(f"单件售价不超过 {format_yuan_plain(rules.price_ceiling_fen)} 元")
    parts.append(f"按成交价 {format_rate(rules.rate_bp)} 补贴")
    if rules.bonus_grade is not None:
        parts.append(f"{_grade_text(rules.bonus_grade)}能效或水效的再加 {format_rate(rules.bonus_rate_bp)}")
    parts.append(f"每件最高 {format_yuan_plain(rules.cap_fen)} 元")
    parts.append(f"每人每类限 {rules.quota} 件")
    return "，".join(parts)


def _terms(described: dict[str, tuple[str, str]], window_text: str, exclude_other_region: bool) -> tuple[Term, ...]:
    """Categories with the same rule share one line, in catalogue order; then the programme-wide conditions."""
    grouped: dict[str, list[str]] = {}
    for name, text in described.values():
        grouped.setdefault(text, []).append(name)
    terms = [Term("、".join(names), text) for text, names in grouped.items()]
    if window_text:
        terms.append(Term("购买日期", window_text))
    if exclude_other_region:
        terms.append(Term("外省补贴", "本年度已在外省享受过同品类补贴的，不能在本市重复申领"))
    return tuple(terms)


def _max_amount(rules: _Rules) -> int:
    """The largest subsidy one item can get: the cap, or less when a price ceiling bounds the rate."""
    if rules.price_ceiling_fen is None:
        return rules.cap_fen
    best_rate = rules.rate_bp + rules.bonus_rate_bp
    return min(rules.cap_fen, apply_rate(rules.price_ceiling_fen, best_rate))


def compile_consumer_goods(root: Table, meta: Meta) -> Compiled:
    """Compile a consumer-goods catalogue: per-category rate, grade bonus, price ceiling, cap and quota."""
    rules_table = root.table("rules")
    rules = _read_rules(rules_table, None)
    # 北京市商务局 2025-01-19: subsidised for the category in another province this year → not again here.
    exclude_other_region = rules_table.flag("other_region_exclusion", default=False)
    purchase_window = read_limits(rules_table, "purchased")
    rules_table.finish()

    items: dict[str, _Item] = {}
    max_amounts: dict[str | None, int | None] = {}
    quotas: dict[str | None, int | None] = {}
    described: dict[str, tuple[str, str]] = {}
    categories = root.table("categories")
    for code in categories.names():
        category = categories.table(code)
        name = category.text("name")
        category_rules = _read_rules(category, rules)
        category.finish()
        items[code] = _compile_item(name, category_rules)
        max_amounts[code] = _max_amount(category_rules)
        quotas[code] = category_rules.quota
        described[code] = (name, _describe(category_rules))
    categories.finish()
    if not items:
        raise refuse("categories", "at least one category is required")
    max_amounts[None] = max(amount for amount in max_amounts.values() if amount is not None)

    programme, rule_version = meta.code, meta.rule_version
    window_text = describe_all(purchase_window)
    known = "、".join(items)
    covered_names = "、".join(item.name for item in items.values())
    # POLICY.md: a category of the category table that this programme does not cover is a refusal, not an
    # error; only a code outside the table is malformed input.
    not_covered = {
        code: Reason("category_not_covered", False, f"{name}不属于本政策补贴品类（本政策补贴：{covered_names}）")
        for code, name in CATEGORIES.items()
        if code not in items
    }

    def evaluate(payload: Mapping[str, Any]) -> Decision:
        """Decide one purchase: category, other province, quota, price ceiling, grade, then rate and cap."""
        if type(payload) is not dict:
            payload = as_mapping(payload, "")
        get = payload.get
        category = get("category", MISSING)
        if type(category) is not str:
            raise wrong_type(category, "category", "品类代码字符串")
        item = items.get(category)
        if item is None and category not in not_covered:
            raise InputError("unknown_category", "category", f"品类代码 {category} 不在品类表中，本政策可选：{known}")
        price = get("price_fen", MISSING)
        if type(price) is not int:
            raise wrong_type(price, "price_fen", "以分为单位的整数")
        if price <= 0:
            if price < 0:
                raise InputError("negative", "price_fen", f"{field_named('price_fen')}不能为负数")
            raise InputError("invalid_value", "price_fen", f"{field_named('price_fen')}应大于 0")
        if price > MAX_FEN:
            raise InputError("too_large", "price_fen", f"{field_named('price_fen')}超出允许范围")
        energy = get("energy_grade")
        if energy is None:
            energy = 0
        elif type(energy) is not int or not 1 <= energy <= 5:
            raise _bad_grade(energy, "energy_grade")
        water = get("water_grade")
        if water is None:
            water = 0
        elif type(water) is not int or not 1 <= water <= 5:
            raise _bad_grade(water, "water_grade")
        purchased = get("purchased_on")
        if purchased is not None:
            purchased = parse_date(purchased, "purchased_on")
        elif purchase_window:
            raise wrong_type(None, "purchased_on", "日期")
        history = get("history")
        used = 0
        if history is not None:
            if type(history) is not list:
                raise wrong_type(history, "history", "数组")
            for index, entry in enumerate(history):
                if type(entry) is not dict:
                    entry = as_mapping(entry, f"history[{index}]")  # noqa: PLW2901 - normalised in place
                entry_programme = entry.get("programme", MISSING)
                if type(entry_programme) is not str:
                    raise wrong_type(entry_programme, f"history[{index}].programme", "字符串")
                entry_category = entry.get("category")
                if entry_category is not None and type(entry_category) is not str:
                    raise wrong_type(entry_category, f"history[{index}].category", "字符串")
                if entry_programme == programme and entry_category == category:
                    used += 1
        elsewhere = get("other_region_categories")
        claimed_elsewhere = False
        if elsewhere is not None:
            if type(elsewhere) is not list:
                raise wrong_type(elsewhere, "other_region_categories", "数组")
            for index, other in enumerate(elsewhere):
                if type(other) is not str:
                    raise list_item_error(f"other_region_categories[{index}]", "字符串")
                if other == category:
                    claimed_elsewhere = True
        if item is None:
            # Checked after every field is read: a malformed input is an error whatever its category.
            return Decision(programme, rule_version, False, 0, {}, (not_covered[category],))

        reasons = [item.category_reason]
        eligible = True
        if exclude_other_region:
            if claimed_elsewhere:
                eligible = False
                reasons.append(item.other_region_failed)
            else:
                reasons.append(item.other_region_passed)
        if used < item.quota:
            reasons.append(item.quota_reasons[used])
        else:
            eligible = False
            reasons.append(Reason("quota", False, f"本人已享受{item.name}补贴 {used} 件，已达每人 {item.quota} 件上限"))
        if purchase_window and purchased is not None:
            if admits_all(purchase_window, purchased):
                reasons.append(Reason("window", True, f"购买日期 {purchased}，在{window_text}的政策期内"))
            else:
                eligible = False
                reasons.append(Reason("window", False, f"购买日期 {purchased}，不在{window_text}的政策期内"))
        ceiling = item.price_ceiling_fen
        if ceiling is not None:
            if price <= ceiling:
                message = f"价格 {format_yuan(price, symbol=False)} 元，不超过单件 {item.ceiling_text} 元的价格上限"
            else:
                eligible = False
                message = f"价格 {format_yuan(price, symbol=False)} 元，超过单件 {item.ceiling_text} 元的价格上限"
            reasons.append(new_reason(Reason, ("price_ceiling", price <= ceiling, message)))
        grade_reason, rate_bp, rate_text, grade_passed = item.grades[energy * 6 + water]
        if grade_reason is not None:
            reasons.append(grade_reason)
            if not grade_passed:
                eligible = False
        amount = 0
        if eligible:
            # Rates apply first, caps after; rounded half-up once (POLICY.md).
            raw = (price * rate_bp + 5_000) // 10_000
            price_text = format_yuan(price, symbol=False)
            raw_text = format_yuan(raw, symbol=False)
            rate_message = f"价格 {price_text} 元，补贴 {rate_text} 为 {raw_text} 元"
            reasons.append(new_reason(Reason, ("rate", True, rate_message)))
            if raw > item.cap_fen:
                amount = item.cap_fen
                cap_message = f"{rate_message}，超过单件上限 {item.cap_text} 元，按上限补贴"
            else:
                amount = raw
                cap_message = f"补贴 {raw_text} 元，未超过单件上限 {item.cap_text} 元"
            reasons.append(new_reason(Reason, ("cap", True, cap_message)))
        return Decision(programme, rule_version, eligible, amount, {}, tuple(reasons))

    def check_claim(
        category: str, history: Sequence[tuple[str, str]], other_region_categories: Collection[str]
    ) -> Decision:
        """A claim's reasons, in the order a purchase's decision gives them: category, other province, quota."""
        item = items.get(category)
        if item is None:
            if category in not_covered:
                return Decision(programme, rule_version, False, 0, {}, (not_covered[category],))
            raise InputError("unknown_category", "category", f"品类代码 {category} 不在品类表中，本政策可选：{known}")
        reasons = [item.category_reason]
        eligible = True
        if exclude_other_region:
            if category in other_region_categories:
                eligible = False
                reasons.append(item.other_region_failed)
            else:
                reasons.append(item.other_region_passed)
        used = sum(
            1
            for entry_programme, entry_category in history
            if entry_programme == programme and entry_category == category
        )
        if used < item.quota:
            reasons.append(item.quota_reasons[used])
        else:
            eligible = False
            reasons.append(Reason("quota", False, f"本人已享受{item.name}补贴 {used} 件，已达每人 {item.quota} 件上限"))
        amount = max_amounts[category]
        assert amount is not None  # every category in the table has a maximum (_max_amount), so a claim holds it
        return Decision(programme, rule_version, eligible, amount, {}, tuple(reasons))

    return Compiled(
        evaluate=evaluate,
        check_claim=check_claim,
        category_names={code: item.name for code, item in items.items()},
        max_amounts_fen=max_amounts,
        quotas=quotas,
        terms=_terms(described, window_text, exclude_other_region),
        reads=frozenset(
            {"category", "price_fen", "energy_grade", "water_grade", "history"}
            | ({"purchased_on"} if purchase_window else set())
            | ({"other_region_categories"} if exclude_other_region else set())
        ),
    )


def _bad_grade(value: object, path: str) -> InputError:
    """Build the error for an energy or water grade that is not 1–5 or null."""
    if type(value) is int:
        return InputError("invalid_value", path, f"{field_named(path)}应为 1–5 的整数或 null")
    return InputError("invalid_type", path, f"{field_named(path)}应为 1–5 的整数或 null")
