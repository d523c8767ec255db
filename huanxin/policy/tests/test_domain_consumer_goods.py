"""Consumer goods: appliances, digital products and Beijing smart-home items (POLICY.md)."""

from __future__ import annotations

from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULES = load_catalogue()


def quote(code: str, **payload: Any) -> Decision:
    """Decide one consumer-goods input under the named programme."""
    return evaluate(RULES[code], payload)


def codes(decision: Decision) -> list[str]:
    """The reason codes, in order."""
    return [reason.code for reason in decision.reasons]


def failed(decision: Decision) -> list[str]:
    """The codes of the reasons that failed."""
    return [reason.code for reason in decision.reasons if not reason.passed]


# --- POLICY.md examples ------------------------------------------------------------------------------------


def test_grade_one_fridge_2024_at_4000_yuan_gets_800_yuan() -> None:
    decision = quote("cn-appliance-2024", category="fridge", price_fen=400_000, energy_grade=1)

    assert decision.to_dict() == {
        "programme": "cn-appliance-2024",
        "rule_version": "cn-appliance-2024@1",
        "eligible": True,
        "amount_fen": 80_000,
        "details": {},
        "reasons": [
            {"code": "category", "passed": True, "message": "冰箱属于本政策补贴品类"},
            {"code": "quota", "passed": True, "message": "本人已享受冰箱补贴 0 件，每人限 1 件"},
            {"code": "grade", "passed": True, "message": "一级能效，补贴比例 20%"},
            {"code": "rate", "passed": True, "message": "价格 4,000.00 元，补贴 20% 为 800.00 元"},
            {"code": "cap", "passed": True, "message": "补贴 800.00 元，未超过单件上限 2,000.00 元"},
        ],
    }


def test_grade_three_washer_2024_is_refused_on_grade() -> None:
    decision = quote("cn-appliance-2024", category="washer", price_fen=300_000, energy_grade=3)

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert failed(decision) == ["grade"]
    assert decision.reasons[-1].message == "三级能效，未达到二级及以上能效或水效要求"


def test_phone_at_4999_yuan_is_capped_at_500_yuan() -> None:
    decision = quote("cn-digital-2025", category="phone", price_fen=499_900)

    assert decision.eligible is True
    assert decision.amount_fen == 50_000
    assert codes(decision) == ["category", "other_region", "quota", "price_ceiling", "rate", "cap"]
    assert decision.reasons[-1].message == "价格 4,999.00 元，补贴 15% 为 749.85 元，超过单件上限 500.00 元，按上限补贴"


# --- rates, bonus and caps ---------------------------------------------------------------------------------


def test_grade_two_appliance_gets_fifteen_percent() -> None:
    decision = quote("cn-appliance-2025", category="tv", price_fen=300_000, energy_grade=2)

    assert decision.amount_fen == 45_000
    assert decision.reasons[2].message == "二级能效，补贴比例 15%"


def test_cap_is_reached_exactly_at_10000_yuan_for_grade_one() -> None:
    decision = quote("cn-appliance-2025", category="ac", price_fen=1_000_000, energy_grade=1)

    assert decision.amount_fen == 200_000
    assert decision.reasons[-1].message == "补贴 2,000.00 元，未超过单件上限 2,000.00 元"


def test_one_fen_above_the_cap_price_is_capped() -> None:
    decision = quote("cn-appliance-2025", category="ac", price_fen=1_000_003, energy_grade=1)

    assert decision.amount_fen == 200_000
    assert "按上限补贴" in decision.reasons[-1].message


def test_amount_is_rounded_half_up_to_the_fen_once() -> None:
    # 15 % of 0.10 元 is 1.5 fen → 2 fen; 15 % of 0.09 元 is 1.35 fen → 1 fen.
    assert quote("cn-appliance-2025", category="tv", price_fen=10, energy_grade=2).amount_fen == 2
    assert quote("cn-appliance-2025", category="tv", price_fen=9, energy_grade=2).amount_fen == 1


