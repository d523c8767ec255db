"""The same traffic police file imported twice at the same moment (PostgreSQL, threads): its events are recorded
once; the loser is told to import again (a conflict) or, if it read after the winner committed, finds them all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from huanxin.conftest import valid_resident_id
from huanxin.core.errors import ConflictError, DomainError
from huanxin.vehicles import services
from huanxin.vehicles.models import Vehicle, VehicleEvent
from huanxin.vehicles.tests.factories import csv_file, inspection, new_vin, registration

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def race(workers: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except DomainError as exc:
            results[index] = exc
        except Exception as exc:  # reported, so an unexpected error fails the test visibly
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_same_file_imported_twice_at_once_records_its_events_once(personas):
    vins = [new_vin() for _ in range(20)]
    rows = [registration(vin, owner_id=valid_resident_id()) for vin in vins]
    rows += [inspection(vin, on="2020-01-02") for vin in vins]
    content = csv_file(rows)

    def work() -> Any:
        return services.import_registrations(actor=personas.admin, file_name="a.csv", content=content)

    results = race([work, work])
    reports = [r for r in results if isinstance(r, services.ImportReport)]
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert len(reports) + len(conflicts) == 2, results
    assert sorted(r.recorded for r in reports)[-1] == 40
    assert Vehicle.objects.count() == 20
    assert VehicleEvent.objects.count() == 40
