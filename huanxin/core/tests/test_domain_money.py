import pytest

from huanxin.core.domain.money import (
    MAX_FEN,
    NOT_POSITIVE_FEN,
    TOO_LARGE,
    apply_rate,
    format_yuan,
    parse_yuan,
    positive_fen_problem,
    round_half_up,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (-5, 10, -1), (-4, 10, 0), (0, 7, 0), (7, 7, 1)],
)
def test_round_half_up_rounds_halves_away_from_zero(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


def test_round_half_up_refuses_a_zero_denominator():
    with pytest.raises(ValueError, match="denominator"):
        round_half_up(1, 0)


def test_fifteen_percent_of_an_odd_fen_amount_rounds_half_up():
    # 333 fen × 15 % = 49.95 fen → 50 fen
    assert apply_rate(333, 1500) == 50
    # 499_900 fen × 15 % = 74 985 fen exactly
    assert apply_rate(499_900, 1500) == 74_985


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "¥0.00"), (5, "¥0.05"), (123450, "¥1,234.50"), (100_000_000, "¥1,000,000.00"), (-2050, "-¥20.50")],
)
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text


@pytest.mark.parametrize(
    ("fen", "text"), [(0, "0.00"), (123450, "1234.50"), (100_000_000, "1000000.00"), (-2050, "-20.50")]
)
def test_format_yuan_for_machines_has_no_symbol_or_separators(fen, text):
    assert format_yuan(fen, symbol=False, grouping=False) == text


@pytest.mark.parametrize(("text", "fen"), [("1,234.5", 123450), ("88", 8800), ("0.01", 1), (" 12.30 ", 1230)])
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["1.234", "abc", "", "1,23.00", "¥5"])
def test_parse_yuan_refuses_malformed_amounts(text):
    with pytest.raises(ValueError, match="金额格式不正确"):
        parse_yuan(text)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (1, None),
        (MAX_FEN, None),
        (0, NOT_POSITIVE_FEN),
        (-1, NOT_POSITIVE_FEN),
        (True, NOT_POSITIVE_FEN),
        (1.5, NOT_POSITIVE_FEN),
        (100.0, NOT_POSITIVE_FEN),
        ("100", NOT_POSITIVE_FEN),
        (None, NOT_POSITIVE_FEN),
        (MAX_FEN + 1, TOO_LARGE),
    ],
)
def test_a_positive_amount_is_a_whole_number_of_fen_above_zero_within_64_bits(value, problem):
    assert positive_fen_problem(value) == problem


def test_a_caller_may_set_a_lower_maximum():
    assert positive_fen_problem(1_000, maximum=999) == TOO_LARGE
    assert positive_fen_problem(999, maximum=999) is None
