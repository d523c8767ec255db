"""Every router of the API with its full prefix, routers mounted inside routers included (the car applications
under vehicles): the API guard tests walk these, so a nested router's operations are checked as much as the top
ones."""

from __future__ import annotations

from ninja import Router


def every_router() -> list[tuple[str, Router]]:
    from huanxin.api import api

    pending: list[tuple[str, Router]] = list(api._routers)
    found: list[tuple[str, Router]] = []
    while pending:
        prefix, router = pending.pop()
        found.append((prefix, router))
        # ninja keeps each mount as (prefix, router, ...).
        pending += [(f"{prefix.rstrip('/')}/{mount[0].strip('/')}", mount[1]) for mount in router._routers]
    return found
