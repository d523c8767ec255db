"""The claim's question to the rule engine: category, history and other-province categories, no purchase."""

from __future__ import annotations

import pytest

from huanxin.policy.domain import InputError, load_catalogue

RULES = load_catalogue()
CLAIM_CODES = {"category", "other_region", "quota"}


def test_first_fridge_claim_is_eligible_for_the_category_maximum() -> None:
    rule_set = RULES["cn-appliance-2026"]

    decision = rule_set.check_claim(category="fridge", history=[], other_region_categories=[])

    assert decision.eligible is True
    assert decision.amount_fen == rule_set.max_amount_fen("fridge")
    assert decision.rule_version == "cn-appliance-2026@1"
    assert [tuple(reason) for reason in decision.reasons] == [
        ("category", True, "冰箱属于本政策补贴品类"),
        ("quota", True, "本人已享受冰箱补贴 0 件，每人限 1 件"),
    ]


def test_second_fridge_of_the_same_programme_is_refused_on_quota() -> None:
    decision = RULES["cn-appliance-2026"].check_claim(
        category="fridge", history=[("cn-appliance-2026", "fridge")], other_region_categories=[]
    )

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert decision.reasons[-1] == ("quota", False, "本人已享受冰箱补贴 1 件，已达每人 1 件上限")


def test_history_of_other_programmes_and_categories_does_not_use_the_quota() -> None:
    decision = RULES["cn-appliance-2026"].check_claim(
        category="fridge",
        history=[("cn-appliance-2025", "fridge"), ("cn-appliance-2026", "washer")],
        other_region_categories=[],
    )

    assert decision.eligible is True


def test_air_conditioners_2025_allow_three_per_person() -> None:
    rule_set = RULES["cn-appliance-2025"]
    two = [("cn-appliance-2025", "ac")] * 2

    third = rule_set.check_claim(category="ac", history=two, other_region_categories=[])
    fourth = rule_set.check_claim(
        category="ac", history=[*two, ("cn-appliance-2025", "ac")], other_region_categories=[]
    )

    assert third.eligible is True
    assert third.reasons[-1].message == "本人已享受空调补贴 2 件，每人限 3 件"
    assert fourth.eligible is False


def test_category_subsidised_in_another_province_this_year_is_refused_where_the_rules_exclude_it() -> None:
    decision = RULES["cn-digital-2026"].check_claim(category="phone", history=[], other_region_categories=["phone"])

    assert decision.eligible is False
    assert [reason.code for reason in decision.reasons] == ["category", "other_region", "quota"]
    assert decision.reasons[1] == ("other_region", False, "本年度已在外省享受过手机补贴，不能在本市重复申领")


def test_other_province_is_not_asked_where_the_rules_do_not_exclude_it() -> None:
    decision = RULES["cn-appliance-2026"].check_claim(category="fridge", history=[], other_region_categories=["fridge"])

    assert decision.eligible is True
    assert "other_region" not in {reason.code for reason in decision.reasons}


def test_a_category_of_the_table_the_programme_does_not_cover_is_a_refusal() -> None:
    decision = RULES["cn-digital-2026"].check_claim(category="fridge", history=[], other_region_categories=[])

    assert decision.eligible is False
    assert [reason.code for reason in decision.reasons] == ["category_not_covered"]


def test_an_unknown_category_code_is_an_input_error() -> None:
    with pytest.raises(InputError) as raised:
        RULES["cn-appliance-2026"].check_claim(category="spaceship", history=[], other_region_categories=[])

    assert raised.value.code == "unknown_category"


def test_families_without_qualifications_do_not_take_claims() -> None:
    rule_set = RULES["cn-car-scrap-2026"]

    assert rule_set.takes_claims is False
    assert RULES["cn-appliance-2026"].takes_claims is True
    with pytest.raises(ValueError, match="does not issue qualifications"):
        rule_set.check_claim(category="car", history=[], other_region_categories=[])


@pytest.mark.parametrize("code", sorted(code for code, rules in RULES.items() if rules.takes_claims))
def test_claim_reasons_are_those_a_purchase_decision_gives_for_the_same_person(code: str) -> None:
    """The claim asks only what a purchase's decision would also decide (category, other province, quota),
    with the same verdicts and messages, whatever the person's history."""
    rule_set = RULES[code]
    purchase: dict[str, object] = {"price_fen": 100, "energy_grade": 1, "water_grade": 1}
    if "purchased_on" in rule_set.reads:
        purchase["purchased_on"] = "2026-06-01"
    for category in rule_set.categories:
        for used in range(rule_set.quota(category) + 1):
            history = [(code, category)] * used
            for elsewhere in ([], [category]):
                claim = rule_set.check_claim(category=category, history=history, other_region_categories=elsewhere)
                decision = rule_set.evaluate(
                    {
                        "category": category,
                        **purchase,
                        "history": [{"programme": p, "category": c} for p, c in history],
                        "other_region_categories": elsewhere,
                    }
                )
                expected = tuple(reason for reason in decision.reasons if reason.code in CLAIM_CODES)
                assert claim.reasons == expected
                assert claim.eligible == all(reason.passed for reason in expected)
