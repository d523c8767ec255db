from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, Role
from huanxin.conftest import Personas, make_member, make_organisation


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
