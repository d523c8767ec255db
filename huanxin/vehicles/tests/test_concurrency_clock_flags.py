"""Clock flags under concurrency (PostgreSQL, threads): three scans of the same day at once (the job and two
operators running it by hand) leave one flag per application, stage and due day, and one audit row per flag."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection

from huanxin.core.models import AuditEntry
from huanxin.vehicles import clock_flags
from huanxin.vehicles.application_models import CarClockFlag
from huanxin.vehicles.tests.test_clock_flags import base_application, make
from huanxin.vehicles.tests.test_concurrency_import import race

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]

D = datetime.date


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_three_scans_at_once_flag_each_stage_once(personas):
    base = base_application(personas)
    for day in range(2, 30):
        make(base, status="submitted", submitted_on=D(2026, 3, 1) + datetime.timedelta(days=day))

    def work() -> Any:
        return clock_flags.scan(D(2026, 4, 1), within=1, chunk=5)

    results = race([work, work, work])
    assert all(isinstance(r, clock_flags.ScanResult) for r in results), results
    flags = list(CarClockFlag.objects.values_list("application_id", "stage", "kind", "due_on"))
    assert flags
    assert len(flags) == len(set(flags))
    assert sum(r.flagged for r in results) == len(flags)
    assert AuditEntry.objects.filter(action="vehicles.car_clock_flag.flagged").count() == len(flags)
