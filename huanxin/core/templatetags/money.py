"""Template filters for money: templates are the only place yuan appear."""

from __future__ import annotations

from django import template

from huanxin.core.domain.money import format_yuan

register = template.Library()


@register.filter(name="yuan")
def yuan(amount_fen: int | str | None) -> str:
    """``{{ amount_fen|yuan }}`` → ¥1,234.50; empty for None."""
    if amount_fen is None or amount_fen == "":
        return ""
    return format_yuan(int(amount_fen))


@register.filter(name="changes")
def changes(values: object) -> str:
    """An audit before/after dict as short "field: value" lines for a table cell."""
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    return "\n".join(f"{key}: {value}" for key, value in values.items())
