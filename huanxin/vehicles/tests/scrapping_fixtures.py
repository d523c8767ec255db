"""Test helpers for scrapping: a licensed scrapping enterprise with a member, a licensed battery recycler, vehicles
recorded through the import, a valid GB/T 34014 code."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, Role, User
from huanxin.conftest import make_member, make_organisation, valid_resident_id
from huanxin.core import crypto
from huanxin.vehicles import scrapping, services
from huanxin.vehicles.domain.certificates import ASSEMBLIES, AssemblyInput
from huanxin.vehicles.models import ScrapCertificate, Vehicle
from huanxin.vehicles.tests.factories import csv_file, new_vin, registration

_sequence = itertools.count(1)
OWNER_NAME = "欧阳娜娜"


@dataclass
class Yard:
    enterprise: Organisation
    staff: User
    recycler: Organisation
    recycler_staff: User


def licensed_scrapper(
    *, valid_from: datetime.date = datetime.date(2020, 1, 1), valid_until: datetime.date | None = None
) -> tuple[Organisation, User]:
    enterprise = make_organisation(OrganisationKind.VEHICLE_SCRAPPER, "110113", name=f"报废车企业{next(_sequence)}")
    Licence.objects.create(
        organisation=enterprise,
        kind=Licence.Kind.VEHICLE_SCRAPPING,
        number=f"京报废车资字-{enterprise.pk}",
        valid_from=valid_from,
        valid_until=valid_until,
    )
    return enterprise, make_member(Role.DISMANTLER, enterprise)


def licensed_battery_recycler(kind: str = Licence.Kind.BATTERY_RECYCLING) -> tuple[Organisation, User]:
    recycler = make_organisation(OrganisationKind.RECYCLER, "110115", name=f"电池再生企业{next(_sequence)}")
    Licence.objects.create(
        organisation=recycler, kind=kind, number=f"电池-{recycler.pk}", valid_from=datetime.date(2020, 1, 1)
    )
    return recycler, make_member(Role.RECYCLER, recycler)


def yard() -> Yard:
    enterprise, staff = licensed_scrapper()
    recycler, recycler_staff = licensed_battery_recycler()
    return Yard(enterprise, staff, recycler, recycler_staff)


def registered_vehicle(admin: User, *, fuel: str = "汽油", owner_id: str = "", **overrides: Any) -> str:
    vin = new_vin()
    displacement = "" if fuel in ("纯电动",) else "1598"
    row = registration(
        vin,
        fuel=fuel,
        displacement=displacement,
        owner_id=owner_id or valid_resident_id(),
        owner_name=OWNER_NAME,
        **overrides,
    )
    services.import_registrations(actor=admin, file_name="v.csv", content=csv_file([row]))
    return vin


def owner_id_of(vin: str) -> str:
    """The registered owner's identity number, as whoever hands the vehicle in shows it at intake."""
    vehicle = Vehicle.objects.get(vin=vin.upper())
    purpose = "resident_id" if vehicle.owner_kind == "person" else "uscc"
    return crypto.decrypt(vehicle.owner_id_cipher, purpose=purpose)


def issued(yard: Yard, admin: User, *, fuel: str = "汽油") -> ScrapCertificate:
    vin = registered_vehicle(admin, fuel=fuel)
    return scrapping.issue_certificate(
        actor=yard.staff, enterprise=yard.enterprise, vin=vin, owner_id_number=owner_id_of(vin)
    )


def five_assemblies(receiver: str = "北京再制造有限公司") -> list[AssemblyInput]:
    return [AssemblyInput(code, "remanufacturing" if code == "engine" else "smelting", receiver) for code in ASSEMBLIES]


# GB/T 34014: manufacturer 3, product type 1 (P), battery type 1, specification 2, traceability 7, date 3, serial 7.
def battery_code(serial: int | None = None) -> str:
    number = next(_sequence) if serial is None else serial
    return "03HPEA10000001P1B" + f"{number:07d}"
