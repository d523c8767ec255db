"""Money helpers: integer fen, rates in basis points, one rounding rule (half-up, once per item)."""

from __future__ import annotations

BASIS_POINTS = 10_000


def round_half_up(numerator: int, denominator: int) -> int:
    """Divide two non-negative integers and round half-up to the nearest integer (POLICY.md: round once)."""
    return (2 * numerator + denominator) // (2 * denominator)


def apply_rate(amount_fen: int, rate_bp: int) -> int:
    """Return rate_bp basis points of amount_fen in fen, rounded half-up; rates apply before caps."""
    return (amount_fen * rate_bp + 5_000) // BASIS_POINTS


def format_yuan(amount_fen: int) -> str:
    """Render fen as 元 with thousands separators and two decimals, e.g. 499900 → '4,999.00'."""
    if amount_fen < 0:
        return "-" + format_yuan(-amount_fen)
    yuan, fen = divmod(amount_fen, 100)
    return f"{yuan:,}.{fen:02d}"


def format_rate(rate_bp: int) -> str:
    """Render basis points as a percentage without trailing zeros, e.g. 1500 → '15%', 50 → '0.5%'."""
    whole, rest = divmod(rate_bp, 100)
    if rest == 0:
        return f"{whole}%"
    return f"{whole}.{rest:02d}".rstrip("0") + "%"
