from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, Role
from huanxin.conftest import Personas, make_member, make_organisation
from huanxin.trace import services
from huanxin.trace.models import TraceItem
from huanxin.trace.services import EventInput

FRIDGE_OUTPUT = {"metals": 32_000, "plastics": 14_000, "glass": 1_500, "refrigerant": 120, "hazardous": 300}


@dataclass
class Chain:
    personas: Personas
    merchant: Organisation
    recycler: Organisation
    dismantler: Organisation
    unlicensed: Organisation
    clerk: Any
    recycler_user: Any
    dismantler_user: Any
    unlicensed_user: Any


@pytest.fixture
def chain(personas: Personas) -> Chain:
    Licence.objects.create(
        organisation=personas.dismantler_org,
        kind=Licence.Kind.WEEE_DISMANTLING,
        number="京废电处字T-1",
        valid_from=datetime.date(2024, 1, 1),
        valid_until=datetime.date(2027, 12, 31),
    )
    unlicensed = make_organisation(OrganisationKind.DISMANTLER, "110115", name="无证拆解厂")
    return Chain(
        personas,
        personas.merchant,
        personas.recycler_org,
        personas.dismantler_org,
        unlicensed,
        personas.clerk,
        personas.recycler,
        personas.dismantler,
        make_member(Role.DISMANTLER, unlicensed),
    )


def minutes(n: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=60 - n)


def _walk(chain: Chain, code: str, *, category: str, outputs: dict[str, int] | None, dismantle: bool) -> None:
    """Merchant takes back an item → ships to the recycler → recycler receives, ships to the dismantler →
    (if ``dismantle``) the dismantler receives and dismantles."""
    steps = [
        (chain.clerk, chain.merchant, EventInput("commission", [code], minutes(1), category=category)),
        (chain.clerk, chain.merchant, EventInput("ship", [code], minutes(2), destination=chain.recycler)),
        (chain.recycler_user, chain.recycler, EventInput("receive", [code], minutes(3))),
        (chain.recycler_user, chain.recycler, EventInput("ship", [code], minutes(4), destination=chain.dismantler)),
    ]
    if dismantle:
        steps += [
            (chain.dismantler_user, chain.dismantler, EventInput("receive", [code], minutes(5))),
            (
                chain.dismantler_user,
                chain.dismantler,
                EventInput("dismantle", [code], minutes(6), outputs_g=outputs or FRIDGE_OUTPUT),
            ),
        ]
    for actor, organisation, data in steps:
        services.record_one(actor=actor, organisation=organisation, data=data)


def walk_to_dismantling(chain: Chain, outputs: dict[str, int] | None = None) -> TraceItem:
    """A fridge from take-back to dismantling (six events)."""
    code = services.new_code()
    _walk(chain, code, category="fridge", outputs=outputs, dismantle=True)
    return TraceItem.objects.get(code=code)


def ship_to_dismantler(chain: Chain, category: str = "fridge") -> str:
    """An item commissioned by the merchant and shipped by the recycler to the dismantler (in transit)."""
    code = services.new_code()
    _walk(chain, code, category=category, outputs=None, dismantle=False)
    return code


def raw_sql(sql: str, params: list[Any]) -> None:
    """A statement straight to the database, past the ORM's guards: how tests tamper with the record."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
