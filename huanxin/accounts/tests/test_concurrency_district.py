"""Two changes of the registered district at the same moment: one wins, the other is refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from huanxin.accounts import services
from huanxin.accounts.models import DistrictChange, Person, Role
from huanxin.conftest import Personas, make_member, make_person
from huanxin.core.errors import ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.subsidies.tests.test_concurrency import race

# serialized_rollback: a plain transactional test flushes and re-creates content types, which a later
# serialized-rollback test (catalogue) would then fail to restore over; this one restores what it found.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL")


def test_racing_district_changes_leave_exactly_one(personas: Personas) -> None:
    user = make_member(Role.CONSUMER)
    make_person(user=user, district="110105")
    targets = ["110108", "110119", "110106", "110107"]

    def change(district: str) -> Any:
        return lambda: services.change_registered_district(actor=user, district=district)

    results = race([change(d) for d in targets])
    winners = [r for r in results if isinstance(r, Person)]
    refusals = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(winners) == 1
    assert len(refusals) == len(targets) - 1
    assert {r.errors[0].code for r in refusals} == {"district_change_limit"}
    change_row = DistrictChange.objects.get()
    assert Person.objects.get(user=user).district_id == change_row.to_district_id == winners[0].district_id
    assert AuditEntry.objects.filter(action="accounts.resident.change_district").count() == 1
