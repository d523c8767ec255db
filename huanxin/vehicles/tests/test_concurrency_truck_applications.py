"""Truck applications under concurrency (PostgreSQL, threads): two organisations filing the same old truck with
the same certificate at once create one application; the same organisation filing the same scrap-only
application twice at once creates one (a blank new VIN does not defeat the one-open-application rule)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from huanxin.core.errors import ConflictError
from huanxin.vehicles.models import CarApplication
from huanxin.vehicles.tests.test_concurrency_import import race
from huanxin.vehicles.tests.test_truck_applications import Scene

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_two_organisations_filing_the_same_old_truck_at_once_create_one(personas: Any) -> None:
    scene = Scene(personas)

    def work(actor: Any, organisation: Any) -> Any:
        return lambda: scene.file(actor=actor, organisation=organisation)

    results = race(
        [work(scene.declarant, scene.haulier), work(scene.other_declarant, scene.other)] * 2,
    )
    assert CarApplication.objects.count() == 1, results
    assert all(isinstance(r, (CarApplication, ConflictError)) for r in results), results
    created = CarApplication.objects.get()
    assert {r.pk for r in results if isinstance(r, CarApplication)} == {created.pk}


def test_the_same_scrap_only_application_filed_twice_at_once_is_one(personas: Any) -> None:
    scene = Scene(personas)
    results = race([scene.file, scene.file, scene.file])
    assert CarApplication.objects.count() == 1, results
    assert all(isinstance(r, (CarApplication, ConflictError)) for r in results), results
