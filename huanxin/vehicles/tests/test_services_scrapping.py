"""Scrapping: intake and certificate, the five assemblies, the traction battery's hand-over through trace."""

import datetime

import pytest
from django.utils import timezone

from huanxin.accounts.models import Licence, OrganisationKind, Role
from huanxin.conftest import make_member, make_organisation, valid_resident_id
from huanxin.core.errors import ConflictError, DomainError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.trace import integrity
from huanxin.trace.models import TraceEvent, TraceItem
from huanxin.vehicles import scrapping
from huanxin.vehicles.domain.certificates import AssemblyInput
from huanxin.vehicles.models import (
    ScrapAssembly,
    ScrapCertificate,
    TractionBattery,
    Vehicle,
    VehicleEvent,
)
from huanxin.vehicles.tests.factories import deregistration, new_vin
from huanxin.vehicles.tests.scrapping_fixtures import (
    battery_code,
    five_assemblies,
    issued,
    licensed_battery_recycler,
    licensed_scrapper,
    owner_id_of,
    registered_vehicle,
    yard,
)

pytestmark = pytest.mark.django_db


def counts():
    return (
        ScrapCertificate.objects.count(),
        VehicleEvent.objects.filter(kind="scrapping").count(),
        AuditEntry.objects.filter(action__startswith="vehicles.scrapping").count(),
        Vehicle.objects.filter(status="scrapped").count(),
    )


def test_a_licensed_enterprise_takes_a_vehicle_in_and_issues_its_certificate(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    certificate = scrapping.issue_certificate(
        actor=y.staff,
        enterprise=y.enterprise,
        vin=vin.lower(),
        owner_id_number=owner_id_of(vin),
        intake_on=datetime.date(2025, 3, 4),
    )
    assert certificate.number == f"BF{y.enterprise.uscc[8:17]}2025000001"
    assert len(certificate.number) == 21
    assert certificate.owner_name == "欧阳娜娜"
    assert certificate.owner_id_masked == Vehicle.objects.get(vin=vin).owner_id_masked
    assert certificate.licence_number == f"京报废车资字-{y.enterprise.pk}"
    vehicle = Vehicle.objects.get(vin=vin)
    assert (vehicle.status, vehicle.scrapped_on) == ("scrapped", datetime.date(2025, 3, 4))
    event = VehicleEvent.objects.get(vehicle=vehicle, kind="scrapping")
    assert (event.source, event.organisation_id, event.reference) == (
        "scrapping_enterprise",
        y.enterprise.pk,
        certificate.number,
    )
    assert AuditEntry.objects.filter(
        action="vehicles.scrapping.issue_certificate", object_id=str(certificate.pk)
    ).exists()


def test_numbers_count_up_per_enterprise_and_year(personas):
    y = yard()
    first = scrapping.issue_certificate(
        actor=y.staff,
        enterprise=y.enterprise,
        vin=(vin := registered_vehicle(personas.admin)),
        owner_id_number=owner_id_of(vin),
        intake_on=datetime.date(2025, 12, 30),
    )
    second = scrapping.issue_certificate(
        actor=y.staff,
        enterprise=y.enterprise,
        vin=(vin := registered_vehicle(personas.admin)),
        owner_id_number=owner_id_of(vin),
        intake_on=datetime.date(2025, 12, 31),
    )
    third = scrapping.issue_certificate(
        actor=y.staff,
        enterprise=y.enterprise,
        vin=(vin := registered_vehicle(personas.admin)),
        owner_id_number=owner_id_of(vin),
        intake_on=datetime.date(2026, 1, 2),
    )
    assert [c.number[-10:] for c in (first, second, third)] == ["2025000001", "2025000002", "2026000001"]


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [(datetime.date(2020, 1, 1), datetime.date(2024, 12, 31)), (datetime.date(2026, 1, 1), None)],
    ids=["expired", "not_yet_valid"],
)
def test_intake_is_refused_without_a_licence_valid_on_the_day_and_writes_nothing(personas, valid_from, valid_until):
    enterprise, staff = licensed_scrapper(valid_from=valid_from, valid_until=valid_until)
    vin = registered_vehicle(personas.admin)
    before = counts()
    with pytest.raises(ForbiddenError) as caught:
        scrapping.issue_certificate(
            actor=staff,
            enterprise=enterprise,
            vin=vin,
            owner_id_number=owner_id_of(vin),
            intake_on=datetime.date(2025, 6, 1),
        )
    assert caught.value.code == "scrapper_not_licensed"
    assert counts() == before
    assert Vehicle.objects.get(vin=vin).status == "registered"


def test_a_backdated_intake_is_refused_when_the_licence_has_lapsed_since(personas):
    # Valid on the intake day a year ago, lapsed today: backdating does not keep a lapsed enterprise issuing.
    today = timezone.localdate()
    enterprise, staff = licensed_scrapper(
        valid_from=today - datetime.timedelta(days=800), valid_until=today - datetime.timedelta(days=10)
    )
    vin = registered_vehicle(personas.admin)
    before = counts()
    with pytest.raises(ForbiddenError) as caught:
        scrapping.issue_certificate(
            actor=staff,
            enterprise=enterprise,
            vin=vin,
            owner_id_number=owner_id_of(vin),
            intake_on=today - datetime.timedelta(days=365),
        )
    assert caught.value.code == "scrapper_not_licensed"
    assert counts() == before
    assert Vehicle.objects.get(vin=vin).status == "registered"


def test_intake_is_refused_to_an_enterprise_with_no_licence_at_all(personas):
    enterprise = make_organisation(OrganisationKind.VEHICLE_SCRAPPER, "110113")
    staff = make_member(Role.DISMANTLER, enterprise)
    before = counts()
    with pytest.raises(ForbiddenError):
        scrapping.issue_certificate(
            actor=staff,
            enterprise=enterprise,
            vin=(vin := registered_vehicle(personas.admin)),
            owner_id_number=owner_id_of(vin),
        )
    assert counts() == before


def test_intake_is_refused_to_a_non_member_and_to_an_appliance_dismantler(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    before = counts()
    for actor, enterprise in [
        (personas.dismantler, y.enterprise),
        (personas.dismantler, personas.dismantler_org),
        (personas.admin, y.enterprise),
    ]:
        with pytest.raises(ForbiddenError):
            scrapping.issue_certificate(actor=actor, enterprise=enterprise, vin=vin, owner_id_number=owner_id_of(vin))
    assert counts() == before


def test_an_unknown_vin_is_refused_and_writes_nothing(personas):
    y = yard()
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        scrapping.issue_certificate(
            actor=y.staff, enterprise=y.enterprise, vin=new_vin(), owner_id_number=valid_resident_id()
        )
    assert caught.value.errors[0].field == "vin"
    assert caught.value.code == "vehicle_not_found" or caught.value.errors[0].code == "vehicle_not_found"
    with pytest.raises(ValidationFailed) as bad:
        scrapping.issue_certificate(
            actor=y.staff, enterprise=y.enterprise, vin="LSV1234", owner_id_number=valid_resident_id()
        )
    assert bad.value.errors[0].field == "vin"
    assert counts() == before
    assert not AuditEntry.objects.filter(action__startswith="vehicles.scrapping").exists()


def test_a_vin_is_scrapped_once_whoever_asks(personas):
    y = yard()
    other, other_staff = licensed_scrapper()
    vin = registered_vehicle(personas.admin)
    scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=owner_id_of(vin))
    before = counts()
    for actor, enterprise in [(y.staff, y.enterprise), (other_staff, other)]:
        with pytest.raises(ConflictError) as caught:
            scrapping.issue_certificate(actor=actor, enterprise=enterprise, vin=vin, owner_id_number=owner_id_of(vin))
        assert caught.value.code == "vehicle_scrapped"
    assert counts() == before


def test_a_deregistered_vehicle_is_refused(personas):
    from huanxin.vehicles import services
    from huanxin.vehicles.tests.factories import csv_file

    y = yard()
    vin = registered_vehicle(personas.admin)
    services.import_registrations(
        actor=personas.admin, file_name="d.csv", content=csv_file([deregistration(vin, on="2024-01-01")])
    )
    before = counts()
    with pytest.raises(ConflictError) as caught:
        scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=owner_id_of(vin))
    assert caught.value.code == "vehicle_deregistered"
    assert counts() == before


