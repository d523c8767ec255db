from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from huanxin.web.navigation import items_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"nav_items": items_for(getattr(request, "user", None))}
