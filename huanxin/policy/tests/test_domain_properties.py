"""Properties that hold for every input: bounded amounts, zero when refused, monotone in price, no crashes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from huanxin.policy.domain import Decision, InputError, RuleSet, evaluate, load_catalogue

RULES = load_catalogue()
CONSUMER = sorted(code for code, rule_set in RULES.items() if rule_set.family == "consumer_goods")
RATE_CARS = ("cn-car-scrap-2026", "cn-car-replace-2026")

grades = st.one_of(st.none(), st.integers(min_value=1, max_value=5))
prices = st.integers(min_value=1, max_value=5_000_000)


@st.composite
def consumer_quotes(draw: st.DrawFn) -> tuple[RuleSet, dict[str, Any]]:
    """A consumer-goods programme and a well-formed input for it."""
    rule_set = RULES[draw(st.sampled_from(CONSUMER))]
    category = draw(st.sampled_from(rule_set.categories))
    history = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "programme": st.sampled_from([rule_set.code, "cn-appliance-2024"]),
                    "category": st.sampled_from(rule_set.categories),
                }
            ),
            max_size=4,
        )
    )
    payload = {
        "category": category,
        "price_fen": draw(prices),
        "energy_grade": draw(grades),
        "water_grade": draw(grades),
        "history": history,
        "other_region_categories": draw(st.lists(st.sampled_from(rule_set.categories), max_size=2)),
    }
    return rule_set, payload


ERROR_CODES = {"required", "invalid_type", "invalid_value", "invalid_date", "negative", "unknown_category"}


def outcome(rule_set: RuleSet, payload: Any) -> Decision | InputError:
    """The decision, or the InputError raised for malformed input (any other exception fails the test)."""
    try:
        return evaluate(rule_set, payload)
    except InputError as error:
        return error


def assert_consistent(decision: Decision) -> None:
    """Invariants of every decision: refused means 0, eligible means every reason passed, JSON-ready."""
    assert decision.amount_fen >= 0
    if not decision.eligible:
        assert decision.amount_fen == 0
    assert decision.eligible == all(reason.passed for reason in decision.reasons)
    assert decision.reasons, "every decision explains itself"
    json.dumps(decision.to_dict(), ensure_ascii=False)


@given(consumer_quotes())
def test_consumer_amount_never_exceeds_the_cap_or_the_price(case: tuple[RuleSet, dict[str, Any]]) -> None:
    rule_set, payload = case

    decision = evaluate(rule_set, payload)

    assert_consistent(decision)
    assert decision.amount_fen <= rule_set.max_amount_fen(payload["category"])
    assert decision.amount_fen <= payload["price_fen"]


@given(consumer_quotes(), prices, prices)
def test_consumer_amount_never_decreases_as_the_price_rises(
    case: tuple[RuleSet, dict[str, Any]], first: int, second: int
) -> None:
    rule_set, payload = case
    # Under a price ceiling (digital products) a dearer item is refused outright: compare below it only.
    ceiling = 600_000 if rule_set.code.startswith("cn-digital") else 10**12
    low, high = sorted((min(first, ceiling), min(second, ceiling)))

    cheaper = evaluate(rule_set, {**payload, "price_fen": low})
    dearer = evaluate(rule_set, {**payload, "price_fen": high})

    assert cheaper.eligible == dearer.eligible
    assert cheaper.amount_fen <= dearer.amount_fen


@st.composite
def car_quotes(draw: st.DrawFn) -> tuple[RuleSet, dict[str, Any]]:
    """A rate-based car programme and a well-formed application for it."""
    rule_set = RULES[draw(st.sampled_from(RATE_CARS))]
    energy = draw(st.sampled_from(["nev", "fuel"]))
    new_vehicle: dict[str, Any] = {"energy": energy, "price_fen": draw(st.integers(1, 100_000_000))}
    if energy == "nev":
        new_vehicle["in_nev_catalogue"] = draw(st.booleans())
    else:
        new_vehicle["displacement_l"] = draw(st.floats(min_value=0.6, max_value=6.0))
    day = st.dates().map(lambda value: value.isoformat())
    payload = {
        "old_vehicle": {
            "fuel": draw(st.sampled_from(["gasoline", "diesel", "other", "nev"])),
            "registered_on": draw(day),
            "owned_since": draw(day),
        },
        "new_vehicle": new_vehicle,
        "applied_on": draw(day),
        "history": draw(st.lists(st.fixed_dictionaries({"programme": st.sampled_from(sorted(RULES))}), max_size=2)),
    }
    return rule_set, payload


@given(car_quotes())
def test_car_amount_never_exceeds_the_cap_or_the_price(case: tuple[RuleSet, dict[str, Any]]) -> None:
    rule_set, payload = case

    decision = evaluate(rule_set, payload)

    assert_consistent(decision)
    assert decision.amount_fen <= rule_set.max_amount_fen()
    assert decision.amount_fen <= payload["new_vehicle"]["price_fen"]


@given(car_quotes(), st.integers(1, 100_000_000))
def test_car_amount_never_decreases_as_the_price_rises(case: tuple[RuleSet, dict[str, Any]], other: int) -> None:
    rule_set, payload = case
    price = payload["new_vehicle"]["price_fen"]
    low, high = sorted((price, other))

    cheaper = evaluate(rule_set, {**payload, "new_vehicle": {**payload["new_vehicle"], "price_fen": low}})
    dearer = evaluate(rule_set, {**payload, "new_vehicle": {**payload["new_vehicle"], "price_fen": high}})

    assert cheaper.amount_fen <= dearer.amount_fen


@given(st.integers(1, 600_000_000), st.integers(0, 600_000_000), st.integers(0, 50_000_000))
def test_reverse_invoice_is_allowed_exactly_while_within_the_12_month_ceiling(
    sale: int, prior: int, rest_of_month: int
) -> None:
    decision = evaluate(
        RULES["cn-reverse-invoice-2024"],
        {"sale_fen": sale, "seller_prior_12m_fen": prior, "seller_month_fen": sale + rest_of_month},
    )

    assert_consistent(decision)
    assert decision.eligible == (prior + sale <= 500_000_000)
    assert decision.amount_fen == (sale if decision.eligible else 0)
    assert 0 <= decision.details["vat_fen"] <= sale
    assert 0 <= decision.details["pit_fen"] <= sale


@given(st.integers(1, 10**12), st.integers(1, 120))
def test_loan_interest_grows_with_the_term_up_to_24_months_only(principal: int, term: int) -> None:
    def amount(months: int) -> int:
        payload = {"principal_fen": principal, "disbursed_on": "2024-06-01", "term_months": months}
        return evaluate(RULES["cn-renewal-loan-2024"], payload).amount_fen

    assert amount(term) <= amount(term + 1)
    assert amount(max(term, 24)) == amount(24)
    assert amount(term) * 10_000 <= principal * 300 + 10_000


FIELDS = sorted(
    {
        "category",
        "price_fen",
        "energy_grade",
        "water_grade",
        "purchased_on",
        "history",
        "other_region_categories",
        "old_vehicle",
        "new_vehicle",
        "applied_on",
        "old_bike",
        "new_bike",
        "same_owner",
        "old_truck",
        "new_truck",
        "processed_year",
        "units",
        "principal_fen",
        "disbursed_on",
        "term_months",
        "sale_fen",
        "seller_prior_12m_fen",
        "seller_month_fen",
    }
)
NESTED_FIELDS = sorted(
    {
        "programme",
        "category",
        "fuel",
        "registered_on",
        "owned_since",
        "energy",
        "displacement_l",
        "price_fen",
        "in_nev_catalogue",
        "registered_in_beijing_on",
        "battery",
        "deregistered_on",
        "battery_health_assessed",
        "in_catalogue",
        "emission_standard",
        "weight_class",
        "refrigerated",
        "subtype",
        "screen_in",
        "load_kg",
        "volume_l",
        "cooling_w",
        "count",
        "vin",
    }
)
# Values near the contract: codes, real and impossible dates, edge numbers, plus anything at all.
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-10, max_value=10**9)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(
        [
            "fridge",
            "ac",
            "phone",
            "nev",
            "fuel",
            "gasoline",
            "lithium",
            "guo4",
            "heavy",
            "lcd",
            "crt",
            "cn-appliance-2025",
            "2025-01-01",
            "2025-02-30",
            "2011-06-30",
            "1.5",
            "",
        ]
    )
    | st.text(max_size=4)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(NESTED_FIELDS), children, max_size=4)
    ),
    max_leaves=6,
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(RULES)), st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8))
def test_arbitrary_json_gives_a_decision_or_an_input_error_never_a_crash(code: str, payload: dict[str, Any]) -> None:
    result = outcome(RULES[code], payload)

    if isinstance(result, InputError):
        assert result.code in ERROR_CODES
        json.dumps(result.to_dict(), ensure_ascii=False)
    else:
        assert_consistent(result)


VALID_INPUTS: dict[str, dict[str, Any]] = {
    "cn-appliance-2025": {
        "category": "ac",
        "price_fen": 400_000,
        "energy_grade": 1,
        "water_grade": None,
        "purchased_on": "2025-03-01",
        "history": [{"programme": "cn-appliance-2025", "category": "ac"}],
        "other_region_categories": [],
    },
    "cn-digital-2025": {"category": "phone", "price_fen": 499_900, "other_region_categories": ["tablet"]},
    "bj-smarthome-2025": {"category": "smart_lock", "price_fen": 200_000, "water_grade": 1},
    "cn-car-scrap-2024": {
        "old_vehicle": {"fuel": "gasoline", "registered_on": "2009-05-01"},
        "new_vehicle": {"energy": "fuel", "displacement_l": 1.5},
        "applied_on": "2024-10-01",
    },
    "cn-car-scrap-2025": {
        "old_vehicle": {"fuel": "diesel", "registered_on": "2010-05-01", "owned_since": "2012-01-01"},
        "new_vehicle": {"energy": "nev", "in_nev_catalogue": True, "vin": "X"},
        "history": [{"programme": "cn-car-scrap-2025", "vin": "Y"}],
    },
    "cn-car-scrap-2026": {
        "old_vehicle": {"fuel": "gasoline", "registered_on": "2009-05-01", "owned_since": "2015-01-01"},
        "new_vehicle": {"energy": "nev", "in_nev_catalogue": True, "price_fen": 15_000_000},
        "applied_on": "2026-03-01",
        "history": [],
    },
    "bj-ebike-2025": {
        "old_bike": {
            "registered_in_beijing_on": "2021-05-01",
            "battery": "lithium",
            "deregistered_on": "2025-02-01",
            "battery_health_assessed": True,
        },
        "new_bike": {
            "in_catalogue": True,
            "price_fen": 200_000,
            "registered_on": "2025-02-02",
            "battery": "lead_acid",
        },
        "same_owner": True,
        "history": [],
    },
    "bj-truck-2024": {
        "old_truck": {"emission_standard": "guo4", "weight_class": "heavy"},
        "new_truck": {"energy": "guo6", "weight_class": "heavy", "refrigerated": False},
    },
    "weee-fund-2021": {
        "processed_year": 2023,
        "units": [
            {"category": "tv", "subtype": "crt", "screen_in": 21, "count": 3},
            {"category": "washer", "subtype": "drum_auto", "load_kg": 7, "count": 2},
        ],
    },
    "cn-renewal-loan-2024": {"principal_fen": 100_000_000, "disbursed_on": "2024-05-01", "term_months": 36},
    "cn-reverse-invoice-2024": {
        "sale_fen": 50_000_000,
        "seller_prior_12m_fen": 400_000_000,
        "seller_month_fen": 60_000_000,
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every location inside a JSON value, as a path of keys and indexes."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """A copy of value with the location at path replaced (or removed when new is the REMOVE marker)."""
    if not path:
        return new
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    if not rest and new is REMOVE:
        del copy[head]
        return copy
    copy[head] = _replace(value[head], tuple(rest), new)
    return copy


REMOVE = object()


@settings(max_examples=400)
@given(st.sampled_from(sorted(VALID_INPUTS)), st.data())
def test_one_broken_field_of_a_valid_input_gives_a_decision_or_an_input_error(code: str, data: st.DataObject) -> None:
    valid = VALID_INPUTS[code]
    path = data.draw(st.sampled_from(_paths(valid)))
    broken = _replace(valid, path, data.draw(st.just(REMOVE) | json_values))

    assert_consistent(evaluate(RULES[code], valid))
    result = outcome(RULES[code], broken)

    if isinstance(result, InputError):
        assert result.field, "a broken field is named"
        assert result.code in ERROR_CODES
    else:
        assert_consistent(result)
