"""Intake proves the registered owner handed the vehicle in; an enterprise revokes a certificate it issued in error."""

from __future__ import annotations

import datetime

import pytest
from django.test import override_settings

from huanxin.accounts.models import Role
from huanxin.accounts.services import TryAgainLater
from huanxin.conftest import make_member, valid_resident_id, valid_uscc
from huanxin.core.errors import ConflictError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.models import AuditEntry, RateLimitCounter
from huanxin.vehicles import application_services as car
from huanxin.vehicles import scrapping
from huanxin.vehicles import services as registry
from huanxin.vehicles.models import (
    CarApplication,
    CarApplicationStep,
    ScrapAssembly,
    ScrapCertificate,
    Vehicle,
    VehicleEvent,
)
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car
from huanxin.vehicles.tests.factories import csv_file, deregistration, new_vin, registration
from huanxin.vehicles.tests.scrapping_fixtures import (
    five_assemblies,
    issued,
    licensed_scrapper,
    owner_id_of,
    registered_vehicle,
    yard,
)

pytestmark = pytest.mark.django_db


def counts():
    return (
        ScrapCertificate.objects.count(),
        ScrapCertificate.objects.filter(status="revoked").count(),
        VehicleEvent.objects.filter(kind__in=["scrapping", "scrap_revoked"]).count(),
        AuditEntry.objects.filter(action__startswith="vehicles.scrapping").count(),
        Vehicle.objects.filter(status="scrapped").count(),
    )


# ---------------------------------------------------------------- the owner at intake


def test_an_intake_with_someone_elses_id_number_is_refused_and_writes_nothing(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    before = counts()
    with pytest.raises(ValidationFailed) as caught:
        scrapping.issue_certificate(
            actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=valid_resident_id()
        )
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == ("owner_id_number", "owner_mismatch")
    assert counts() == before
    assert Vehicle.objects.get(vin=vin).status == "registered"


def test_a_malformed_id_number_is_refused_without_saying_whose_kind_the_owner_is(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    good = owner_id_of(vin)
    before = counts()
    for wrong in (good[:-1] + ("0" if good[-1] != "0" else "1"), "12345", "  "):
        with pytest.raises(ValidationFailed) as caught:
            scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=wrong)
        error = caught.value.errors[0]
        assert error.field == "owner_id_number"
        assert error.code in ("invalid_id_number", "required")
        assert "居民身份证" in error.message or "请填写" in error.message
    assert counts() == before
    assert not RateLimitCounter.objects.exists()


def test_the_owners_id_number_is_accepted_in_lower_case_and_recorded_as_checked(personas):
    y = yard()
    owner = valid_resident_id()
    while not owner.endswith("X"):
        owner = valid_resident_id()
    vin = registered_vehicle(personas.admin, owner_id=owner)
    certificate = scrapping.issue_certificate(
        actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=f" {owner.lower()} "
    )
    assert certificate.owner_checked_at is not None
    audit = AuditEntry.objects.get(action="vehicles.scrapping.issue_certificate", object_id=str(certificate.pk))
    assert audit.after["owner_checked"] is True


def test_an_organisations_vehicle_is_handed_in_on_its_credit_code(personas):
    y = yard()
    code = valid_uscc()
    vin = new_vin()
    registry.import_registrations(
        actor=personas.admin,
        file_name="org.csv",
        content=csv_file([registration(vin, owner_kind="单位", owner_name="北京运输有限公司", owner_id=code)]),
    )
    # Another credit code, or a resident ID, is the same counted mismatch: nothing tells the owner's kind.
    for wrong in (valid_uscc(), valid_resident_id()):
        with pytest.raises(ValidationFailed) as caught:
            scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=wrong)
        assert caught.value.errors[0].code == "owner_mismatch"
    assert RateLimitCounter.objects.get().count == 2
    certificate = scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=code)
    assert certificate.owner_kind == "organisation"


@override_settings(HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR=2)
def test_past_the_hourly_mismatches_the_enterprise_waits_even_with_the_right_number(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            scrapping.issue_certificate(
                actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=valid_resident_id()
            )
    before = counts()
    colleague = make_member(Role.DISMANTLER, y.enterprise)
    for actor in (y.staff, colleague):
        with pytest.raises(TryAgainLater) as limited:
            scrapping.issue_certificate(actor=actor, enterprise=y.enterprise, vin=vin, owner_id_number=owner_id_of(vin))
        assert limited.value.code == "owner_checks_limited"
        assert limited.value.retry_after > 0
    assert counts() == before
    # Another enterprise is not held back by this one's mistakes.
    other, other_staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=other_staff, enterprise=other, vin=vin, owner_id_number=owner_id_of(vin)
    )
    assert certificate.status == "valid"


