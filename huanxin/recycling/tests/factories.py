"""Factories of the recycling tests: qualified recyclers and their staff, sellers, purchases."""

from __future__ import annotations

import datetime
from typing import Any

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, Role, User
from huanxin.conftest import make_member, make_organisation, valid_resident_id

SELLER_NAME = "王出售"


def qualified_recycler(
    *,
    kinds: tuple[str, ...] = (Licence.Kind.BUSINESS, Licence.Kind.RENEWABLE_RECYCLING),
    organisation_kind: str = OrganisationKind.RECYCLER,
    role: str = Role.RECYCLER,
    valid_from: datetime.date = datetime.date(2024, 1, 1),
    valid_until: datetime.date | None = None,
    district: str = "110112",
) -> tuple[Organisation, User]:
    """A recycling organisation holding ``kinds`` and one member of its staff."""
    organisation = make_organisation(organisation_kind, district)
    for kind in kinds:
        Licence.objects.create(
            organisation=organisation,
            kind=kind,
            number=f"{kind}-{organisation.pk}",
            valid_from=valid_from,
            valid_until=valid_until,
        )
    return organisation, make_member(role, organisation)


def items(price_fen: int, *, weight_g: int = 125_000, name: str = "废钢") -> list[dict[str, Any]]:
    return [{"name": name, "weight_g": weight_g, "price_fen": price_fen}]


def seller_id() -> str:
    return valid_resident_id(birth="19750612")


def purchase(
    staff: User,
    issuer: Organisation,
    id_number: str,
    price_fen: int,
    on: datetime.date | None = None,
    name: str = SELLER_NAME,
) -> Any:
    from huanxin.recycling import services

    return services.issue_invoice(
        actor=staff,
        issuer=issuer,
        seller_name=name,
        seller_id_number=id_number,
        items=items(price_fen),
        purchased_on=on,
    )
