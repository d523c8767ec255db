"""Beijing 2024 国四 operating-truck renewal."""

from __future__ import annotations

from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULE = load_catalogue()["bj-truck-2024"]

GUO4_HEAVY = {"emission_standard": "guo4", "weight_class": "heavy"}
GUO6_HEAVY = {"energy": "guo6", "weight_class": "heavy", "refrigerated": False}
NEV_REEFER = {"energy": "nev", "weight_class": "light", "refrigerated": True}


def quote(old_truck: Any, new_truck: Any) -> Decision:
    """Decide one truck renewal."""
    return evaluate(RULE, {"old_truck": old_truck, "new_truck": new_truck})


def test_scrapping_a_guo4_heavy_truck_only_gets_45000_yuan() -> None:
    decision = quote(GUO4_HEAVY, None)

    assert decision.amount_fen == 4_500_000
    assert decision.reasons[0].message == "淘汰国四重型营运货车，补贴 45,000.00 元"


def test_scrapping_guo4_heavy_and_buying_guo6_heavy_gets_85000_yuan() -> None:
    assert quote(GUO4_HEAVY, GUO6_HEAVY).amount_fen == 8_500_000


def test_buying_an_nev_refrigerated_truck_gets_35000_yuan() -> None:
    assert quote(None, NEV_REEFER).amount_fen == 3_500_000


def test_options_are_not_added_up() -> None:
    assert quote(GUO4_HEAVY, NEV_REEFER).amount_fen == 4_500_000


def test_scrapping_a_guo3_truck_gets_nothing() -> None:
    decision = quote({"emission_standard": "guo3", "weight_class": "heavy"}, GUO6_HEAVY)

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert decision.reasons[0].code == "fixed_amount"
    assert decision.reasons[0].passed is False


def test_scrapping_a_guo4_medium_truck_gets_nothing() -> None:
    assert quote({"emission_standard": "guo4", "weight_class": "medium"}, None).eligible is False


def test_non_refrigerated_nev_truck_gets_nothing() -> None:
    assert quote(None, {**NEV_REEFER, "refrigerated": False}).eligible is False


def test_truck_figures() -> None:
    assert RULE.max_amount_fen() == 8_500_000


@pytest.mark.parametrize(
    ("old_truck", "new_truck", "error_code", "field"),
    [
        (
            {"emission_standard": "euro4", "weight_class": "heavy"},
            None,
            "invalid_value",
            "old_truck.emission_standard",
        ),
        ({"emission_standard": "guo4"}, None, "required", "old_truck.weight_class"),
        (
            None,
            {"energy": "nev", "weight_class": "light", "refrigerated": "yes"},
            "invalid_type",
            "new_truck.refrigerated",
        ),
        ("guo4", None, "invalid_type", "old_truck"),
    ],
)
def test_malformed_truck_input_names_the_field(old_truck: Any, new_truck: Any, error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        quote(old_truck, new_truck)

    assert (error.value.code, error.value.field) == (error_code, field)


def test_terms_list_each_option_with_its_amount_in_the_order_they_are_tried() -> None:
    assert [tuple(term) for term in load_catalogue()["bj-truck-2024"].terms] == [
        ("淘汰国四重型营运货车并购置国六重型货车", "补贴 85,000 元"),
        ("淘汰国四重型营运货车", "补贴 45,000 元"),
        ("购置新能源冷藏车", "补贴 35,000 元"),
    ]
