"""Renewal-loan interest subsidy and reverse invoicing (国家税务总局公告2024年第5号)."""

from __future__ import annotations

from typing import Any

import pytest

from huanxin.policy.domain import Decision, InputError, evaluate, load_catalogue

RULES = load_catalogue()
LOAN = RULES["cn-renewal-loan-2024"]
REVERSE = RULES["cn-reverse-invoice-2024"]

YUAN = 100


def loan(**payload: Any) -> Decision:
    """Decide one loan-interest application (1,000,000 元 for 12 months from 2024-05-01 unless overridden)."""
    return evaluate(
        LOAN, {"principal_fen": 1_000_000 * YUAN, "disbursed_on": "2024-05-01", "term_months": 12, **payload}
    )


def reverse(prior_yuan: int, sale_fen: int, month_fen: int | None = None) -> Decision:
    """Decide one reverse invoice."""
    payload = {
        "sale_fen": sale_fen,
        "seller_prior_12m_fen": prior_yuan * YUAN,
        "seller_month_fen": sale_fen if month_fen is None else month_fen,
    }
    return evaluate(REVERSE, payload)


# --- loan interest -----------------------------------------------------------------------------------------


def test_one_year_loan_gets_one_and_a_half_percent_of_the_principal() -> None:
    decision = loan()

    assert decision.amount_fen == 15_000 * YUAN
    assert [reason.code for reason in decision.reasons] == ["window", "loan_interest"]


def test_loan_term_over_24_months_is_subsidised_for_24_months() -> None:
    decision = loan(term_months=60)

    assert decision.amount_fen == 30_000 * YUAN
    assert decision.details == {"months": 24}
    assert "按最长 24 个月计" in decision.reasons[-1].message


def test_six_month_loan_gets_half_a_year_of_interest() -> None:
    assert loan(term_months=6).amount_fen == 7_500 * YUAN


def test_loan_interest_is_rounded_half_up_once() -> None:
    # 400 fen × 1.5 % × 1/12 = 0.5 fen → 1 fen; 399 fen gives 0.49875 fen → 0.
    assert loan(principal_fen=400, term_months=1).amount_fen == 1
    assert loan(principal_fen=399, term_months=1).amount_fen == 0


def test_loan_disbursed_on_2024_03_07_qualifies_and_the_day_before_does_not() -> None:
    assert loan(disbursed_on="2024-03-07").eligible is True
    early = loan(disbursed_on="2024-03-06")
    assert early.eligible is False
    assert early.amount_fen == 0
    assert [reason.passed for reason in early.reasons] == [False]


@pytest.mark.parametrize(
    ("payload", "error_code", "field"),
    [
        ({"principal_fen": None}, "required", "principal_fen"),
        ({"principal_fen": 1e8}, "invalid_type", "principal_fen"),
        ({"term_months": 0}, "invalid_value", "term_months"),
        ({"term_months": -12}, "negative", "term_months"),
        ({"term_months": True}, "invalid_type", "term_months"),
        ({"disbursed_on": "2024-02-30"}, "invalid_date", "disbursed_on"),
    ],
)
def test_malformed_loan_input_names_the_field(payload: dict[str, Any], error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        loan(**payload)

    assert (error.value.code, error.value.field) == (error_code, field)


def test_loan_subsidy_has_no_fixed_maximum() -> None:
    with pytest.raises(ValueError, match="no fixed maximum"):
        LOAN.max_amount_fen()


# --- reverse invoicing -------------------------------------------------------------------------------------


def test_prior_4_million_plus_a_500000_yuan_sale_is_allowed() -> None:
    decision = reverse(4_000_000, 500_000 * YUAN)

    assert decision.eligible is True
    assert decision.amount_fen == 500_000 * YUAN
    assert [reason.code for reason in decision.reasons] == ["reverse_invoice_cap", "vat", "pit"]


def test_reverse_invoice_reaching_exactly_5_million_is_allowed() -> None:
    assert reverse(4_500_000, 500_000 * YUAN).eligible is True


def test_reverse_invoice_one_fen_over_5_million_is_refused() -> None:
    decision = reverse(4_500_000, 500_000 * YUAN + 1)

    assert decision.eligible is False
    assert decision.amount_fen == 0
    assert decision.details == {"vat_fen": 0, "pit_fen": 0}
    assert decision.reasons[0].message.endswith("应拒绝反向开票")


def test_vat_is_exempt_when_the_month_is_exactly_100000_yuan() -> None:
    decision = reverse(0, 40_000 * YUAN, month_fen=100_000 * YUAN)

    assert decision.details == {"vat_fen": 0, "pit_fen": 200 * YUAN}


def test_vat_is_one_percent_of_the_sale_when_the_month_exceeds_100000_yuan() -> None:
    decision = reverse(0, 40_000 * YUAN, month_fen=100_000 * YUAN + 1)

    assert decision.details == {"vat_fen": 400 * YUAN, "pit_fen": 200 * YUAN}


def test_taxes_round_half_up_to_the_fen() -> None:
    # 1 % of 150 fen = 1.5 → 2; 0.5 % of 100 fen = 0.5 → 1.
    assert reverse(0, 150, month_fen=20_000_000).details["vat_fen"] == 2
    assert reverse(0, 100).details["pit_fen"] == 1


@pytest.mark.parametrize(
    ("payload", "error_code", "field"),
    [
        (
            {"sale_fen": 100, "seller_prior_12m_fen": -1, "seller_month_fen": 100},
            "negative",
            "seller_prior_12m_fen",
        ),
        ({"sale_fen": 0, "seller_prior_12m_fen": 0, "seller_month_fen": 0}, "invalid_value", "sale_fen"),
        (
            {"sale_fen": 100, "seller_prior_12m_fen": 0, "seller_month_fen": 99},
            "invalid_value",
            "seller_month_fen",
        ),
        ({"sale_fen": 100, "seller_prior_12m_fen": 0}, "required", "seller_month_fen"),
        ({"sale_fen": "100", "seller_prior_12m_fen": 0, "seller_month_fen": 100}, "invalid_type", "sale_fen"),
    ],
)
def test_malformed_reverse_invoice_input_names_the_field(payload: dict[str, Any], error_code: str, field: str) -> None:
    with pytest.raises(InputError) as error:
        evaluate(REVERSE, payload)

    assert (error.value.code, error.value.field) == (error_code, field)


def test_reverse_invoice_ceiling_is_the_most_one_sale_can_be() -> None:
    assert REVERSE.max_amount_fen() == 5_000_000 * YUAN
