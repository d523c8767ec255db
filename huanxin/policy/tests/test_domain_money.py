"""Money helpers: integer fen, basis points, one half-up rounding."""

from __future__ import annotations

import pytest

from huanxin.policy.domain.money import apply_rate, format_rate, format_yuan, round_half_up


@pytest.mark.parametrize(("numerator", "denominator", "rounded"), [(5, 10, 1), (4, 10, 0), (15, 10, 2), (0, 7, 0)])
def test_division_rounds_half_up(numerator: int, denominator: int, rounded: int) -> None:
    assert round_half_up(numerator, denominator) == rounded


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
    assert format_yuan(amount_fen) == text


@pytest.mark.parametrize(("rate_bp", "text"), [(1_500, "15%"), (2_000, "20%"), (50, "0.5%"), (125, "1.25%")])
def test_rates_are_shown_as_percentages_without_trailing_zeros(rate_bp: int, text: str) -> None:
    assert format_rate(rate_bp) == text
