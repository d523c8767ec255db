"""Template filters for trace pages."""

from __future__ import annotations

from django import template

from huanxin.catalogue.domain.categories import category_name
from huanxin.trace.domain.codes import printed_code
from huanxin.trace.domain.rules import EXT, EXTRA_CATEGORIES, KINDS, MATERIALS

register = template.Library()


@register.filter(name="material")
def material(epc_class: str) -> str:
    """``https://…/trace/material/metals`` → 金属."""
    name = epc_class.removeprefix(f"{EXT}material/")
    return MATERIALS.get(name, name)


@register.filter(name="event_label")
def event_label(kind: str) -> str:
    """``dismantle`` → 拆解."""
    return KINDS[kind].label if kind in KINDS else kind


@register.filter(name="item_state")
def item_state(state: str) -> str:
    return {"held": "保管中", "in_transit": "运输中", "dismantled": "已拆解", "destroyed": "已销毁"}.get(state, state)


@register.filter(name="trace_code")
def trace_code(code: str) -> str:
    """``urn:epc:id:giai:6999999.639079541759`` → ``6999999.639079541759``, as the label prints it."""
    return printed_code(code)


@register.filter(name="trace_category")
def trace_category(code: str | None) -> str:
    """A subsidy category's name (冰箱), or one of trace's own (新能源汽车动力蓄电池); the code if neither."""
    if code in EXTRA_CATEGORIES:
        return EXTRA_CATEGORIES[code].name
    return category_name(code or "")
