"""The durable entry point in real transactions (no test-wrapping atomic block), and the lost-race path."""

import pytest

from huanxin.conftest import valid_resident_id
from huanxin.core.errors import ConflictError
from huanxin.core.models import AuditEntry
from huanxin.vehicles import services
from huanxin.vehicles.models import Vehicle, VehicleEvent, VehicleImport
from huanxin.vehicles.tests.factories import csv_file, inspection, new_vin, registration

# serialized_rollback: the flush after a transactional test would otherwise drop the districts loaded by a data
# migration, and later tests (in any app) that need them would fail.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_an_import_commits_with_its_audit_row(personas):
    vin = new_vin()
    report = services.import_registrations(
        actor=personas.admin,
        file_name="a.csv",
        content=csv_file([registration(vin, owner_id=valid_resident_id()), inspection(vin, on="2020-01-01")]),
    )
    assert report.recorded == 2
    assert VehicleEvent.objects.filter(vehicle__vin=vin).count() == 2
    assert list(AuditEntry.objects.values_list("action", "object_id")) == [
        ("vehicles.registry.import", str(report.import_id))
    ]


def test_an_import_that_loses_a_race_for_the_same_events_is_a_conflict_and_stores_nothing(personas, monkeypatch):
    content = csv_file([registration(new_vin(), owner_id=valid_resident_id())])
    services.import_registrations(actor=personas.admin, file_name="a.csv", content=content)
    audit_rows = AuditEntry.objects.count()
    # As if another import recorded the same vehicle between this import's read and its write.
    monkeypatch.setattr(services, "_recorded", lambda vins: ({}, {}, {}))
    with pytest.raises(ConflictError) as caught:
        services.import_registrations(actor=personas.admin, file_name="a.csv", content=content)
    assert caught.value.code == "vehicle_import_conflict"
    assert Vehicle.objects.count() == 1
    assert VehicleEvent.objects.count() == 1
    assert VehicleImport.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows
