"""Template filters of the recycling pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def kg(weight_g: int | None) -> str:
    """Grams as kilograms with three decimals: 12500 → ``12.500``."""
    if weight_g is None:
        return ""
    return f"{int(weight_g) / 1000:,.3f}"


@register.filter
def category_names(codes: list[str], names: dict[str, str]) -> str:
    """Category codes as their Chinese names, joined: ["tv", "fridge"] → ``电视、冰箱``."""
    return "、".join(names.get(code, code) for code in codes or [])
