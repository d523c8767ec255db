"""Quote throughput of the rule engine, and its cost against a hand-written function for the same rule.

Run: .venv/bin/python bench/quote.py [--n 100000] [--repeat 3] [--seed 2025]

Measures decisions per second in one process for cn-appliance-2025 (varied, realistic inputs, about a
third of them ineligible), cn-car-scrap-2026 and cn-reverse-invoice-2024; every decision is rendered with
to_dict(), as the API and the command do. The hand-written baseline validates the same input fields,
produces the same reasons and builds the same decision dict; the bench checks that both give identical
output on every input before timing anything. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huanxin.policy.domain import InputError, RuleSet, evaluate, load_catalogue

Payload = dict[str, Any]

# ---------------------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------------------

APPLIANCES = (
    "fridge",
    "washer",
    "tv",
    "ac",
    "computer",
    "water_heater",
    "gas_stove",
    "range_hood",
    "water_purifier",
    "dishwasher",
    "rice_cooker",
    "microwave",
)
WATER_LABELLED = ("washer", "dishwasher", "water_purifier", "water_heater")


def _iso(rng: random.Random, first_year: int, last_year: int) -> str:
    """A random real calendar date between two years."""
    return f"{rng.randint(first_year, last_year):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def appliance_inputs(rng: random.Random, n: int) -> list[Payload]:
    """Quotes as a city sees them: mostly grade 1–2 items, some grade 3+, prior claims, a few elsewhere."""
    inputs: list[Payload] = []
    for _ in range(n):
        category = rng.choice(APPLIANCES)
        payload: Payload = {
            "category": category,
            "price_fen": rng.choice((rng.randint(20_000, 300_000), rng.randint(300_000, 2_000_000))),
            "energy_grade": rng.choices((1, 2, 3, 4, 5, None), weights=(45, 25, 15, 4, 1, 10))[0],
            "water_grade": rng.choice((1, 2, 3, None)) if category in WATER_LABELLED else None,
        }
        if rng.random() < 0.5:
            payload["purchased_on"] = _iso(rng, 2025, 2025)
        roll = rng.random()
        if roll < 0.25:
            payload["history"] = [{"programme": "cn-appliance-2025", "category": rng.choice(APPLIANCES)}]
        elif roll < 0.35:
            payload["history"] = [{"programme": "cn-appliance-2025", "category": category}]
        elif roll < 0.40:
            payload["history"] = [{"programme": "cn-appliance-2025", "category": "ac"}] * 2 + [
                {"programme": "cn-appliance-2024", "category": "fridge"}
            ]
        else:
            payload["history"] = []
        if rng.random() < 0.05:
            payload["other_region_categories"] = [category]
        inputs.append(payload)
    return inputs


def car_inputs(rng: random.Random, n: int) -> list[Payload]:
    """Car scrap-and-replace applications: old cars of every fuel and age, NEV and fuel replacements."""
    inputs: list[Payload] = []
    for _ in range(n):
        energy = rng.choices(("nev", "fuel"), weights=(70, 30))[0]
        new_vehicle: Payload = {"energy": energy, "price_fen": rng.randint(6_000_000, 40_000_000)}
        if energy == "nev":
            new_vehicle["in_nev_catalogue"] = rng.random() < 0.95
        else:
            new_vehicle["displacement_l"] = rng.choice((1.0, 1.2, 1.5, 1.6, 2.0, 2.5))
        inputs.append(
            {
                "old_vehicle": {
                    "fuel": rng.choices(("gasoline", "diesel", "other", "nev"), weights=(70, 10, 5, 15))[0],
                    "registered_on": _iso(rng, 2005, 2021),
                    "owned_since": _iso(rng, 2005, 2025),
                },
                "new_vehicle": new_vehicle,
                "applied_on": _iso(rng, 2026, 2026),
                "history": [{"programme": "cn-car-replace-2026"}] if rng.random() < 0.05 else [],
            }
        )
    return inputs


def reverse_invoice_inputs(rng: random.Random, n: int) -> list[Payload]:
    """Reverse invoices: sales of 1,000–2,000,000 元 from sellers at every point of the 12-month ceiling."""
    inputs: list[Payload] = []
    for _ in range(n):
        sale = rng.randint(100_000, 200_000_000)
        inputs.append(
            {
                "sale_fen": sale,
                "seller_prior_12m_fen": rng.randint(0, 550_000_000),
                "seller_month_fen": sale + rng.choice((0, rng.randint(0, 20_000_000))),
            }
        )
    return inputs


# ---------------------------------------------------------------------------------------------------------
# The hand-written baseline: cn-appliance-2025 as a plain function, no catalogue, no compilation step.
# ---------------------------------------------------------------------------------------------------------

HW_PROGRAMME = "cn-appliance-2025"
HW_RULE_VERSION = "cn-appliance-2025@1"
HW_NAMES = {
    "fridge": "冰箱",
    "washer": "洗衣机",
    "tv": "电视",
    "ac": "空调",
    "computer": "电脑",
    "water_heater": "热水器",
    "gas_stove": "家用灶具",
    "range_hood": "吸油烟机",
    "water_purifier": "净水器",
    "dishwasher": "洗碗机",
    "rice_cooker": "电饭煲",
    "microwave": "微波炉",
}
HW_QUOTAS = {"ac": 3}
HW_GRADE = {1: "一级", 2: "二级", 3: "三级", 4: "四级", 5: "五级"}
HW_CAP_FEN = 200_000


def _hw_yuan(fen: int) -> str:
    """Fen as 元 with separators."""
    yuan, rest = divmod(fen, 100)
    return f"{yuan:,}.{rest:02d}"


def _hw_type_error(value: object, path: str, expected: str) -> InputError:
    """Missing/null → required, else invalid_type (same codes as the engine)."""
    if value is None:
        return InputError("required", path, f"缺少必填字段 {path}")
    return InputError("invalid_type", path, f"{path} 应为{expected}")


def _hw_grade(value: object, path: str) -> int:
    """An energy/water grade 1–5, or 0 for null."""
    if value is None:
        return 0
    if type(value) is not int:
        raise InputError("invalid_type", path, f"{path} 应为 1–5 的整数或 null")
    if not 1 <= value <= 5:
        raise InputError("invalid_value", path, f"{path} 应为 1–5 的整数或 null")
    return value


@functools.lru_cache(maxsize=8_192)
def _hw_is_iso_date(text: str) -> bool:
    """Whether text is a real 'YYYY-MM-DD' date (cached, as the engine caches parsed dates)."""
    digits = text[:4] + text[5:7] + text[8:]
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not (digits.isascii() and digits.isdigit()):
        return False
    try:
        date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return False
    return True


def _hw_date(value: object, path: str) -> None:
    """Validate a strict ISO date."""
    if type(value) is not str:
        raise _hw_type_error(value, path, "YYYY-MM-DD 格式的日期字符串")
    if not _hw_is_iso_date(value):
        raise InputError("invalid_date", path, f"{path} 不是有效日期，应为 YYYY-MM-DD")


def handwritten_appliance_2025(payload: Mapping[str, Any]) -> dict[str, Any]:
    """cn-appliance-2025 written out by hand: validate, check each criterion, compute, build the dict."""
    if type(payload) is not dict and not isinstance(payload, Mapping):
        raise InputError("invalid_type", "", "输入应为 JSON 对象")
    category = payload.get("category")
    if type(category) is not str:
        raise _hw_type_error(category, "category", "品类代码字符串")
    name = HW_NAMES.get(category)
    if name is None:
        raise InputError("unknown_category", "category", f"本政策不含品类 {category}，可选：{'、'.join(HW_NAMES)}")
    price = payload.get("price_fen")
    if type(price) is not int:
        raise _hw_type_error(price, "price_fen", "以分为单位的整数")
    if price < 0:
        raise InputError("negative", "price_fen", "price_fen 不能为负数")
    if price == 0:
        raise InputError("invalid_value", "price_fen", "price_fen 应大于 0")
    energy = _hw_grade(payload.get("energy_grade"), "energy_grade")
    water = _hw_grade(payload.get("water_grade"), "water_grade")
    if payload.get("purchased_on") is not None:
        _hw_date(payload["purchased_on"], "purchased_on")
    history = payload.get("history")
    used = 0
    if history is not None:
        if type(history) is not list:
            raise _hw_type_error(history, "history", "数组")
        for index, entry in enumerate(history):
            if type(entry) is not dict and not isinstance(entry, Mapping):
                raise InputError("invalid_type", f"history[{index}]", f"history[{index}] 应为对象")
            programme = entry.get("programme")
            if type(programme) is not str:
                raise _hw_type_error(programme, f"history[{index}].programme", "字符串")
            entry_category = entry.get("category")
            if entry_category is not None and type(entry_category) is not str:
                raise _hw_type_error(entry_category, f"history[{index}].category", "字符串")
            if programme == HW_PROGRAMME and entry_category == category:
                used += 1
    elsewhere = payload.get("other_region_categories")
    if elsewhere is not None:
        if type(elsewhere) is not list:
            raise _hw_type_error(elsewhere, "other_region_categories", "数组")
        for index, other in enumerate(elsewhere):
            if type(other) is not str:
                path = f"other_region_categories[{index}]"
                raise InputError("invalid_type", path, f"{path} 应为字符串")

    reasons = [{"code": "category", "passed": True, "message": f"{name}属于本政策补贴品类"}]
    eligible = True
    quota = HW_QUOTAS.get(category, 1)
    if used < quota:
        reasons.append(
            {"code": "quota", "passed": True, "message": f"本人已享受{name}补贴 {used} 件，每人限 {quota} 件"}
        )
    else:
        eligible = False
        reasons.append(
            {
                "code": "quota",
                "passed": False,
                "message": f"本人已享受{name}补贴 {used} 件，已达每人 {quota} 件上限",
            }
        )
    # Energy OR water grade 2 or better; grade 1 adds 5 points to the 15 %.
    best, label = 0, ""
    if energy:
        best, label = energy, HW_GRADE[energy] + "能效"
    if water and (not best or water < best):
        best, label = water, HW_GRADE[water] + "水效"
    rate_bp = 0
    if best and best <= 2:
        rate_bp = 2000 if best == 1 else 1500
        reasons.append({"code": "grade", "passed": True, "message": f"{label}，补贴比例 {rate_bp // 100}%"})
    else:
        eligible = False
        labels = []
        if energy:
            labels.append(HW_GRADE[energy] + "能效")
        if water:
            labels.append(HW_GRADE[water] + "水效")
        shown = "、".join(labels) or "未标注能效或水效等级"
        reasons.append({"code": "grade", "passed": False, "message": f"{shown}，未达到二级及以上能效或水效要求"})
    amount = 0
    if eligible:
        raw = (price * rate_bp + 5_000) // 10_000
        price_text, raw_text, rate_text = _hw_yuan(price), _hw_yuan(raw), f"{rate_bp // 100}%"
        reasons.append(
            {
                "code": "rate",
                "passed": True,
                "message": f"价格 {price_text} 元，补贴 {rate_text} 为 {raw_text} 元",
            }
        )
        if raw > HW_CAP_FEN:
            amount = HW_CAP_FEN
            message = (
                f"价格 {price_text} 元，补贴 {rate_text} 为 {raw_text} 元，"
                f"超过单件上限 {_hw_yuan(HW_CAP_FEN)} 元，按上限补贴"
            )
        else:
            amount = raw
            message = f"补贴 {raw_text} 元，未超过单件上限 {_hw_yuan(HW_CAP_FEN)} 元"
        reasons.append({"code": "cap", "passed": True, "message": message})
    return {
        "programme": HW_PROGRAMME,
        "rule_version": HW_RULE_VERSION,
        "eligible": eligible,
        "amount_fen": amount,
        "details": {},
        "reasons": reasons,
    }


# ---------------------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------------------


def _engine_runner(rule_set: RuleSet) -> Callable[[list[Payload]], None]:
    """A loop that decides and renders every input with the engine."""

    def run(inputs: list[Payload]) -> None:
        for payload in inputs:
            evaluate(rule_set, payload).to_dict()

    return run


def _handwritten_runner(inputs: list[Payload]) -> None:
    """A loop that decides and renders every input with the hand-written function."""
    for payload in inputs:
        handwritten_appliance_2025(payload)


def _best_seconds(run: Callable[[list[Payload]], None], inputs: list[Payload], repeat: int) -> float:
    """The fastest of several timed passes over the inputs (the least disturbed by the machine)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run(inputs)
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures, the last line as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=100_000, help="decisions per timed pass (default 100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest counts (default 3)")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    n, repeat = max(args.n, 1), max(args.repeat, 1)

    rng = random.Random(args.seed)
    catalogue = load_catalogue()
    appliance, car, reverse = (
        catalogue["cn-appliance-2025"],
        catalogue["cn-car-scrap-2026"],
        catalogue["cn-reverse-invoice-2024"],
    )
    appliance_cases = appliance_inputs(rng, n)
    car_cases = car_inputs(rng, n)
    reverse_cases = reverse_invoice_inputs(rng, n)

    # Honesty check: the baseline must give exactly the engine's output on every input.
    eligible = 0
    for payload in appliance_cases:
        engine_output = evaluate(appliance, payload).to_dict()
        if engine_output != handwritten_appliance_2025(payload):
            print("baseline differs from the engine on", json.dumps(payload, ensure_ascii=False))
            return 1
        eligible += engine_output["eligible"]
    eligible_share = eligible / n
    car_share = sum(evaluate(car, p).eligible for p in car_cases) / n
    reverse_share = sum(evaluate(reverse, p).eligible for p in reverse_cases) / n

    engine_run = _engine_runner(appliance)
    engine_seconds = handwritten_seconds = float("inf")
    for _ in range(repeat):  # interleaved, so both see the same machine conditions
        engine_seconds = min(engine_seconds, _best_seconds(engine_run, appliance_cases, 1))
        handwritten_seconds = min(handwritten_seconds, _best_seconds(_handwritten_runner, appliance_cases, 1))
    car_seconds = _best_seconds(_engine_runner(car), car_cases, repeat)
    reverse_seconds = _best_seconds(_engine_runner(reverse), reverse_cases, repeat)

    appliance_rate = n / engine_seconds
    ratio = engine_seconds / handwritten_seconds
    rows = (
        ("cn-appliance-2025 engine", appliance_rate, f"{eligible_share:.0%} eligible"),
        ("cn-appliance-2025 hand-written", n / handwritten_seconds, "same output, checked"),
        ("cn-car-scrap-2026 engine", n / car_seconds, f"{car_share:.0%} eligible"),
        ("cn-reverse-invoice-2024 engine", n / reverse_seconds, f"{reverse_share:.0%} allowed"),
    )
    for label, rate, note in rows:
        print(f"{label:<32}{rate:>10,.0f} decisions/s  ({note})")
    print(f"engine time / hand-written time = {ratio:.2f} (n={n}, best of {repeat})")
    # Built by hand so that the ratio keeps exactly two decimals (json.dumps would print 1.0).
    print(
        f'{{"bench": "quote", "decisions_per_s": {round(appliance_rate)}, '
        f'"ratio_vs_handwritten": {ratio:.2f}, "car_decisions_per_s": {round(n / car_seconds)}, '
        f'"reverse_invoice_decisions_per_s": {round(n / reverse_seconds)}}}'
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