def test_an_intake_dated_before_the_vehicles_last_event_or_in_the_future_is_refused(personas):
    y = yard()
    vin = registered_vehicle(personas.admin, on="2021-05-01")
    before = counts()
    with pytest.raises(ValidationFailed) as early:
        scrapping.issue_certificate(
            actor=y.staff,
            enterprise=y.enterprise,
            vin=vin,
            owner_id_number=owner_id_of(vin),
            intake_on=datetime.date(2021, 4, 1),
        )
    assert early.value.errors[0].field == "intake_on"
    with pytest.raises(ValidationFailed) as future:
        scrapping.issue_certificate(
            actor=y.staff,
            enterprise=y.enterprise,
            vin=vin,
            owner_id_number=owner_id_of(vin),
            intake_on=timezone.localdate() + datetime.timedelta(days=2),
        )
    assert future.value.errors[0].field == "intake_on"
    assert counts() == before


def test_the_certificate_number_is_unique_in_the_database(personas):
    from django.db import IntegrityError, transaction

    y = yard()
    certificate = issued(y, personas.admin)
    other = Vehicle.objects.get(vin=registered_vehicle(personas.admin))
    with pytest.raises(IntegrityError), transaction.atomic():
        ScrapCertificate.objects.create(
            number=certificate.number,
            vehicle=other,
            enterprise=y.enterprise,
            licence_number="x",
            intake_on=datetime.date(2025, 1, 1),
            issued_by=y.staff,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ScrapCertificate.objects.create(
            number="BFOTHER",
            vehicle=certificate.vehicle,
            enterprise=y.enterprise,
            licence_number="x",
            intake_on=datetime.date(2025, 1, 1),
            issued_by=y.staff,
        )


# ---------------------------------------------------------------- assemblies


def test_the_five_assemblies_are_recorded_once_with_their_destinations(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    rows = scrapping.record_assemblies(
        actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, assemblies=five_assemblies()
    )
    assert sorted(r.assembly for r in rows) == ["axles", "engine", "frame", "gearbox", "steering"]
    assert ScrapAssembly.objects.get(certificate=certificate, assembly="engine").destination == "remanufacturing"
    with pytest.raises(ConflictError):
        scrapping.record_assemblies(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, assemblies=five_assemblies()
        )
    assert ScrapAssembly.objects.filter(certificate=certificate).count() == 5


@pytest.mark.parametrize(
    ("assemblies", "code"),
    [
        (five_assemblies()[:4], "missing_assembly"),
        ([*five_assemblies(), AssemblyInput("engine", "smelting", "某钢厂")], "duplicate_assembly"),
        ([AssemblyInput("wheel", "smelting", "某钢厂"), *five_assemblies()], "unknown_assembly"),
        ([AssemblyInput("engine", "resale", "某公司"), *five_assemblies()[1:]], "unknown_destination"),
        ([AssemblyInput("engine", "smelting", "  "), *five_assemblies()[1:]], "receiver_required"),
    ],
    ids=["missing", "duplicate", "unknown", "destination", "receiver"],
)
def test_assemblies_are_validated_and_a_bad_set_writes_nothing(personas, assemblies, code):
    y = yard()
    certificate = issued(y, personas.admin)
    with pytest.raises(ValidationFailed) as caught:
        scrapping.record_assemblies(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, assemblies=assemblies
        )
    assert caught.value.errors[0].code == code
    assert caught.value.errors[0].field == "assemblies"
    assert not ScrapAssembly.objects.exists()


def test_another_enterprises_certificate_is_not_found(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    other, other_staff = licensed_scrapper()
    with pytest.raises(DomainError) as caught:
        scrapping.record_assemblies(
            actor=other_staff, enterprise=other, certificate_id=certificate.pk, assemblies=five_assemblies()
        )
    assert caught.value.status == 404
    assert not ScrapAssembly.objects.exists()


# ---------------------------------------------------------------- the traction battery


def test_an_nevs_battery_is_handed_over_through_the_trace_chain(personas):
    y = yard()
    certificate = issued(y, personas.admin, fuel="纯电动")
    code = battery_code()
    battery = scrapping.hand_over_battery(
        actor=y.staff,
        enterprise=y.enterprise,
        certificate_id=certificate.pk,
        battery_code=" " + code.lower(),
        recycler_id=y.recycler.pk,
    )
    assert battery.code == code
    item = TraceItem.objects.get(code=battery.trace_code)
    assert (item.category, item.serial, item.state) == ("traction_battery", code, "in_transit")
    assert (item.holder_id, item.destination_id) == (y.enterprise.pk, y.recycler.pk)
    assert [e.kind for e in TraceEvent.objects.filter(links__item=item).order_by("links__sequence")] == [
        "commission",
        "ship",
    ]
    assert integrity.verify_item(item).ok
    assert AuditEntry.objects.filter(action="vehicles.scrapping.hand_over_battery").count() == 1
    assert AuditEntry.objects.filter(action="trace.events.record").count() == 1

    # The recycler records its receipt like any other; the chain stays intact.
    from huanxin.trace import services as trace_services

    trace_services.record_one(
        actor=y.recycler_staff,
        organisation=y.recycler,
        data=trace_services.EventInput("receive", [item.code], timezone.now()),
    )
    item.refresh_from_db()
    assert (item.state, item.holder_id) == ("held", y.recycler.pk)
    assert integrity.verify_item(item).ok


def test_a_battery_is_handed_over_once(personas):
    y = yard()
    certificate = issued(y, personas.admin, fuel="纯电动")
    code = battery_code()
    scrapping.hand_over_battery(
        actor=y.staff,
        enterprise=y.enterprise,
        certificate_id=certificate.pk,
        battery_code=code,
        recycler_id=y.recycler.pk,
    )
    items = TraceItem.objects.count()
    with pytest.raises(ConflictError):
        scrapping.hand_over_battery(
            actor=y.staff,
            enterprise=y.enterprise,
            certificate_id=certificate.pk,
            battery_code=code,
            recycler_id=y.recycler.pk,
        )
    assert TraceItem.objects.count() == items
    assert TractionBattery.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("03HPEA10000001P1B000001", "battery_code_length"),
        ("03HPEA10000001P1B00000012", "battery_code_length"),
        ("03HPEA10000001P1B00000-1", "battery_code_characters"),
        ("03HXEA10000001P1B0000001", "battery_code_product_type"),
        ("", "required"),
    ],
)
def test_a_bad_battery_code_is_refused_saying_what_is_wrong_and_nothing_is_written(personas, text, code):
    y = yard()
    certificate = issued(y, personas.admin, fuel="纯电动")
    before = (TraceItem.objects.count(), TraceEvent.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        scrapping.hand_over_battery(
            actor=y.staff,
            enterprise=y.enterprise,
            certificate_id=certificate.pk,
            battery_code=text,
            recycler_id=y.recycler.pk,
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("battery_code", code)
    assert not TractionBattery.objects.exists()
    assert (TraceItem.objects.count(), TraceEvent.objects.count(), AuditEntry.objects.count()) == before


def test_a_battery_goes_only_to_a_licensed_battery_recycler_and_a_refusal_writes_nothing(personas):
    y = yard()
    certificate = issued(y, personas.admin, fuel="纯电动")
    unlicensed = make_organisation(OrganisationKind.RECYCLER, "110115")
    Licence.objects.create(
        organisation=unlicensed,
        kind=Licence.Kind.RENEWABLE_RECYCLING,
        number="京再生备字-x",
        valid_from=datetime.date(2020, 1, 1),
    )
    before = (TraceItem.objects.count(), TraceEvent.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationFailed) as caught:
        scrapping.hand_over_battery(
            actor=y.staff,
            enterprise=y.enterprise,
            certificate_id=certificate.pk,
            battery_code=battery_code(),
            recycler_id=unlicensed.pk,
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("recycler", "receiver_not_licensed")
    assert not TractionBattery.objects.exists()
    assert (TraceItem.objects.count(), TraceEvent.objects.count(), AuditEntry.objects.count()) == before


def test_a_cascade_use_enterprise_may_receive_a_battery(personas):
    y = yard()
    cascade, _ = licensed_battery_recycler(Licence.Kind.BATTERY_CASCADE_USE)
    certificate = issued(y, personas.admin, fuel="纯电动")
    battery = scrapping.hand_over_battery(
        actor=y.staff,
        enterprise=y.enterprise,
        certificate_id=certificate.pk,
        battery_code=battery_code(),
        recycler_id=cascade.pk,
    )
    assert battery.recycler == cascade


def test_a_fuel_car_has_no_battery_to_hand_over(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    with pytest.raises(ValidationFailed) as caught:
        scrapping.hand_over_battery(
            actor=y.staff,
            enterprise=y.enterprise,
            certificate_id=certificate.pk,
            battery_code=battery_code(),
            recycler_id=y.recycler.pk,
        )
    assert caught.value.errors[0].code == "not_nev"
    assert not TraceItem.objects.exists()
