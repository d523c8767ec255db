"""Pure rules of a sale at checkout: whether the product fits the qualification, which refusal of the rule
engine the clerk is shown, and how much of the qualification's hold the sale spends."""

from __future__ import annotations

from typing import NamedTuple

from huanxin.policy.domain.decision import Decision


class SaleRefusal(NamedTuple):
    """Why a sale is refused, on which input field: a stable code and a Chinese message for the clerk."""

    field: str
    code: str
    message: str


def product_refusal(
    *, product_category: str, qualification_category: str, enrolled_categories: list[str]
) -> SaleRefusal | None:
    """A catalogue product can be sold on a qualification of its own category only, by a merchant enrolled
    for that category; None when it can."""
    if product_category != qualification_category:
        return SaleRefusal("product_id", "wrong_category", "产品品类与资格品类不一致")
    if product_category not in enrolled_categories:
        return SaleRefusal("product_id", "category_not_enrolled", "本商户未报名该品类")
    return None


def rule_refusal(decision: Decision) -> SaleRefusal | None:
    """The rule set's refusal of a sale, or None when the sale is eligible: the first criterion that failed,
    shown on the product when it is the energy or water grade and on the price otherwise."""
    if decision.eligible:
        return None
    failed = next(reason for reason in decision.reasons if not reason.passed)
    return SaleRefusal("product_id" if failed.code == "grade" else "price_fen", f"rule_{failed.code}", failed.message)


def sale_subsidy(*, amount_fen: int, held_fen: int) -> int:
    """The subsidy a sale spends: the rule's amount on the final price, never more than the qualification
    holds (the hold was the most the claim's rule version could pay; a later version may not pay more)."""
    return min(amount_fen, held_fen)