@override_settings(HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR=1)
def test_right_numbers_give_their_slot_back(personas):
    y = yard()
    for _ in range(3):
        vin = registered_vehicle(personas.admin)
        scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=owner_id_of(vin))
    assert RateLimitCounter.objects.get().count == 0


def test_a_vehicle_that_cannot_be_taken_in_is_refused_before_any_owner_comparison(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    vin = certificate.vehicle.vin
    answers = set()
    for number in (owner_id_of(vin), valid_resident_id()):
        with pytest.raises(ConflictError) as caught:
            scrapping.issue_certificate(actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=number)
        answers.add((caught.value.code, caught.value.detail))
    assert len(answers) == 1
    assert not RateLimitCounter.objects.filter(count__gt=0).exists()


# ---------------------------------------------------------------- revocation


def test_a_certificate_issued_in_error_is_revoked_and_the_vehicle_is_in_use_again(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    vin = certificate.vehicle.vin
    revoked = scrapping.revoke_certificate(
        actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="wrong_vehicle", note="VIN录错"
    )
    assert (revoked.status, revoked.revocation_reason, revoked.revoked_by_id) == (
        "revoked",
        "wrong_vehicle",
        y.staff.pk,
    )
    vehicle = Vehicle.objects.get(vin=vin)
    assert (vehicle.status, vehicle.scrapped_on) == ("registered", None)
    # The scrapping stays on the vehicle's record, followed by its revocation.
    assert list(vehicle.events.filter(kind__in=["scrapping", "scrap_revoked"]).values_list("kind", flat=True)) == [
        "scrapping",
        "scrap_revoked",
    ]
    audit = AuditEntry.objects.get(action="vehicles.scrapping.revoke_certificate")
    assert audit.after["reason"] == "wrong_vehicle"
    # The vehicle really handed in later is taken in again, with a new number.
    later = scrapping.issue_certificate(
        actor=y.staff, enterprise=y.enterprise, vin=vin, owner_id_number=owner_id_of(vin)
    )
    assert later.number != certificate.number
    assert Vehicle.objects.get(vin=vin).status == "scrapped"
    assert ScrapCertificate.objects.filter(vehicle__vin=vin, status="valid").count() == 1


def test_revocation_refusals_write_nothing(personas):
    y = yard()
    other, other_staff = licensed_scrapper()
    certificate = issued(y, personas.admin)
    before = counts()
    with pytest.raises(ValidationFailed) as bad_reason:
        scrapping.revoke_certificate(actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="x")
    assert bad_reason.value.errors[0].field == "reason"
    with pytest.raises(ValidationFailed) as no_note:
        scrapping.revoke_certificate(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="other", note=" "
        )
    assert no_note.value.errors[0].field == "note"
    with pytest.raises(NotFoundError):
        scrapping.revoke_certificate(
            actor=other_staff, enterprise=other, certificate_id=certificate.pk, reason="wrong_vehicle"
        )
    with pytest.raises(ForbiddenError):
        scrapping.revoke_certificate(
            actor=personas.admin, enterprise=y.enterprise, certificate_id=certificate.pk, reason="wrong_vehicle"
        )
    assert counts() == before
    assert ScrapCertificate.objects.get(pk=certificate.pk).status == "valid"


def test_a_revoked_certificate_is_revoked_once_and_takes_no_more_records(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    scrapping.revoke_certificate(
        actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="duplicate"
    )
    before = counts()
    with pytest.raises(ConflictError) as again:
        scrapping.revoke_certificate(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="duplicate"
        )
    assert again.value.code == "certificate_revoked"
    with pytest.raises(ConflictError) as assemblies:
        scrapping.record_assemblies(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, assemblies=five_assemblies()
        )
    assert assemblies.value.code == "certificate_revoked"
    assert counts() == before
    assert not ScrapAssembly.objects.exists()


def test_a_certificate_the_vehicle_was_deregistered_on_cannot_be_revoked(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    registry.import_registrations(
        actor=personas.admin,
        file_name="d.csv",
        content=csv_file([deregistration(certificate.vehicle.vin, on=datetime.date.today().isoformat())]),
    )
    before = counts()
    with pytest.raises(ConflictError) as caught:
        scrapping.revoke_certificate(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="wrong_vehicle"
        )
    assert caught.value.code == "vehicle_deregistered"
    assert counts() == before


def test_an_application_citing_a_revoked_certificate_fails_its_certificate_check(personas):
    car_programme()
    person = personas.consumer_person
    vin = new_vin()
    registry.import_registrations(
        actor=personas.admin,
        file_name="r.csv",
        content=csv_file([registration(vin, on="2012-05-01", owner_id=person.reveal_resident_id())]),
    )
    enterprise, staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=staff, enterprise=enterprise, vin=vin, owner_id_number=person.reveal_resident_id()
    )
    application = file_application(
        personas.consumer, old_vin=vin, new_vin=new_car(personas.admin, person), certificate=certificate.number
    )
    assert {c["code"]: c["result"] for c in application.checks}["certificate"] == "pass"
    scrapping.revoke_certificate(
        actor=staff, enterprise=enterprise, certificate_id=certificate.pk, reason="not_handed_over"
    )
    step = CarApplicationStep.objects.get(application=application, kind="certificate_revoked")
    assert certificate.number in step.title
    checks = {c.code: c for c in car.run_checks(application, datetime.date.today())}
    assert checks["certificate"].result == "fail"
    assert "作废" in checks["certificate"].message


def test_a_certificate_a_subsidy_was_granted_on_cannot_be_revoked(personas):
    car_programme()
    person = personas.consumer_person
    vin = new_vin()
    registry.import_registrations(
        actor=personas.admin,
        file_name="r.csv",
        content=csv_file([registration(vin, on="2012-05-01", owner_id=person.reveal_resident_id())]),
    )
    enterprise, staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=staff, enterprise=enterprise, vin=vin, owner_id_number=person.reveal_resident_id()
    )
    application = file_application(
        personas.consumer, old_vin=vin, new_vin=new_car(personas.admin, person), certificate=certificate.number
    )
    # Approved by hand (as a reviewer may when a check cannot tell): the status is all the refusal reads.
    CarApplication.objects.filter(pk=application.pk).update(status="approved")
    before = counts()
    with pytest.raises(ConflictError) as caught:
        scrapping.revoke_certificate(actor=staff, enterprise=enterprise, certificate_id=certificate.pk, reason="fraud")
    assert caught.value.code == "certificate_subsidised"
    assert counts() == before


def test_a_dismantled_vehicles_certificate_cannot_be_revoked(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    scrapping.record_assemblies(
        actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, assemblies=five_assemblies()
    )
    before = counts()
    with pytest.raises(ConflictError) as caught:
        scrapping.revoke_certificate(
            actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="wrong_vehicle"
        )
    assert caught.value.code == "certificate_dismantled"
    assert counts() == before


def test_a_deregistration_sent_after_a_revocation_is_still_imported(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    vin = certificate.vehicle.vin
    scrapping.revoke_certificate(
        actor=y.staff, enterprise=y.enterprise, certificate_id=certificate.pk, reason="other", note="核对中"
    )
    # The police deregistered the car on the certificate the day it was issued; their file arrives later.
    outcome = registry.import_registrations(
        actor=personas.admin,
        file_name="late.csv",
        content=csv_file([deregistration(vin, on=certificate.intake_on.isoformat())]),
    )
    assert (outcome.outcome, outcome.recorded) == ("imported", 1)
    vehicle = Vehicle.objects.get(vin=vin)
    assert vehicle.status == "deregistered"
    assert vehicle.deregistered_on == certificate.intake_on


def test_applicants_citing_a_revoked_certificate_get_an_sms_and_no_internal_note(
    personas, sms_outbox, django_capture_on_commit_callbacks
):
    car_programme()
    person = personas.consumer_person
    vin = new_vin()
    registry.import_registrations(
        actor=personas.admin,
        file_name="r.csv",
        content=csv_file([registration(vin, on="2012-05-01", owner_id=person.reveal_resident_id())]),
    )
    enterprise, staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=staff, enterprise=enterprise, vin=vin, owner_id_number=person.reveal_resident_id()
    )
    application = file_application(
        personas.consumer, old_vin=vin, new_vin=new_car(personas.admin, person), certificate=certificate.number
    )
    with django_capture_on_commit_callbacks(execute=True):
        scrapping.revoke_certificate(
            actor=staff, enterprise=enterprise, certificate_id=certificate.pk, reason="fraud", note="内部核查编号 HC-7"
        )
    step = CarApplicationStep.objects.get(application=application, kind="certificate_revoked")
    assert "HC-7" not in step.title + step.note
    assert any(purpose == "car_certificate_revoked" for _, _, purpose in sms_outbox)
