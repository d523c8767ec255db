"""Money is integer fen. One rounding rule: half-up to the fen, once, at the end of a computation."""

from __future__ import annotations

import re

# The largest amount a 64-bit signed column holds: an amount above it could not even be stored.
MAX_FEN = 2**63 - 1

FEN_PER_YUAN = 100
BASIS_POINTS = 10_000


# What positive_fen_problem answers: the value is not a whole number of fen above zero, or above the maximum.
NOT_POSITIVE_FEN = "not_positive_fen"
TOO_LARGE = "too_large"


def positive_fen_problem(value: object, *, maximum: int = MAX_FEN) -> str | None:
    """Why a value cannot be an amount in fen above zero, or None when it can: ``NOT_POSITIVE_FEN`` unless it is
    an int (true/false are ints in Python, never amounts) greater than 0; ``TOO_LARGE`` above ``maximum`` (by
    default what a 64-bit column holds). Each caller turns the answer into its own code and Chinese message."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return NOT_POSITIVE_FEN
    if value > maximum:
        return TOO_LARGE
    return None


def round_half_up(numerator: int, denominator: int) -> int:
    """Divide two integers and round half away from zero (四舍五入), the rounding the rules use."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return sign * quotient


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """``amount_fen`` × ``rate_bp``/10 000, rounded half-up to the fen."""
    return round_half_up(amount_fen * rate_bp, BASIS_POINTS)


def format_yuan(amount_fen: int, *, symbol: bool = True, grouping: bool = True) -> str:
    """Render fen as yuan with thousands separators: 123450 → ``¥1,234.50``. Files read by machines (bank
    payment files, reconciliation sheets) ask for ``symbol=False, grouping=False``: ``1234.50``."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    whole = f"{yuan:,}" if grouping else str(yuan)
    return f"{sign}{'¥' if symbol else ''}{whole}.{fen:02d}"


_YUAN_PATTERN = re.compile(r"^\s*(-?)(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?\s*$")


def parse_yuan(text: str) -> int:
    """Parse a yuan amount typed by a person ("1,234.5", "88") into fen; more than 2 decimals is refused."""
    match = _YUAN_PATTERN.match(text)
    if not match:
        raise ValueError("金额格式不正确，应为最多两位小数的元金额")
    sign, whole, decimals = match.groups()
    fen = int(whole.replace(",", "")) * FEN_PER_YUAN + int((decimals or "0").ljust(2, "0"))
    return -fen if sign else fen
