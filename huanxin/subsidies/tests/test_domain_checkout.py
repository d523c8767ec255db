import pytest

from huanxin.policy.domain.decision import Decision, Reason
from huanxin.subsidies.domain.checkout import SaleRefusal, product_refusal, rule_refusal, sale_subsidy


def decision(*reasons: Reason, amount_fen: int = 0) -> Decision:
    eligible = all(reason.passed for reason in reasons)
    return Decision("cn-appliance-2026", "cn-appliance-2026@1", eligible, amount_fen, {}, reasons)


def test_an_eligible_sale_has_no_rule_refusal():
    assert rule_refusal(decision(Reason("category", True, "冰箱在补贴范围内"), amount_fen=74_985)) is None


@pytest.mark.parametrize(
    ("code", "field"),
    [("grade", "product_id"), ("min_price", "price_fen"), ("quota", "price_fen")],
)
def test_the_first_failed_rule_is_shown_on_the_field_it_concerns(code, field):
    refused = decision(
        Reason("category", True, "冰箱在补贴范围内"),
        Reason(code, False, "不符合"),
        Reason("other_region", False, "已在外省享受补贴"),
    )
    assert rule_refusal(refused) == SaleRefusal(field, f"rule_{code}", "不符合")


def test_a_product_of_another_category_or_one_not_enrolled_is_refused():
    assert product_refusal(product_category="tv", qualification_category="fridge", enrolled_categories=["tv"]) == (
        SaleRefusal("product_id", "wrong_category", "产品品类与资格品类不一致")
    )
    refusal = product_refusal(product_category="fridge", qualification_category="fridge", enrolled_categories=["tv"])
    assert refusal is not None
    assert refusal.code == "category_not_enrolled"
    assert (
        product_refusal(product_category="fridge", qualification_category="fridge", enrolled_categories=["fridge"])
        is None
    )


def test_a_sale_never_spends_more_than_the_qualification_holds():
    assert sale_subsidy(amount_fen=74_985, held_fen=200_000) == 74_985
    assert sale_subsidy(amount_fen=250_000, held_fen=200_000) == 200_000
