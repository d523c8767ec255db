"""The page of car applications whose legal clock is running out or has run out, by district and stage."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.vehicles import clock_flags
from huanxin.vehicles.application_models import CarClockFlag
from huanxin.vehicles.domain.applications import STAGE_TITLES


@login_required
def clock_flags_page(request: AuthenticatedRequest) -> HttpResponse:
    """District reviewers see their districts' flags (city-wide reviewers all); finance officers the pay stage's."""
    if not clock_flags.can_read_flags(request.user):
        raise PermissionDenied
    chosen = {
        "district": request.GET.get("district", "").strip()[:12],
        "stage": request.GET.get("stage", "") if request.GET.get("stage", "") in STAGE_TITLES else "",
        "kind": request.GET.get("kind", "") if request.GET.get("kind", "") in CarClockFlag.Kind.values else "",
    }
    page = clock_flags.open_flags(request.user, district=chosen["district"], stage=chosen["stage"], kind=chosen["kind"])
    return render(
        request,
        "vehicles/applications/clock_flags.html",
        {
            "page": page,
            "chosen": chosen,
            "stages": list(STAGE_TITLES.items()),
            "kinds": CarClockFlag.Kind.choices,
            "due_soon_days": clock_flags.due_soon_days(),
        },
    )
