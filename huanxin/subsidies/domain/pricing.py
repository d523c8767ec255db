"""Price checks at checkout: the city's per-category ceiling and the merchant's filed price (价格备案).

A price above the ceiling is refused. A price above the filed price is refused or held, as the city set
for the category. A model the merchant never filed a price for is accepted up to the ceiling and held.
"Held" means the sale goes through at the till but the merchant's reimbursement for it waits for a
reviewer (see ``RedemptionHold``).
"""

from __future__ import annotations

from dataclasses import dataclass

from huanxin.core.domain.money import NOT_POSITIVE_FEN, TOO_LARGE, format_yuan, positive_fen_problem

ACCEPT = "accept"
HOLD = "hold"
REFUSE = "refuse"

# Hold reason codes (stable: the review queue, the API and the audit log use them).
HOLD_ABOVE_FILED_PRICE = "above_filed_price"
HOLD_NO_FILED_PRICE = "no_filed_price"


@dataclass(frozen=True)
class PriceCheck:
    """The outcome of the price checks: accept, hold (with a reason code) or refuse (with an error code)."""

    outcome: str
    code: str = ""
    message: str = ""


def price_problem(price_fen: object, *, label: str = "成交价") -> tuple[str, str] | None:
    """Why a value cannot be a price in fen (code, Chinese message naming the price ``label``), or None: an
    int (not a bool), > 0, within 64 bits."""
    problem = positive_fen_problem(price_fen)
    if problem == NOT_POSITIVE_FEN:
        return "invalid_price", f"{label}应为大于0的整数（分）"
    if problem == TOO_LARGE:
        return "price_out_of_range", f"{label}超出可处理的范围，请核对金额"
    return None


def check_price(
    *,
    price_fen: int,
    category_label: str,
    ceiling_fen: int | None,
    filed_price_fen: int | None,
    above_filed_price: str,
) -> PriceCheck:
    """Check a valid price against the category's ceiling and the filed price.

    ``ceiling_fen`` None means the city has not configured the category: refused, so an unconfigured
    category can never take an unbounded price.
    """
    if ceiling_fen is None:
        return PriceCheck(REFUSE, "price_limit_missing", f"本市尚未设置{category_label}的成交价上限，暂不能核销")
    if price_fen > ceiling_fen:
        return PriceCheck(
            REFUSE,
            "price_above_ceiling",
            f"成交价超过本市{category_label}成交价上限 {format_yuan(ceiling_fen)}，请核对金额",
        )
    if filed_price_fen is None:
        return PriceCheck(HOLD, HOLD_NO_FILED_PRICE, "该型号没有价格备案，补贴清算款暂扣，待审核人员复核")
    if price_fen > filed_price_fen:
        if above_filed_price == HOLD:
            return PriceCheck(
                HOLD,
                HOLD_ABOVE_FILED_PRICE,
                f"成交价高于备案价 {format_yuan(filed_price_fen)}，补贴清算款暂扣，待审核人员复核",
            )
        return PriceCheck(
            REFUSE, "price_above_filed", f"成交价高于本商户该型号的备案价 {format_yuan(filed_price_fen)}，不能核销"
        )
    return PriceCheck(ACCEPT)
