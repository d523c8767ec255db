"""Car applications under concurrency (PostgreSQL, threads): the same application filed twice at once creates
one; two people's applications for the same VIN approved at once by two reviewers: at most one is approved."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from huanxin.policy.models import BudgetPool
from huanxin.settlement.models import Payable
from huanxin.vehicles import application_services as car
from huanxin.vehicles.models import CarApplication
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car
from huanxin.vehicles.tests.factories import new_vin
from huanxin.vehicles.tests.test_concurrency_import import race

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_the_same_application_filed_twice_at_once_creates_one(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-RACE-1")
    vin = new_car(personas.admin, personas.consumer_person)

    def work() -> Any:
        return file_application(personas.consumer, old_vin=old.vin, new_vin=vin, certificate="BF-RACE-1")

    results = race([work, work, work])
    applications = [r for r in results if isinstance(r, CarApplication)]
    assert applications, results
    assert all(not isinstance(r, Exception) or r.__class__.__name__ == "ConflictError" for r in results), results
    assert CarApplication.objects.count() == 1
    assert {a.pk for a in applications} == {CarApplication.objects.get().pk}


def test_two_people_same_new_vin_approved_at_once_only_one_is(personas):
    car_programme()
    old_a = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-RACE-A")
    old_b = scrapped_car(personas.admin, personas.other_person, certificate="BF-RACE-B")
    # A new car not yet in the registry: its registration check cannot tell, so nothing but the database keeps
    # two people from both being approved for it.
    new_car(personas.admin, personas.consumer_person)  # loads the NEV catalogue model
    vin = new_vin("LGY")
    first = file_application(personas.consumer, old_vin=old_a.vin, new_vin=vin, certificate="BF-RACE-A")
    second = file_application(personas.other_consumer, old_vin=old_b.vin, new_vin=vin, certificate="BF-RACE-B")
    assert {c["result"] for c in second.checks} == {"pass", "unknown"}, second.checks
    car.accept(actor=personas.reviewer, application=first)
    car.accept(actor=personas.reviewer, application=second)

    def approve(application: CarApplication, reviewer: Any) -> Any:
        def work() -> Any:
            return car.decide(actor=reviewer, application=application, approve=True, reason_code="checked_by_hand")

        return work

    results = race([approve(first, personas.reviewer), approve(second, personas.district_reviewer)])
    assert CarApplication.objects.filter(new_vin=vin, status="approved").count() == 1, results
    assert sum(isinstance(r, CarApplication) for r in results) == 1, results
    approved = CarApplication.objects.filter(status="approved")
    assert Payable.objects.filter(source_kind="car-subsidy").count() == approved.count()
    spent = sum(BudgetPool.objects.values_list("spent_fen", flat=True))
    assert spent == sum(a.amount_fen for a in approved)