def test_cap_2026_is_1500_yuan() -> None:
    decision = quote("cn-appliance-2026", category="fridge", price_fen=1_200_000, energy_grade=1)

    assert decision.amount_fen == 150_000


# --- grades ------------------------------------------------------------------------------------------------


def test_water_grade_qualifies_when_energy_grade_does_not() -> None:
    decision = quote("cn-appliance-2025", category="washer", price_fen=300_000, energy_grade=3, water_grade=2)

    assert decision.eligible is True
    assert decision.amount_fen == 45_000
    assert decision.reasons[2].message == "二级水效，补贴比例 15%"


def test_water_grade_one_earns_the_bonus() -> None:
    decision = quote("cn-appliance-2024", category="washer", price_fen=300_000, energy_grade=2, water_grade=1)

    assert decision.amount_fen == 60_000
    assert decision.reasons[2].message == "一级水效，补贴比例 20%"


def test_grade_just_below_the_2026_requirement_is_refused() -> None:
    decision = quote("cn-appliance-2026", category="tv", price_fen=300_000, energy_grade=2)

    assert decision.eligible is False
    assert decision.reasons[-1].message == "二级能效，未达到一级能效或水效要求"


def test_grade_one_meets_the_2026_requirement_at_fifteen_percent() -> None:
    decision = quote("cn-appliance-2026", category="tv", price_fen=300_000, energy_grade=1)

    assert decision.amount_fen == 45_000
    assert decision.reasons[2].message == "一级能效，补贴比例 15%"


def test_appliance_without_any_label_is_refused() -> None:
    decision = quote("cn-appliance-2025", category="microwave", price_fen=80_000)

    assert decision.eligible is False
    assert decision.reasons[-1].message == "未标注能效或水效等级，未达到二级及以上能效或水效要求"


def test_both_labels_below_requirement_are_both_named() -> None:
    decision = quote("cn-appliance-2025", category="dishwasher", price_fen=300_000, energy_grade=3, water_grade=4)

    assert decision.reasons[-1].message == "三级能效、四级水效，未达到二级及以上能效或水效要求"


def test_smart_home_item_without_grade_one_gets_fifteen_percent() -> None:
    decision = quote("bj-smarthome-2025", category="smart_lock", price_fen=200_000)

    assert decision.eligible is True
    assert decision.amount_fen == 30_000
    assert decision.reasons[-3].message == "非一级能效或水效，补贴比例 15%"


def test_smart_home_item_with_water_grade_one_gets_twenty_percent() -> None:
    decision = quote("bj-smarthome-2025", category="smart_toilet", price_fen=500_000, water_grade=1)

    assert decision.amount_fen == 100_000


def test_digital_products_have_no_grade_criterion() -> None:
    decision = quote("cn-digital-2025", category="tablet", price_fen=300_000, energy_grade=5)

    assert "grade" not in codes(decision)
    assert decision.amount_fen == 45_000


# --- price ceiling -----------------------------------------------------------------------------------------


def test_phone_at_exactly_6000_yuan_is_allowed() -> None:
    assert quote("cn-digital-2025", category="phone", price_fen=600_000).amount_fen == 50_000


def test_phone_one_fen_over_6000_yuan_is_refused() -> None:
    decision = quote("cn-digital-2025", category="phone", price_fen=600_001)

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert failed(decision) == ["price_ceiling"]
    assert decision.reasons[-1].message == "价格 6,000.01 元，超过单件 6,000.00 元的价格上限"


