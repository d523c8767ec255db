"""Passenger cars: scrap-and-replace 2024/2025/2026 and replacement 2026 (POLICY.md)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULES = load_catalogue()


def application(
    *,
    fuel: str = "gasoline",
    registered_on: str = "2009-05-01",
    owned_since: str = "2015-01-01",
    energy: str = "nev",
    price_fen: int | None = 15_000_000,
    in_nev_catalogue: bool | None = True,
    displacement_l: Any = None,
    applied_on: str = "2024-10-01",
    history: list[dict[str, Any]] | None = None,
    vin: str | None = None,
) -> dict[str, Any]:
    """A car application as the quote contract describes it, eligible unless overridden."""
    new_vehicle: dict[str, Any] = {"energy": energy}
    if price_fen is not None:
        new_vehicle["price_fen"] = price_fen
    if in_nev_catalogue is not None:
        new_vehicle["in_nev_catalogue"] = in_nev_catalogue
    if displacement_l is not None:
        new_vehicle["displacement_l"] = displacement_l
    if vin is not None:
        new_vehicle["vin"] = vin
    return {
        "old_vehicle": {"fuel": fuel, "registered_on": registered_on, "owned_since": owned_since},
        "new_vehicle": new_vehicle,
        "applied_on": applied_on,
        "history": history or [],
    }


def quote(code: str, **overrides: Any) -> Decision:
    """Decide one car application under the named programme."""
    return evaluate(RULES[code], application(**overrides))


def failed(decision: Decision) -> list[str]:
    """The codes of the reasons that failed."""
    return [reason.code for reason in decision.reasons if not reason.passed]


def fuel_car(**overrides: Any) -> dict[str, Any]:
    """Overrides for a new 1.5 L fuel car."""
    return {"energy": "fuel", "in_nev_catalogue": None, "displacement_l": 1.5, **overrides}


# --- 2024: 商消费函〔2024〕75号 as raised by 392号 ------------------------------------------------


def test_2009_gasoline_car_for_a_catalogue_nev_in_2024_gets_20000_yuan() -> None:
    decision = quote("cn-car-scrap-2024", price_fen=None)

    assert decision.eligible is True
    assert decision.amount_fen == 2_000_000
    assert [reason.code for reason in decision.reasons] == [
        "registration_date",
        "catalogue",
        "window",
        "fixed_amount",
    ]


@pytest.mark.parametrize(
    ("fuel", "last_day", "day_after"),
    [
        ("gasoline", "2011-06-30", "2011-07-01"),
        ("diesel", "2013-06-30", "2013-07-01"),
        ("other", "2013-06-30", "2013-07-01"),
        ("nev", "2018-04-30", "2018-05-01"),
    ],
)
def test_2024_registration_cut_off_includes_the_day_itself(fuel: str, last_day: str, day_after: str) -> None:
    on_the_day = quote("cn-car-scrap-2024", fuel=fuel, registered_on=last_day)
    after = quote("cn-car-scrap-2024", fuel=fuel, registered_on=day_after)

    assert on_the_day.eligible is True
    assert "含当日" in on_the_day.reasons[0].message
    assert after.eligible is False
    assert failed(after) == ["registration_date"]


def test_2024_application_on_the_last_day_is_allowed_and_the_day_after_refused() -> None:
    assert quote("cn-car-scrap-2024", applied_on="2025-01-10").eligible is True
    late = quote("cn-car-scrap-2024", applied_on="2025-01-11")
    assert late.eligible is False
    assert failed(late) == ["window"]


def test_2024_fuel_car_of_2_litres_after_a_fuel_car_gets_15000_yuan() -> None:
    decision = quote("cn-car-scrap-2024", **fuel_car(displacement_l=2.0))

    assert decision.amount_fen == 1_500_000
    assert decision.reasons[-1].message == "购买燃油乘用车，补贴 15,000.00 元"


def test_fuel_car_just_over_2_litres_is_refused() -> None:
    decision = quote("cn-car-scrap-2024", **fuel_car(displacement_l=2.01))

    assert decision.eligible is False
    assert failed(decision) == ["displacement"]


def test_scrapped_nev_to_fuel_car_gets_nothing_in_2024() -> None:
    decision = quote("cn-car-scrap-2024", fuel="nev", registered_on="2017-01-01", **fuel_car())

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert failed(decision) == ["fuel_type"]


def test_nev_outside_the_purchase_tax_catalogue_is_refused() -> None:
    decision = quote("cn-car-scrap-2024", in_nev_catalogue=False)

    assert decision.eligible is False
    assert failed(decision) == ["catalogue"]


# --- 2025: 商办消费函〔2025〕8号: "before" does not include the day ---------------------------------


@pytest.mark.parametrize(
    ("fuel", "cut_off", "day_before"),
    [
        ("gasoline", "2012-06-30", "2012-06-29"),
        ("diesel", "2014-06-30", "2014-06-29"),
        ("other", "2014-06-30", "2014-06-29"),
        ("nev", "2018-12-31", "2018-12-30"),
    ],
)
def test_2025_registration_cut_off_excludes_the_day_itself(fuel: str, cut_off: str, day_before: str) -> None:
    assert quote("cn-car-scrap-2025", fuel=fuel, registered_on=day_before).eligible is True
    on_the_day = quote("cn-car-scrap-2025", fuel=fuel, registered_on=cut_off)
    assert on_the_day.eligible is False
    assert failed(on_the_day) == ["registration_date"]


def test_2025_old_car_owned_since_the_cut_off_day_is_refused() -> None:
    assert quote("cn-car-scrap-2025", owned_since="2025-01-07").eligible is True
    decision = quote("cn-car-scrap-2025", owned_since="2025-01-08")
    assert decision.eligible is False
    assert failed(decision) == ["ownership"]


def test_2025_amounts_are_fixed() -> None:
    assert quote("cn-car-scrap-2025").amount_fen == 2_000_000
    assert quote("cn-car-scrap-2025", **fuel_car()).amount_fen == 1_500_000


def test_2025_new_car_already_subsidised_by_replacement_is_refused() -> None:
    history = [{"programme": "bj-car-replace-2025", "vin": "LSVAB4BR5PN000001"}]

    same_car = quote("cn-car-scrap-2025", vin="LSVAB4BR5PN000001", history=history)
    other_car = quote("cn-car-scrap-2025", vin="LSVAB4BR5PN000002", history=history)

    assert same_car.eligible is False
    assert failed(same_car) == ["exclusivity"]
    assert other_car.eligible is True


def test_scrapped_nev_to_fuel_car_gets_nothing_in_2025() -> None:
    decision = quote("cn-car-scrap-2025", fuel="nev", registered_on="2017-01-01", **fuel_car())

    assert decision.eligible is False
    assert failed(decision) == ["fuel_type"]


# --- 2026: rate and cap ------------------------------------------------------------------------------------


def test_new_nev_at_150000_yuan_in_2026_gets_18000_yuan() -> None:
    decision = quote("cn-car-scrap-2026", applied_on="2026-03-01")

    assert decision.eligible is True
    assert decision.amount_fen == 1_800_000
    assert decision.reasons[-2].message == "新能源乘用车价格 150,000.00 元，补贴 12% 为 18,000.00 元"


def test_2026_nev_subsidy_is_capped_at_20000_yuan() -> None:
    assert quote("cn-car-scrap-2026", price_fen=25_000_000).amount_fen == 2_000_000
    # 12 % of 166,666.67 元 is 20,000.0004 元: rounds to the cap exactly.
    assert quote("cn-car-scrap-2026", price_fen=16_666_667).amount_fen == 2_000_000
    assert quote("cn-car-scrap-2026", price_fen=16_666_658).amount_fen == 1_999_999


def test_2026_fuel_car_after_a_fuel_car_gets_ten_percent_capped_at_15000_yuan() -> None:
    assert quote("cn-car-scrap-2026", **fuel_car(price_fen=10_000_000)).amount_fen == 1_000_000
    assert quote("cn-car-scrap-2026", **fuel_car(price_fen=20_000_000)).amount_fen == 1_500_000


def test_scrapped_nev_to_fuel_car_gets_nothing_in_2026() -> None:
    decision = quote("cn-car-scrap-2026", fuel="nev", registered_on="2019-01-01", **fuel_car())

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert failed(decision) == ["fuel_type"]


@pytest.mark.parametrize(
    ("fuel", "cut_off", "day_before"),
    [
        ("gasoline", "2013-06-30", "2013-06-29"),
        ("diesel", "2015-06-30", "2015-06-29"),
        ("nev", "2019-12-31", "2019-12-30"),
    ],
)
def test_2026_registration_cut_off_excludes_the_day_itself(fuel: str, cut_off: str, day_before: str) -> None:
    assert quote("cn-car-scrap-2026", fuel=fuel, registered_on=day_before).eligible is True
    assert quote("cn-car-scrap-2026", fuel=fuel, registered_on=cut_off).eligible is False


def test_second_car_subsidy_in_2026_is_refused_across_scrap_and_replacement() -> None:
    after_replacement = quote("cn-car-scrap-2026", history=[{"programme": "cn-car-replace-2026"}])
    after_scrap = quote("cn-car-replace-2026", history=[{"programme": "cn-car-scrap-2026"}])

    assert failed(after_replacement) == ["exclusivity"]
    assert failed(after_scrap) == ["exclusivity"]
    assert after_scrap.amount_fen == 0


def test_car_subsidy_of_an_earlier_year_does_not_block_2026() -> None:
    assert quote("cn-car-scrap-2026", history=[{"programme": "cn-car-scrap-2025"}]).eligible is True


def test_2026_old_car_owned_since_the_cut_off_day_is_refused() -> None:
    decision = quote("cn-car-scrap-2026", owned_since="2025-01-08")

    assert failed(decision) == ["ownership"]


# --- 2026 replacement --------------------------------------------------------------------------


def test_replacement_nev_gets_eight_percent_capped_at_15000_yuan() -> None:
    assert quote("cn-car-replace-2026").amount_fen == 1_200_000
    assert quote("cn-car-replace-2026", price_fen=30_000_000).amount_fen == 1_500_000


def test_replacement_fuel_car_gets_six_percent_capped_at_13000_yuan() -> None:
    assert quote("cn-car-replace-2026", **fuel_car(price_fen=10_000_000)).amount_fen == 600_000
    assert quote("cn-car-replace-2026", **fuel_car(price_fen=30_000_000)).amount_fen == 1_300_000


def test_replacement_does_not_look_at_the_old_car_registration_date() -> None:
    payload = application(registered_on="2024-01-01")
    del payload["old_vehicle"]["fuel"], payload["old_vehicle"]["registered_on"]

    decision = evaluate(RULES["cn-car-replace-2026"], payload)

    assert decision.eligible is True
    assert [reason.code for reason in decision.reasons] == [
        "ownership",
        "catalogue",
        "exclusivity",
        "rate",
        "cap",
    ]


def test_replacement_of_an_nev_by_a_fuel_car_is_allowed() -> None:
    assert quote("cn-car-replace-2026", fuel="nev", **fuel_car()).eligible is True


# --- displacement numbers and malformed input --------------------------------------------------------------


@pytest.mark.parametrize("displacement", [2, 2.0, Decimal("2.0"), Decimal("1.998")])
def test_displacement_may_be_an_integer_float_or_decimal(displacement: Any) -> None:
    assert quote("cn-car-scrap-2024", **fuel_car(displacement_l=displacement)).eligible is True


@pytest.mark.parametrize(
    ("code", "overrides", "error_code", "field"),
    [
        ("cn-car-scrap-2026", {"price_fen": None}, "required", "new_vehicle.price_fen"),
        ("cn-car-scrap-2026", {"price_fen": 15_000_000.0}, "invalid_type", "new_vehicle.price_fen"),
        ("cn-car-scrap-2026", {"price_fen": -1}, "negative", "new_vehicle.price_fen"),
        (
            "cn-car-scrap-2024",
            {"energy": "fuel", "in_nev_catalogue": None},
            "required",
            "new_vehicle.displacement_l",
        ),
        ("cn-car-scrap-2024", fuel_car(displacement_l="1.5"), "invalid_type", "new_vehicle.displacement_l"),
        ("cn-car-scrap-2024", fuel_car(displacement_l=True), "invalid_type", "new_vehicle.displacement_l"),
        ("cn-car-scrap-2024", fuel_car(displacement_l=-1.5), "negative", "new_vehicle.displacement_l"),
        (
            "cn-car-scrap-2024",
            fuel_car(displacement_l=float("nan")),
            "invalid_value",
            "new_vehicle.displacement_l",
        ),
        ("cn-car-scrap-2024", {"in_nev_catalogue": None}, "required", "new_vehicle.in_nev_catalogue"),
        ("cn-car-scrap-2024", {"in_nev_catalogue": 1}, "invalid_type", "new_vehicle.in_nev_catalogue"),
        ("cn-car-scrap-2024", {"energy": "hydrogen"}, "invalid_value", "new_vehicle.energy"),
        ("cn-car-scrap-2024", {"fuel": "coal"}, "invalid_value", "old_vehicle.fuel"),
        ("cn-car-scrap-2024", {"registered_on": "2011-02-29"}, "invalid_date", "old_vehicle.registered_on"),
        ("cn-car-scrap-2024", {"registered_on": "2011/06/30"}, "invalid_date", "old_vehicle.registered_on"),
        ("cn-car-scrap-2024", {"registered_on": 20110630}, "invalid_type", "old_vehicle.registered_on"),
        ("cn-car-scrap-2024", {"applied_on": "2024-13-01"}, "invalid_date", "applied_on"),
        ("cn-car-scrap-2026", {"owned_since": "2020-04-31"}, "invalid_date", "old_vehicle.owned_since"),
        ("cn-car-scrap-2026", {"history": [{"programme": 2026}]}, "invalid_type", "history[0].programme"),
        ("cn-car-scrap-2026", {"history": [{}]}, "required", "history[0].programme"),
        ("cn-car-scrap-2026", {"history": ["cn-car-scrap-2026"]}, "invalid_type", "history[0]"),
    ],
)
def test_malformed_car_input_names_the_field(code: str, overrides: dict[str, Any], error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        quote(code, **overrides)

    assert (error.value.code, error.value.field) == (error_code, field)
    assert error.value.to_dict()["error"]["field"] == field


def test_missing_old_vehicle_is_required() -> None:
    payload = application()
    del payload["old_vehicle"]

    with pytest.raises(InputError) as error:
        evaluate(RULES["cn-car-scrap-2026"], payload)

    assert (error.value.code, error.value.field) == ("required", "old_vehicle")


def test_car_figures_for_budget_holds() -> None:
    assert RULES["cn-car-scrap-2024"].max_amount_fen() == 2_000_000
    assert RULES["cn-car-scrap-2026"].max_amount_fen() == 2_000_000
    assert RULES["cn-car-replace-2026"].max_amount_fen() == 1_500_000
    assert RULES["cn-car-scrap-2026"].quota() == 1
    assert RULES["cn-car-scrap-2026"].categories == ()


def test_2024_sets_no_once_per_person_rule() -> None:
    # POLICY.md states no per-person limit for 2024: none is encoded.
    with pytest.raises(ValueError, match="no per-person limit"):
        RULES["cn-car-scrap-2024"].quota()
    assert quote("cn-car-scrap-2024", history=[{"programme": "cn-car-scrap-2024"}]).eligible is True


def test_terms_state_the_car_rules_from_the_compiled_figures() -> None:
    assert [tuple(term) for term in RULES["cn-car-scrap-2026"].terms] == [
        (
            "旧车注册登记日期",
            "汽油乘用车早于 2013-06-30（不含当日）；柴油乘用车早于 2015-06-30（不含当日）；"
            "其他燃料乘用车早于 2015-06-30（不含当日）；新能源乘用车早于 2019-12-31（不含当日）",
        ),
        ("旧车登记在本人名下的日期", "早于 2025-01-08（不含当日）"),
        ("购买新能源乘用车", "须列入《减免车辆购置税的新能源汽车车型目录》，按新车价格 12% 补贴，最高 20,000 元"),
        ("购买燃油乘用车", "排量 2.0 升及以下，仅限报废燃油乘用车后购买，按新车价格 10% 补贴，最高 15,000 元"),
        ("限享一次", "每人限享受一次2026年汽车报废更新或置换更新补贴"),
    ]
