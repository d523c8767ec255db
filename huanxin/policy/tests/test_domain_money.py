"""Money as the rule families use it: core's half-up rate and symbol-less yuan text, policy's rate text.

Plain ``round_half_up`` cases are tested once, in core's test_domain_money.py.
"""

from __future__ import annotations

import pytest

from huanxin.core.domain.money import apply_rate, format_yuan
from huanxin.policy.domain.families.loan_interest import _points
from huanxin.policy.domain.money import format_rate


@pytest.mark.parametrize(
    ("amount_fen", "rate_bp", "result_fen"),
    [(499_900, 1_500, 74_985), (10, 1_500, 2), (9, 1_500, 1), (100, 50, 1), (99, 50, 0), (0, 2_000, 0)],
)
def test_rate_in_basis_points_rounds_half_up_to_the_fen(amount_fen: int, rate_bp: int, result_fen: int) -> None:
    assert apply_rate(amount_fen, rate_bp) == result_fen


@pytest.mark.parametrize(
    ("amount_fen", "text"),
    [(0, "0.00"), (5, "0.05"), (499_900, "4,999.00"), (500_000_000, "5,000,000.00"), (-150, "-1.50")],
)
def test_yuan_are_shown_with_separators_and_two_decimals(amount_fen: int, text: str) -> None:
    # Reasons say "… 元" after the number, so the rule families render yuan without the ¥ sign.
    assert format_yuan(amount_fen, symbol=False) == text


@pytest.mark.parametrize(("rate_bp", "text"), [(1_500, "15%"), (2_000, "20%"), (50, "0.5%"), (125, "1.25%")])
def test_rates_are_shown_as_percentages_without_trailing_zeros(rate_bp: int, text: str) -> None:
    assert format_rate(rate_bp) == text


@pytest.mark.parametrize(("rate_bp", "text"), [(150, "1.5 个百分点"), (200, "2 个百分点"), (125, "1.25 个百分点")])
def test_loan_interest_rates_are_shown_as_percentage_points(rate_bp: int, text: str) -> None:
    assert _points(rate_bp) == text