def test_smart_glasses_are_covered_in_2026_but_not_2025() -> None:
    assert quote("cn-digital-2026", category="smart_glasses", price_fen=200_000).amount_fen == 30_000
    decision = quote("cn-digital-2025", category="smart_glasses", price_fen=200_000)
    assert decision.to_dict() == {
        "programme": "cn-digital-2025",
        "rule_version": "cn-digital-2025@1",
        "eligible": False,
        "amount_fen": 0,
        "details": {},
        "reasons": [
            {
                "code": "category_not_covered",
                "passed": False,
                "message": "智能眼镜不属于本政策补贴品类（本政策补贴：手机、平板（含学习机）、智能手表/手环）",
            }
        ],
    }


def test_a_catalogued_category_the_programme_does_not_cover_is_an_ineligible_decision() -> None:
    decision = quote("cn-appliance-2024", category="dishwasher", price_fen=300_000, energy_grade=1)

    assert (decision.eligible, decision.amount_fen) == (False, 0)
    assert codes(decision) == ["category_not_covered"]
    assert decision.reasons[0].message.startswith("洗碗机不属于本政策补贴品类")


def test_a_code_outside_the_category_table_stays_an_error() -> None:
    with pytest.raises(InputError) as error:
        quote("cn-appliance-2024", category="toaster", price_fen=300_000)
    assert (error.value.code, error.value.field) == ("unknown_category", "category")


def test_an_uncovered_category_with_a_malformed_field_is_still_an_error() -> None:
    with pytest.raises(InputError) as error:
        quote("cn-appliance-2024", category="dishwasher", price_fen=-1)
    assert (error.value.code, error.value.field) == ("negative", "price_fen")


# --- quotas and history ------------------------------------------------------------------------------------


def test_second_fridge_in_same_programme_is_refused() -> None:
    decision = quote(
        "cn-appliance-2025",
        category="fridge",
        price_fen=400_000,
        energy_grade=1,
        history=[{"programme": "cn-appliance-2025", "category": "fridge"}],
    )

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert failed(decision) == ["quota"]
    assert decision.reasons[1].message == "本人已享受冰箱补贴 1 件，已达每人 1 件上限"


def test_fridge_from_another_programme_does_not_count_against_the_quota() -> None:
    decision = quote(
        "cn-appliance-2025",
        category="fridge",
        price_fen=400_000,
        energy_grade=1,
        history=[
            {"programme": "cn-appliance-2024", "category": "fridge"},
            {"programme": "cn-appliance-2025"},
        ],
    )

    assert decision.eligible is True


def test_other_category_in_history_does_not_count_against_the_quota() -> None:
    decision = quote(
        "cn-appliance-2025",
        category="tv",
        price_fen=400_000,
        energy_grade=1,
        history=[{"programme": "cn-appliance-2025", "category": "fridge"}],
    )

    assert decision.eligible is True


def test_third_air_conditioner_in_2025_is_allowed_and_fourth_refused() -> None:
    one_ac = {"programme": "cn-appliance-2025", "category": "ac"}

    third = quote("cn-appliance-2025", category="ac", price_fen=400_000, energy_grade=1, history=[one_ac] * 2)
    fourth = quote("cn-appliance-2025", category="ac", price_fen=400_000, energy_grade=1, history=[one_ac] * 3)

    assert third.eligible is True
    assert third.reasons[1].message == "本人已享受空调补贴 2 件，每人限 3 件"
    assert fourth.eligible is False
    assert failed(fourth) == ["quota"]


def test_second_air_conditioner_in_2024_is_refused() -> None:
    decision = quote(
        "cn-appliance-2024",
        category="ac",
        price_fen=400_000,
        energy_grade=1,
        history=[{"programme": "cn-appliance-2024", "category": "ac"}],
    )

    assert decision.eligible is False


def test_phone_subsidised_in_another_province_is_refused_in_beijing() -> None:
    decision = quote("cn-digital-2025", category="phone", price_fen=300_000, other_region_categories=["phone"])

    assert decision.eligible is False
    assert failed(decision) == ["other_region"]
    assert decision.reasons[1].message == "本年度已在外省享受过手机补贴，不能在本市重复申领"


