"""A settled scene: sales and returns spread over days, ready to be closed and paid."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from huanxin.accounts.models import Role
from huanxin.conftest import Personas, make_member
from huanxin.settlement.domain.payables import period_bounds
from huanxin.subsidies import services as subsidies
from huanxin.subsidies.models import Clawback, Redemption
from huanxin.subsidies.tests.conftest import Scene, build_scene

DAY1 = datetime.date(2026, 11, 2)
DAY2 = datetime.date(2026, 11, 3)


def sell(scene: Scene, *, price_fen: int, on: datetime.date, serial: str) -> Redemption:
    """A real redemption, moved to ``on`` at noon Beijing time."""
    qualification = subsidies.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    redemption = subsidies.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial=serial,
        price_fen=price_fen,
    ).redemption
    noon = period_bounds(on)[0] + datetime.timedelta(hours=12)
    Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=noon)
    redemption.refresh_from_db()
    return redemption


def give_back(scene: Scene, redemption: Redemption, *, on: datetime.date) -> Clawback:
    record = subsidies.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="退货")
    Clawback.objects.filter(return_record=record).update(created_at=period_bounds(on)[0] + datetime.timedelta(hours=15))
    return Clawback.objects.get(return_record=record)


@pytest.fixture
def scene(personas: Personas) -> Scene:
    return build_scene(personas, budget_fen=10_000_000)


@pytest.fixture
def second_finance(personas: Personas) -> Any:
    return make_member(Role.FINANCE_OFFICER, personas.government)


def after(day: datetime.date) -> datetime.datetime:
    """A moment well after ``day`` ended (past the close grace)."""
    return period_bounds(day)[1] + datetime.timedelta(hours=1)


def now() -> datetime.datetime:
    return timezone.now()
