"""WEEE processing fund per-unit standard from 2021-04-01 (财税〔2021〕10号)."""

from __future__ import annotations

from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULE = load_catalogue()["weee-fund-2021"]


def quote(*units: dict[str, Any], processed_year: Any = 2023) -> Decision:
    """Decide one dismantling-fund claim."""
    return evaluate(RULE, {"processed_year": processed_year, "units": list(units)})


def per_unit(**unit: Any) -> int:
    """The fund amount for one unit of the given description."""
    return quote({"count": 1, **unit}).amount_fen


def test_100_lcd_tvs_and_50_fridges_of_200_litres_get_7250_yuan() -> None:
    decision = quote(
        {"category": "tv", "subtype": "lcd", "count": 100},
        {"category": "fridge", "volume_l": 200, "count": 50},
    )

    assert decision.eligible is True
    assert decision.amount_fen == 725_000
    assert decision.details == {"line_amounts_fen": [450_000, 275_000]}
    assert [reason.code for reason in decision.reasons] == ["window", "per_unit", "per_unit", "total"]


def test_units_processed_in_2024_get_nothing_from_the_per_unit_table() -> None:
    decision = quote({"category": "tv", "subtype": "lcd", "count": 100}, processed_year=2024)

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert decision.reasons[0].code == "window"
    assert "以奖代补" in decision.reasons[0].message


def test_units_processed_before_the_2021_standard_are_not_covered() -> None:
    assert quote({"category": "ac", "cooling_w": 3_500, "count": 1}, processed_year=2020).eligible is False


@pytest.mark.parametrize(
    ("screen_in", "amount_fen"),
    [(13.9, 0), (14, 4_000), (24.9, 4_000), (25, 4_500), (29, 4_500)],
)
def test_crt_tv_amount_depends_on_screen_size(screen_in: float, amount_fen: int) -> None:
    assert per_unit(category="tv", subtype="crt", screen_in=screen_in) == amount_fen


@pytest.mark.parametrize("subtype", ["plasma", "lcd", "oled", "rear_projection"])
def test_flat_and_rear_projection_tvs_get_45_yuan(subtype: str) -> None:
    assert per_unit(category="tv", subtype=subtype) == 4_500


@pytest.mark.parametrize("subtype", ["desktop", "all_in_one", "laptop"])
def test_computers_get_45_yuan(subtype: str) -> None:
    assert per_unit(category="computer", subtype=subtype) == 4_500


@pytest.mark.parametrize(
    ("subtype", "load_kg", "amount_fen"),
    [
        ("single_tub", 3, 0),
        ("single_tub", 3.1, 2_500),
        ("spin_dryer", 10, 2_500),
        ("twin_tub", 5, 3_000),
        ("pulsator_auto", 10, 3_000),
        ("drum_auto", 2.5, 0),
        ("drum_auto", 10.5, 0),
    ],
)
def test_washer_amount_depends_on_type_and_load(subtype: str, load_kg: float, amount_fen: int) -> None:
    assert per_unit(category="washer", subtype=subtype, load_kg=load_kg) == amount_fen


@pytest.mark.parametrize(("volume_l", "amount_fen"), [(49, 0), (50, 5_500), (500, 5_500), (501, 0)])
def test_fridge_amount_depends_on_volume(volume_l: int, amount_fen: int) -> None:
    assert per_unit(category="fridge", volume_l=volume_l) == amount_fen


@pytest.mark.parametrize(("cooling_w", "amount_fen"), [(14_000, 10_000), (14_001, 0)])
def test_room_air_conditioner_up_to_14000_watts_gets_100_yuan(cooling_w: int, amount_fen: int) -> None:
    assert per_unit(category="ac", cooling_w=cooling_w) == amount_fen


def test_claim_with_only_unsubsidised_units_is_not_eligible() -> None:
    decision = quote({"category": "tv", "subtype": "crt", "screen_in": 12, "count": 30})

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert decision.reasons[-1].code == "total"


def test_dismantling_figures_are_per_unit() -> None:
    assert RULE.max_amount_fen("ac") == 10_000
    assert RULE.max_amount_fen("tv") == 4_500
    assert RULE.max_amount_fen(None) == 10_000
    assert RULE.categories == ("tv", "computer", "washer", "fridge", "ac")


@pytest.mark.parametrize(
    ("units", "error_code", "field"),
    [
        ([{"category": "phone", "count": 1}], "unknown_category", "units[0].category"),
        ([{"category": "tv", "count": 1}], "required", "units[0].subtype"),
        ([{"category": "tv", "subtype": "led", "count": 1}], "invalid_value", "units[0].subtype"),
        ([{"category": "tv", "subtype": "crt", "count": 1}], "required", "units[0].screen_in"),
        (
            [{"category": "washer", "subtype": "twin_tub", "load_kg": "5", "count": 1}],
            "invalid_type",
            "units[0].load_kg",
        ),
        ([{"category": "fridge", "volume_l": -1, "count": 1}], "negative", "units[0].volume_l"),
        (
            [
                {"category": "ac", "cooling_w": 3_500, "count": 1},
                {"category": "ac", "cooling_w": 3_500, "count": 0},
            ],
            "invalid_value",
            "units[1].count",
        ),
        (
            [{"category": "ac", "cooling_w": 3_500, "count": 1}] * 2
            + [{"category": "ac", "cooling_w": 1, "count": True}],
            "invalid_type",
            "units[2].count",
        ),
        ([], "invalid_value", "units"),
    ],
)
def test_malformed_dismantling_input_names_the_field(units: list[Any], error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        quote(*units)

    assert (error.value.code, error.value.field) == (error_code, field)


def test_processed_year_must_be_an_integer() -> None:
    with pytest.raises(InputError) as error:
        quote({"category": "ac", "cooling_w": 3_500, "count": 1}, processed_year="2023")

    assert (error.value.code, error.value.field) == ("invalid_type", "processed_year")