def test_other_category_subsidised_elsewhere_does_not_block_a_phone() -> None:
    decision = quote("cn-digital-2025", category="phone", price_fen=300_000, other_region_categories=["tablet"])

    assert decision.eligible is True


def test_every_failed_criterion_is_reported_not_only_the_first() -> None:
    decision = quote(
        "cn-digital-2025",
        category="phone",
        price_fen=700_000,
        history=[{"programme": "cn-digital-2025", "category": "phone"}],
        other_region_categories=["phone"],
    )

    assert failed(decision) == ["other_region", "quota", "price_ceiling"]
    assert decision.amount_fen == 0


def test_appliance_programme_ignores_other_region_categories() -> None:
    decision = quote(
        "cn-appliance-2025", category="tv", price_fen=300_000, energy_grade=1, other_region_categories=["tv"]
    )

    assert decision.eligible is True
    assert "other_region" not in codes(decision)


# --- figures for the services --------------------------------------------------------------------


def test_max_amount_and_quota_for_budget_holds() -> None:
    appliance = RULES["cn-appliance-2025"]

    assert appliance.max_amount_fen("fridge") == 200_000
    assert appliance.max_amount_fen(None) == 200_000
    assert appliance.quota("ac") == 3
    assert appliance.quota("fridge") == 1
    assert RULES["cn-digital-2025"].max_amount_fen("phone") == 50_000
    assert RULES["cn-appliance-2026"].max_amount_fen("tv") == 150_000


def test_max_amount_of_an_unknown_category_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        RULES["cn-appliance-2025"].max_amount_fen("phone")


def test_categories_follow_the_catalogue_file() -> None:
    assert RULES["cn-appliance-2024"].categories == (
        "fridge",
        "washer",
        "tv",
        "ac",
        "computer",
        "water_heater",
        "gas_stove",
        "range_hood",
    )
    assert len(RULES["cn-appliance-2025"].categories) == 12
    assert RULES["cn-appliance-2026"].categories == (
        "fridge",
        "washer",
        "tv",
        "ac",
        "computer",
        "water_heater",
    )
    assert RULES["cn-digital-2026"].categories == ("phone", "tablet", "smartwatch", "smart_glasses")
    assert RULES["bj-smarthome-2025"].category_names["robot_vacuum"] == "扫地机器人（含洗地机、扫拖一体机）"


def test_air_conditioner_exception_of_2026_is_not_encoded() -> None:
    # POLICY.md: the 2026 air-conditioner exception is unconfirmed; only the confirmed one-per-category rule.
    assert RULES["cn-appliance-2026"].quota("ac") == 1


def test_purchase_date_is_validated_even_without_a_purchase_window() -> None:
    decision = quote("cn-appliance-2025", category="tv", price_fen=300_000, energy_grade=1, purchased_on="2025-03-01")

    assert decision.eligible is True
    with pytest.raises(InputError) as error:
        quote("cn-appliance-2025", category="tv", price_fen=300_000, energy_grade=1, purchased_on="2025-02-30")
    assert (error.value.code, error.value.field) == ("invalid_date", "purchased_on")


# --- terms for the public --------------------------------------------------------------------------------


def test_terms_state_each_rule_from_the_compiled_figures() -> None:
    assert [tuple(term) for term in RULES["cn-appliance-2025"].terms] == [
        (
            "冰箱、洗衣机、电视、电脑、热水器、家用灶具、吸油烟机、净水器、洗碗机、电饭煲、微波炉",
            "二级及以上能效或水效产品，按成交价 15% 补贴，一级能效或水效的再加 5%，每件最高 2,000 元，每人每类限 1 件",
        ),
        (
            "空调",
            "二级及以上能效或水效产品，按成交价 15% 补贴，一级能效或水效的再加 5%，每件最高 2,000 元，每人每类限 3 件",
        ),
    ]
    assert RULES["cn-digital-2025"].terms[1].subject == "外省补贴"
