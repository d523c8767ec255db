"""A VIN is scrapped once (PostgreSQL, threads): two enterprises — or one enterprise's two clerks — issuing a
certificate for the same vehicle at the same moment leave one certificate and one scrapping event; the loser is
told the vehicle is scrapped. Two certificates of one enterprise at once get different numbers."""

from __future__ import annotations

import pytest
from django.db import connection

from huanxin.accounts.models import Role
from huanxin.conftest import make_member
from huanxin.core.errors import ConflictError
from huanxin.vehicles import scrapping
from huanxin.vehicles.models import ScrapCertificate, Vehicle, VehicleEvent
from huanxin.vehicles.tests.scrapping_fixtures import licensed_scrapper, owner_id_of, registered_vehicle
from huanxin.vehicles.tests.test_concurrency_import import race

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_two_enterprises_scrapping_the_same_vin_at_once_leave_one_certificate(personas):
    first, first_staff = licensed_scrapper()
    second, second_staff = licensed_scrapper()
    vin = registered_vehicle(personas.admin)

    results = race(
        [
            lambda: scrapping.issue_certificate(
                actor=first_staff, enterprise=first, vin=vin, owner_id_number=owner_id_of(vin)
            ),
            lambda: scrapping.issue_certificate(
                actor=second_staff, enterprise=second, vin=vin, owner_id_number=owner_id_of(vin)
            ),
        ]
    )
    certificates = [r for r in results if isinstance(r, ScrapCertificate)]
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert (len(certificates), len(conflicts)) == (1, 1), results
    assert conflicts[0].code == "vehicle_scrapped"
    assert ScrapCertificate.objects.count() == 1
    assert VehicleEvent.objects.filter(kind="scrapping").count() == 1
    assert Vehicle.objects.get(vin=vin).status == "scrapped"


def test_one_enterprise_issuing_two_certificates_at_once_numbers_them_apart(personas):
    enterprise, staff = licensed_scrapper()
    other_clerk = make_member(Role.DISMANTLER, enterprise)
    vins = [registered_vehicle(personas.admin), registered_vehicle(personas.admin)]

    results = race(
        [
            lambda: scrapping.issue_certificate(
                actor=staff, enterprise=enterprise, vin=vins[0], owner_id_number=owner_id_of(vins[0])
            ),
            lambda: scrapping.issue_certificate(
                actor=other_clerk, enterprise=enterprise, vin=vins[1], owner_id_number=owner_id_of(vins[1])
            ),
        ]
    )
    assert all(isinstance(r, ScrapCertificate) for r in results), results
    assert sorted(c.number[-6:] for c in results) == ["000001", "000002"]
