"""Policy-specific money text: rates shown as percentages.

Fen arithmetic (``round_half_up``, ``apply_rate``) and yuan text (``format_yuan``) come from
``huanxin.core.domain.money`` so that every app rounds and renders money the same way.
"""

from __future__ import annotations


def format_rate(rate_bp: int) -> str:
    """Render basis points as a percentage without trailing zeros, e.g. 1500 → '15%', 50 → '0.5%'."""
    whole, rest = divmod(rate_bp, 100)
    if rest == 0:
        return f"{whole}%"
    return f"{whole}.{rest:02d}".rstrip("0") + "%"


def format_yuan_plain(amount_fen: int) -> str:
    """Yuan for sentences read by the public: whole yuan without decimals, e.g. 150000 → '1,500', 50 → '0.50'."""
    whole, rest = divmod(amount_fen, 100)
    if rest == 0:
        return f"{whole:,}"
    return f"{whole:,}.{rest:02d}"
