"""Template filters for product categories (a template builtin, like ``|yuan``: every page may name a category)."""

from __future__ import annotations

from django import template

from huanxin.catalogue.domain.categories import category_name

register = template.Library()


@register.filter(name="category")
def category(code: str | None) -> str:
    """``{{ "fridge"|category }}`` → 冰箱 (POLICY.md's category table; the code itself if unknown)."""
    return category_name(code) if code else ""
