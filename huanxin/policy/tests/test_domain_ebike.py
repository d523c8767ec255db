"""Beijing 2025 e-bike trade-in (北京市商务局 2025-01-27)."""

from __future__ import annotations

from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULE = load_catalogue()["bj-ebike-2025"]


def application(**overrides: Any) -> dict[str, Any]:
    """An eligible trade-in (lithium → lead-acid, assessed, 2,000 元, same owner); dotted keys override."""
    payload: dict[str, Any] = {
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
    }
    for key, value in overrides.items():
        target = payload
        *parents, last = key.split(".")
        for parent in parents:
            target = target[parent]
        target[last] = value
    return payload


def quote(**overrides: Any) -> Decision:
    """Decide one e-bike application."""
    return evaluate(RULE, application(**overrides))


def failed(decision: Decision) -> list[str]:
    """The codes of the reasons that failed."""
    return [reason.code for reason in decision.reasons if not reason.passed]


def test_lithium_to_lead_acid_with_health_assessment_gets_650_yuan() -> None:
    decision = quote()

    assert decision.eligible is True
    assert decision.amount_fen == 65_000
    assert [reason.code for reason in decision.reasons] == [
        "registration_date",
        "deregistration_date",
        "catalogue",
        "new_registration_date",
        "ownership",
        "price_floor",
        "quota",
        "fixed_amount",
        "bonus_lead_acid",
        "bonus_battery_health",
    ]


def test_same_battery_type_without_assessment_gets_the_base_500_yuan() -> None:
    decision = quote(**{"new_bike.battery": "lithium", "old_bike.battery_health_assessed": False})

    assert decision.amount_fen == 50_000
    assert decision.reasons[-2].message == "不符合“旧车锂电池、新车铅酸电池”，无此项加补"
    assert all(reason.passed for reason in decision.reasons)


def test_lead_acid_to_lithium_earns_no_battery_bonus() -> None:
    decision = quote(**{"old_bike.battery": "lead_acid", "new_bike.battery": "lithium"})

    assert decision.amount_fen == 55_000


def test_old_bike_registered_on_the_last_day_qualifies_and_the_day_after_does_not() -> None:
    assert quote(**{"old_bike.registered_in_beijing_on": "2024-12-31"}).eligible is True
    late = quote(**{"old_bike.registered_in_beijing_on": "2025-01-01"})
    assert failed(late) == ["registration_date"]


def test_old_bike_never_registered_in_beijing_is_refused() -> None:
    decision = quote(**{"old_bike.registered_in_beijing_on": None})

    assert failed(decision) == ["registration_date"]
    assert decision.reasons[0].message == "旧车未在北京登记"


def test_deregistration_from_the_first_day_qualifies_and_the_day_before_does_not() -> None:
    assert quote(**{"old_bike.deregistered_on": "2024-12-01"}).eligible is True
    assert failed(quote(**{"old_bike.deregistered_on": "2024-11-30"})) == ["deregistration_date"]
    assert failed(quote(**{"old_bike.deregistered_on": None})) == ["deregistration_date"]


def test_new_bike_registered_from_2025_qualifies_and_in_2024_does_not() -> None:
    assert quote(**{"new_bike.registered_on": "2025-01-01"}).eligible is True
    assert failed(quote(**{"new_bike.registered_on": "2024-12-31"})) == ["new_registration_date"]


def test_new_bike_outside_the_beijing_catalogue_is_refused() -> None:
    decision = quote(**{"new_bike.in_catalogue": False})

    assert failed(decision) == ["catalogue"]
    assert decision.amount_fen == 0


def test_new_bike_at_exactly_1500_yuan_qualifies_and_one_fen_less_does_not() -> None:
    assert quote(**{"new_bike.price_fen": 150_000}).eligible is True
    assert failed(quote(**{"new_bike.price_fen": 149_999})) == ["price_floor"]


def test_different_owner_is_refused() -> None:
    assert failed(quote(same_owner=False)) == ["ownership"]


def test_second_e_bike_subsidy_for_the_same_person_is_refused() -> None:
    decision = quote(history=[{"programme": "bj-ebike-2025"}])

    assert failed(decision) == ["quota"]
    assert decision.amount_fen == 0


def test_all_failed_criteria_are_reported_together() -> None:
    decision = quote(same_owner=False, **{"new_bike.in_catalogue": False, "new_bike.price_fen": 100_000})

    assert failed(decision) == ["catalogue", "ownership", "price_floor"]


def test_e_bike_figures() -> None:
    assert RULE.max_amount_fen() == 65_000
    assert RULE.quota() == 1


@pytest.mark.parametrize(
    ("overrides", "error_code", "field"),
    [
        ({"old_bike.battery": "sodium"}, "invalid_value", "old_bike.battery"),
        ({"new_bike.battery": None}, "required", "new_bike.battery"),
        ({"old_bike.battery_health_assessed": "yes"}, "invalid_type", "old_bike.battery_health_assessed"),
        ({"new_bike.price_fen": "2000"}, "invalid_type", "new_bike.price_fen"),
        ({"new_bike.price_fen": -200_000}, "negative", "new_bike.price_fen"),
        ({"new_bike.registered_on": "2025-02-30"}, "invalid_date", "new_bike.registered_on"),
        ({"old_bike.deregistered_on": "2025-1-5"}, "invalid_date", "old_bike.deregistered_on"),
        ({"same_owner": 1}, "invalid_type", "same_owner"),
        ({"new_bike": None}, "required", "new_bike"),
        ({"history": {"programme": "bj-ebike-2025"}}, "invalid_type", "history"),
    ],
)
def test_malformed_e_bike_input_names_the_field(overrides: dict[str, Any], error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        quote(**overrides)

    assert (error.value.code, error.value.field) == (error_code, field)


def test_terms_state_the_ebike_rules_from_the_compiled_figures() -> None:
    assert [tuple(term) for term in load_catalogue()["bj-ebike-2025"].terms] == [
        ("旧车", "在北京登记日期不晚于 2024-12-31（含当日），注销登记日期不早于 2024-12-01（含当日）"),
        (
            "新车",
            "列入《北京电动自行车产品目录》，登记日期不早于 2025-01-01（含当日），"
            "价格不低于 1,500 元，与旧车为同一车主",
        ),
        ("补贴", "每辆 500 元，每人限 1 次"),
        ("加补", "旧车锂电池、新车铅酸电池，加 100 元"),
        ("加补", "旧车电池经健康评估，加 50 元"),
    ]
