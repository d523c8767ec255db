"""Importing the traffic police's data: every bad row with its line and field, all or nothing unless asked,
re-importing changes nothing, events are appended and never edited."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from huanxin.accounts.models import Role
from huanxin.conftest import make_member, make_organisation, make_person, valid_resident_id, valid_uscc
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.vehicles import services
from huanxin.vehicles.models import Vehicle, VehicleEvent, VehicleEventImmutableError, VehicleImport
from huanxin.vehicles.tests.factories import (
    csv_file,
    deregistration,
    inspection,
    new_vin,
    registration,
    transfer,
    xlsx_file,
)

pytestmark = pytest.mark.django_db


def run(actor, rows, *, good_rows_only=False, name="登记.csv", content=None):
    return services.import_registrations(
        actor=actor, file_name=name, content=content or csv_file(rows), good_rows_only=good_rows_only
    )


def test_registration_transfer_and_inspection_make_a_vehicle_whose_state_follows_its_events(personas):
    vin = new_vin()
    first_owner, second_owner = valid_resident_id(), valid_resident_id()
    report = run(
        personas.admin,
        [
            registration(vin, on="2012-05-01", owner_id=first_owner),
            transfer(vin, on="2020-03-02", owner_kind="个人", owner_name="赵六", owner_id=second_owner),
            inspection(vin, on="2022-05-01", mileage="123456"),
        ],
    )
    assert (report.outcome, report.total_rows, report.recorded, report.refused) == ("imported", 3, 3, 0)
    vehicle = Vehicle.objects.get(vin=vin)
    assert vehicle.status == "registered"
    assert vehicle.registered_on == datetime.date(2012, 5, 1)
    assert vehicle.owner_since == datetime.date(2020, 3, 2)
    assert vehicle.owner_name == "赵六"
    assert vehicle.owner_display_name == "赵*"
    assert vehicle.owner_id_masked == second_owner[:6] + "********" + second_owner[-4:]
    assert second_owner not in vehicle.owner_id_cipher
    assert (vehicle.fuel, vehicle.displacement_ml, vehicle.emission_standard) == ("gasoline", 1598, "guo4")
    assert vehicle.mileage_km == 123456
    assert vehicle.district_id == "110105"
    assert [e.kind for e in vehicle.events.order_by("occurred_on")] == ["registration", "transfer", "inspection"]
    audit = AuditEntry.objects.get(action="vehicles.registry.import")
    assert audit.after["recorded"] == 3


def test_an_owner_known_to_the_platform_is_linked_by_the_sealed_id(personas):
    person = make_person(name="王小明")
    vin = new_vin()
    run(personas.admin, [registration(vin, owner_id=person.reveal_resident_id())])
    vehicle = Vehicle.objects.get(vin=vin)
    assert vehicle.owner_person_id == person.pk
    assert vehicle.owner_id_digest == person.resident_id_digest


def test_an_organisation_owner_is_linked_by_its_credit_code(personas):
    company = make_organisation("declaring_enterprise", name="京运物流")
    vin = new_vin()
    run(
        personas.admin,
        [
            registration(
                vin,
                type="truck_heavy",
                use="营运",
                fuel="柴油",
                displacement="11000",
                owner_kind="单位",
                owner_name="京运物流",
                owner_id=company.uscc,
            )
        ],
    )
    vehicle = Vehicle.objects.get(vin=vin)
    assert vehicle.owner_organisation_id == company.pk
    assert vehicle.owner_person_id is None
    assert vehicle.owner_display_name == "京运物流"


def test_every_bad_row_is_reported_with_its_line_and_field_and_nothing_is_imported(personas):
    good = new_vin()
    bad_vin = good[:8] + ("1" if good[8] != "1" else "2") + good[9:]
    rows = [
        registration(good, owner_id=valid_resident_id()),
        registration(bad_vin, owner_id=valid_resident_id()),
        registration(new_vin() + "9", owner_id=valid_resident_id()),
        registration(new_vin(), owner_id="110105199001011234", fuel="柴油", emission="国七"),
        deregistration(new_vin(), on="2024-01-01"),
    ]
    report = run(personas.admin, rows)
    assert report.outcome == "refused"
    assert (report.total_rows, report.recorded, report.unchanged, report.refused, report.withheld) == (5, 0, 0, 4, 1)
    found = [(e.row, e.column, e.code) for e in report.errors]
    assert found == [
        (3, "vin", "vin_check_digit"),
        (4, "vin", "vin_length"),
        (5, "emission_standard", "unknown_emission_standard"),
        (5, "owner_id_number", "owner_id_invalid_checksum"),
        (6, "vin", "vehicle_not_registered"),
    ]
    # The report never repeats an identity number.
    assert all(e.value == "" for e in report.errors if e.column == "owner_id_number")
    assert not Vehicle.objects.exists()
    assert not VehicleEvent.objects.exists()
    assert VehicleImport.objects.get().outcome == "refused"


def test_asking_for_the_good_rows_imports_them_and_refuses_the_rest(personas):
    good = new_vin()
    report = run(
        personas.admin,
        [registration(good, owner_id=valid_resident_id()), registration("LSV123", owner_id=valid_resident_id())],
        good_rows_only=True,
    )
    assert (report.outcome, report.recorded, report.refused, report.withheld) == ("imported", 1, 1, 0)
    assert list(Vehicle.objects.values_list("vin", flat=True)) == [good]


def test_re_importing_the_same_file_changes_nothing(personas):
    vin = new_vin()
    rows = [
        registration(vin, owner_id=valid_resident_id()),
        inspection(vin, on="2020-01-02", mileage="50000"),
        deregistration(vin, on="2024-06-01"),
    ]
    content = xlsx_file(rows)
    run(personas.admin, rows, name="a.xlsx", content=content)
    before = list(Vehicle.objects.values())
    events = list(VehicleEvent.objects.values_list("pk", flat=True))
    again = run(personas.admin, rows, name="a.xlsx", content=content)
    assert (again.outcome, again.recorded, again.unchanged, again.refused) == ("imported", 0, 3, 0)
    assert list(Vehicle.objects.values()) == before
    assert list(VehicleEvent.objects.values_list("pk", flat=True)) == events


def test_a_different_event_for_the_same_vehicle_kind_and_day_is_a_conflict_not_an_edit(personas):
    vin = new_vin()
    run(personas.admin, [registration(vin, owner_id=valid_resident_id()), inspection(vin, on="2020-01-02")])
    report = run(personas.admin, [inspection(vin, on="2020-01-02", passed="不合格")])
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "kind", "conflicts_with_recorded")]
    assert VehicleEvent.objects.get(kind="inspection").details["passed"] is True


def test_events_out_of_the_life_order_are_refused(personas):
    vin = new_vin()
    run(personas.admin, [registration(vin, on="2015-01-01", owner_id=valid_resident_id())])
    report = run(
        personas.admin,
        [
            registration(vin, on="2016-01-01", owner_id=valid_resident_id()),
            inspection(vin, on="2014-01-01"),
        ],
    )
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (2, "vin", "vehicle_already_registered"),
        (3, "occurred_on", "event_before_last"),
    ]


def test_nothing_follows_a_deregistration(personas):
    vin = new_vin()
    run(personas.admin, [registration(vin, owner_id=valid_resident_id()), deregistration(vin, on="2024-01-01")])
    report = run(
        personas.admin,
        [transfer(vin, on="2024-02-01", owner_kind="个人", owner_name="赵六", owner_id=valid_resident_id())],
    )
    assert [e.code for e in report.errors] == ["vehicle_deregistered"]
    assert Vehicle.objects.get(vin=vin).status == "deregistered"


def test_the_same_event_twice_in_one_file_is_refused_the_second_time(personas):
    vin = new_vin()
    row = registration(vin, owner_id=valid_resident_id())
    report = run(personas.admin, [row, row])
    assert [(e.row, e.code) for e in report.errors] == [(3, "duplicate_in_file")]


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", True), ("utf-8", False), ("gbk", False), ("gb18030", False), ("utf-16", False)]
)
def test_files_in_the_encodings_excel_writes_are_read(personas, encoding, bom):
    vin = new_vin()
    content = csv_file([registration(vin, owner_id=valid_resident_id())], encoding=encoding, bom=bom)
    report = run(personas.admin, [], content=content)
    assert report.recorded == 1
    assert Vehicle.objects.get(vin=vin).owner_name == "王小明"


def test_a_file_without_the_required_columns_is_refused_whole(personas):
    with pytest.raises(ValidationFailed) as caught:
        run(personas.admin, [], content="车辆识别代号,日期\r\nLSV,2020-01-01\r\n".encode())
    assert caught.value.code == "missing_columns"
    assert not VehicleImport.objects.exists()


@pytest.mark.parametrize("who", ["district_reviewer", "supervisor", "clerk", "consumer", "outsider", "finance"])
def test_only_city_wide_keepers_import_and_a_refusal_leaves_no_trace(personas, who):
    actor = make_member(Role.SUPERVISOR, personas.government) if who == "supervisor" else getattr(personas, who)
    with pytest.raises(ForbiddenError):
        run(actor, [registration(new_vin(), owner_id=valid_resident_id())])
    assert not VehicleImport.objects.exists()
    assert not Vehicle.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="vehicles.").exists()


def test_a_reviewer_city_wide_may_import(personas):
    assert run(personas.reviewer, [registration(new_vin(), owner_id=valid_resident_id())]).recorded == 1


# ---------------------------------------------------------------- events are appended, never edited


@pytest.fixture
def event(personas):
    vin = new_vin()
    run(personas.admin, [registration(vin, owner_id=valid_resident_id())])
    return VehicleEvent.objects.get(vehicle__vin=vin)


def test_an_event_cannot_be_saved_again(event):
    event.occurred_on = datetime.date(2000, 1, 1)
    with pytest.raises(VehicleEventImmutableError):
        event.save()


def test_an_event_cannot_be_deleted(event):
    with pytest.raises(VehicleEventImmutableError):
        event.delete()
    with pytest.raises(VehicleEventImmutableError):
        VehicleEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(VehicleEventImmutableError):
        VehicleEvent.objects.filter(pk=event.pk).update(occurred_on=datetime.date(2000, 1, 1))
    assert VehicleEvent.objects.filter(pk=event.pk, occurred_on=event.occurred_on).exists()


def test_the_database_refuses_a_second_registration_of_a_vehicle(event):
    second = VehicleEvent(
        vehicle=event.vehicle,
        kind="registration",
        occurred_on=event.occurred_on + datetime.timedelta(days=1),
        owner_kind="person",
        source="traffic_police",
        content_digest="x",
        recorded_by=event.recorded_by,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        second.save()


def test_a_vehicle_with_events_cannot_be_deleted(event):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        event.vehicle.delete()


def test_an_organisation_owner_needs_a_valid_credit_code(personas):
    code = valid_uscc()
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    report = run(personas.admin, [registration(new_vin(), owner_kind="单位", owner_name="某公司", owner_id=wrong)])
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "owner_id_number", "owner_id_invalid_checksum")]
