"""Car subsidy applications: filing, evidence, the automatic checks, review with the clocks, payment."""

import datetime

import pytest

from huanxin.accounts.models import Role
from huanxin.conftest import make_member, make_person
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool
from huanxin.settlement.models import Payable
from huanxin.settlement.sources import PaymentResult, notify
from huanxin.vehicles import application_queries as car_queries
from huanxin.vehicles import application_services as car
from huanxin.vehicles.models import CarApplication, CarApplicationStep, EvidenceFile
from huanxin.vehicles.tests.car_factories import (
    HTML,
    JPEG,
    PDF,
    PNG,
    car_programme,
    file_application,
    new_car,
    scrapped_car,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(personas):
    car_programme()
    car_programme("cn-car-replace-2026")
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF2026110001")
    new_vin = new_car(personas.admin, personas.consumer_person)
    return personas, old, new_vin


def _file(personas, old, new_vin, **overrides):
    return file_application(
        personas.consumer, old_vin=old.vin, new_vin=new_vin, certificate="BF2026110001", **overrides
    )


def _checks(application):
    return {c["code"]: c["result"] for c in application.checks}


def test_a_good_application_passes_every_check_and_is_paid_through_ledger_and_settlement(
    scene, sms_outbox, django_capture_on_commit_callbacks
):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    assert application.status == "submitted"
    assert set(_checks(application).values()) == {"pass"}, [c for c in application.checks if c["result"] != "pass"]
    assert application.payee.account_masked.endswith("3445")
    car.accept(actor=personas.district_reviewer, application=application)
    with django_capture_on_commit_callbacks(execute=True):
        application = car.decide(
            actor=personas.district_reviewer, application=application, approve=True, reason_code="all_checks_passed"
        )
    assert application.status == "approved"
    assert application.amount_fen == 1_800_000  # 12 % of 150,000 元
    assert application.pool_id is not None
    pool = BudgetPool.objects.get(pk=application.pool_id)
    assert pool.spent_fen == 1_800_000
    assert pool.held_fen == 0
    payable = Payable.objects.get(source_kind="car-subsidy", source_ref=str(application.pk))
    assert payable.amount_fen == 1_800_000
    assert payable.payee_id == application.payee_id
    assert any(purpose == "car_decided" for _, _, purpose in sms_outbox)
    clock = car_queries.clock(application)
    assert clock.stages[2].due_on is not None
    assert clock.expected_payment_on == clock.stages[2].due_on
    with django_capture_on_commit_callbacks(execute=True):
        from django.db import transaction

        with transaction.atomic():
            notify(
                PaymentResult(
                    "car-subsidy",
                    str(application.pk),
                    payable.pk,
                    application.payee_id,
                    "L1",
                    1_800_000,
                    True,
                    "BANK123",
                    "",
                    datetime.datetime.now(tz=datetime.UTC),
                )
            )
    application.refresh_from_db()
    assert application.status == "paid"
    assert application.bank_reference == "BANK123"
    assert any(purpose == "car_paid" for _, _, purpose in sms_outbox)
    kinds = list(CarApplicationStep.objects.filter(application=application).values_list("kind", flat=True))
    assert kinds == ["submitted", "accepted", "decided", "paid"]
    actions = set(
        AuditEntry.objects.filter(action__startswith="vehicles.car_application").values_list("action", flat=True)
    )
    assert {
        "vehicles.car_application.submitted",
        "vehicles.car_application.approved",
        "vehicles.car_application.paid",
    } <= actions


def test_filing_the_same_application_again_returns_the_first(scene):
    personas, old, new_vin = scene
    first = _file(personas, old, new_vin)
    second = _file(personas, old, new_vin)
    assert first.pk == second.pk
    assert CarApplication.objects.count() == 1


def test_a_certificate_reused_for_a_second_application_is_refused(scene):
    personas, old, new_vin = scene
    _file(personas, old, new_vin)
    other_new = new_car(personas.admin, personas.other_person)
    with pytest.raises(ConflictError) as caught:
        file_application(personas.other_consumer, old_vin=old.vin, new_vin=other_new, certificate="BF2026110001")
    assert caught.value.code == "certificate_already_used"
    assert CarApplication.objects.count() == 1


def test_a_certificate_of_another_car_or_owner_fails_its_check(scene):
    personas, old, new_vin = scene
    other_old = scrapped_car(personas.admin, personas.other_person, certificate="BF2026110002")
    application = file_application(personas.consumer, old_vin=old.vin, new_vin=new_vin, certificate="BF2026110002")
    assert _checks(application)["certificate"] == "fail"
    application2 = file_application(
        personas.other_consumer,
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.other_person),
        certificate="NOPE-1",
    )
    assert _checks(application2)["certificate"] == "fail"
    assert _checks(application2)["vehicle_history"] == "fail"
    assert other_old.vin


def test_two_people_applying_with_the_same_vin_cannot_both_be_approved(scene):
    personas, old, new_vin = scene
    # Replacement (no certificate): the other person claims to have transferred the same old car.
    first = _file(personas, old, new_vin)
    second = file_application(
        personas.other_consumer,
        programme_code="cn-car-replace-2026",
        old_vin=old.vin,
        new_vin=new_vin,
        certificate="",
        transfer_invoice_number="FP001",
    )
    car.accept(actor=personas.reviewer, application=first)
    car.accept(actor=personas.reviewer, application=second)
    car.decide(actor=personas.reviewer, application=first, approve=True, reason_code="all_checks_passed")
    spent = BudgetPool.objects.filter(programme__code="cn-car-replace-2026").values_list("spent_fen", flat=True)
    with pytest.raises(ConflictError):
        car.decide(actor=personas.reviewer, application=second, approve=True, reason_code="checked_by_hand")
    second.refresh_from_db()
    assert second.status == "accepted"
    assert list(
        BudgetPool.objects.filter(programme__code="cn-car-replace-2026").values_list("spent_fen", flat=True)
    ) == list(spent)
    assert not Payable.objects.filter(source_ref=str(second.pk)).exists()
    assert CarApplication.objects.filter(status="approved").count() == 1


def test_the_vin_unique_constraint_holds_even_past_the_checks(scene):
    from django.db import IntegrityError, transaction

    personas, old, new_vin = scene
    first = _file(personas, old, new_vin)
    second = file_application(
        personas.other_consumer,
        programme_code="cn-car-replace-2026",
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.other_person),
        certificate="",
        transfer_invoice_number="FP2",
    )
    CarApplication.objects.filter(pk=first.pk).update(status="approved")
    with pytest.raises(IntegrityError), transaction.atomic():
        CarApplication.objects.filter(pk=second.pk).update(status="approved")


def test_a_reviewer_cannot_decide_their_own_or_a_prepared_application(scene):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    # The reviewer is also a resident who filed it.
    reviewer_person = make_person(user=None, district="110105")
    reviewer_person.user = personas.district_reviewer
    reviewer_person.save()
    CarApplication.objects.filter(pk=application.pk).update(applicant=reviewer_person)
    application.refresh_from_db()
    with pytest.raises(ForbiddenError) as caught:
        car.accept(actor=personas.district_reviewer, application=application)
    assert caught.value.code == "car_review_own"
    CarApplication.objects.filter(pk=application.pk).update(
        applicant=personas.consumer_person, prepared_by=personas.reviewer
    )
    application.refresh_from_db()
    with pytest.raises(ForbiddenError) as caught:
        car.accept(actor=personas.reviewer, application=application)
    assert caught.value.code == "car_review_prepared"
    application.refresh_from_db()
    assert application.status == "submitted"
    assert not AuditEntry.objects.filter(action="vehicles.car_application.accepted").exists()


def test_other_roles_cannot_review_and_nothing_changes(scene):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    other_district = make_member(Role.REVIEWER, personas.chaoyang_bureau, district="110108")
    for actor in (
        personas.clerk,
        personas.finance,
        personas.auditor,
        personas.outsider,
        personas.other_consumer,
        other_district,
    ):
        with pytest.raises(ForbiddenError):
            car.accept(actor=actor, application=application)
        with pytest.raises(ForbiddenError):
            car.decide(actor=actor, application=application, approve=False, reason_code="other")
    application.refresh_from_db()
    assert application.status == "submitted"
    assert CarApplicationStep.objects.filter(application=application).count() == 1
    with pytest.raises(ForbiddenError):
        file_application(personas.clerk, old_vin=old.vin, new_vin=new_vin, certificate="X")
    unverified = make_member(Role.CONSUMER)
    make_person(user=unverified, verified=False)
    with pytest.raises(ForbiddenError):
        file_application(unverified, old_vin=old.vin, new_vin=new_vin, certificate="X")
    assert CarApplication.objects.count() == 1


def test_supplement_pauses_the_clock_and_sends_an_sms(scene, sms_outbox, django_capture_on_commit_callbacks):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    car.accept(actor=personas.reviewer, application=application)
    due = datetime.date.today() + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        application = car.request_supplement(
            actor=personas.reviewer, application=application, note="请上传新车登记证书", due_on=due
        )
    assert application.status == "supplement"
    assert any(purpose == "car_supplement" for _, _, purpose in sms_outbox)
    assert car_queries.clock(application).stages[1].paused
    with pytest.raises(ConflictError):
        car.decide(actor=personas.reviewer, application=application, approve=True, reason_code="all_checks_passed")
    application = car.supply(actor=personas.consumer, application=application)
    assert application.status == "accepted"
    assert application.pauses[0]["end"] is not None


def test_reconsideration_once_and_by_another_reviewer(scene):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    car.accept(actor=personas.reviewer, application=application)
    application = car.decide(
        actor=personas.reviewer, application=application, approve=False, reason_code="evidence_false"
    )
    assert application.status == "refused"
    application = car.request_reconsideration(actor=personas.consumer, application=application, note="材料真实")
    assert application.status == "reconsideration"
    with pytest.raises(ForbiddenError) as caught:
        car.decide(actor=personas.reviewer, application=application, approve=True, reason_code="checked_by_hand")
    assert caught.value.code == "car_reconsideration_same_reviewer"
    application = car.decide(
        actor=personas.district_reviewer, application=application, approve=False, reason_code="evidence_false"
    )
    with pytest.raises(ConflictError) as refused:
        car.request_reconsideration(actor=personas.consumer, application=application, note="再次")
    assert refused.value.code in {"reconsideration_once", "car_application_state"}


def test_evidence_is_sealed_with_its_hash_and_a_bad_upload_stores_nothing(scene):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin)
    for name, declared, content in (
        ("证书.pdf", "application/pdf", HTML),  # HTML pretending to be a PDF
        ("证书.png", "image/png", JPEG),  # a JPEG named PNG
        ("证书.jpg", "image/jpeg", PDF),  # a PDF declared JPEG
        ("a.html", "text/html", HTML),
    ):
        with pytest.raises(ValidationFailed):
            car.add_evidence(
                actor=personas.consumer,
                application=application,
                kind="scrap_certificate",
                file_name=name,
                declared_type=declared,
                content=content,
            )
    assert not EvidenceFile.objects.exists()
    assert not AuditEntry.objects.filter(action="vehicles.car_application.evidence_added").exists()
    with pytest.raises(ForbiddenError):
        car.add_evidence(
            actor=personas.other_consumer,
            application=application,
            kind="id_card",
            file_name="id.png",
            declared_type="image/png",
            content=PNG,
        )
    evidence = car.add_evidence(
        actor=personas.consumer,
        application=application,
        kind="id_card",
        file_name="id.png",
        declared_type="image/png",
        content=PNG,
    )
    assert evidence.content_type == "image/png"
    assert PNG not in bytes(evidence.sealed)
    assert car.open_evidence(evidence) == PNG


def test_an_upload_over_the_size_limit_is_refused(scene, settings):
    personas, old, new_vin = scene
    settings.HUANXIN_CAR_EVIDENCE_MAX_BYTES = 50
    application = _file(personas, old, new_vin)
    with pytest.raises(ValidationFailed) as caught:
        car.add_evidence(
            actor=personas.consumer,
            application=application,
            kind="id_card",
            file_name="id.pdf",
            declared_type="application/pdf",
            content=PDF + b"0" * 100,
        )
    assert caught.value.errors[0].code == "file_too_large"
    assert not EvidenceFile.objects.exists()


def test_checks_report_failures_with_reasons(scene):
    personas, old, new_vin = scene
    application = _file(personas, old, new_vin, new_energy="fuel", new_displacement_ml=2500, new_model_code="")
    checks = {c["code"]: c for c in application.checks}
    assert checks["new_car"]["result"] == "fail"
    assert "超过2.0升" in checks["new_car"]["message"]
    assert checks["rules"]["result"] == "fail"


def test_one_car_subsidy_per_person_per_year(scene):
    personas, old, new_vin = scene
    first = _file(personas, old, new_vin)
    car.accept(actor=personas.reviewer, application=first)
    car.decide(actor=personas.reviewer, application=first, approve=True, reason_code="all_checks_passed")
    old2 = scrapped_car(personas.admin, personas.consumer_person, certificate="BF2026110009")
    second = file_application(
        personas.consumer,
        old_vin=old2.vin,
        new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF2026110009",
    )
    assert _checks(second)["one_per_year"] == "fail"


def test_a_replacement_checks_the_transfer_and_a_failed_payment_comes_back(
    scene, sms_outbox, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from huanxin.conftest import valid_resident_id
    from huanxin.vehicles import services as registry
    from huanxin.vehicles.tests.factories import csv_file, new_vin, registration, transfer

    personas, _, new = scene
    vin = new_vin()
    registry.import_registrations(
        actor=personas.admin,
        file_name="r.csv",
        content=csv_file(
            [
                registration(vin, on="2016-03-01", owner_id=personas.consumer_person.reveal_resident_id()),
                transfer(vin, on="2026-10-10", owner_kind="个人", owner_name="赵六", owner_id=valid_resident_id()),
            ]
        ),
    )
    application = file_application(
        personas.consumer,
        programme_code="cn-car-replace-2026",
        old_vin=vin,
        new_vin=new,
        certificate="",
        transfer_invoice_number="FP-2026-1",
    )
    checks = _checks(application)
    assert checks["transfer"] == "pass"
    assert set(checks.values()) == {"pass"}, application.checks
    car.accept(actor=personas.reviewer, application=application)
    application = car.decide(
        actor=personas.reviewer, application=application, approve=True, reason_code="all_checks_passed"
    )
    assert application.amount_fen == 1_200_000  # 8 % of 150,000 元
    payable = Payable.objects.get(source_kind="car-subsidy", source_ref=str(application.pk))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(
            PaymentResult(
                "car-subsidy",
                str(application.pk),
                payable.pk,
                application.payee_id,
                "L1",
                1_200_000,
                False,
                "",
                "账户名不符",
                datetime.datetime.now(tz=datetime.UTC),
            )
        )
    application.refresh_from_db()
    assert application.status == "payment_failed"
    assert application.payment_failure == "账户名不符"
    assert any(purpose == "car_payment_failed" for _, _, purpose in sms_outbox)


def test_a_certificate_issued_by_a_licensed_scrapper_passes_the_certificate_check(personas):
    from huanxin.vehicles import scrapping
    from huanxin.vehicles import services as registry
    from huanxin.vehicles.tests.factories import csv_file, deregistration, new_vin, registration
    from huanxin.vehicles.tests.scrapping_fixtures import licensed_scrapper, owner_id_of

    car_programme()
    vin = new_vin()
    person = personas.consumer_person
    registry.import_registrations(
        actor=personas.admin,
        file_name="r.csv",
        content=csv_file([registration(vin, on="2012-05-01", owner_id=person.reveal_resident_id())]),
    )
    enterprise, staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=staff,
        enterprise=enterprise,
        vin=vin,
        owner_id_number=owner_id_of(vin),
        intake_on=datetime.date(2026, 11, 25),
    )
    registry.import_registrations(
        actor=personas.admin, file_name="d.csv", content=csv_file([deregistration(vin, on="2026-11-30")])
    )
    application = file_application(
        personas.consumer, old_vin=vin, new_vin=new_car(personas.admin, person), certificate=certificate.number
    )
    checks = {c["code"]: c for c in application.checks}
    assert checks["certificate"]["result"] == "pass", checks["certificate"]
    assert checks["deregistered"]["result"] == "pass", checks["deregistered"]


def test_without_the_nev_catalogue_an_nev_cannot_be_priced_and_is_not_approved(scene):
    from huanxin.vehicles.models import NevCatalogueEntry

    personas, old, new_vin = scene
    NevCatalogueEntry.objects.all().delete()
    application = _file(personas, old, new_vin)
    checks = {c["code"]: c for c in application.checks}
    assert checks["rules"]["result"] == "unknown"
    assert "车型目录" in checks["rules"]["message"]
    assert checks["new_car"]["result"] == "unknown"
    car.accept(actor=personas.district_reviewer, application=application)
    spent = list(BudgetPool.objects.values_list("spent_fen", flat=True))
    with pytest.raises(ConflictError) as caught:
        car.decide(
            actor=personas.district_reviewer, application=application, approve=True, reason_code="checked_by_hand"
        )
    assert caught.value.code == "nev_catalogue_missing"
    assert CarApplication.objects.get(pk=application.pk).status == "accepted"
    assert list(BudgetPool.objects.values_list("spent_fen", flat=True)) == spent
    assert not Payable.objects.filter(source_kind="car-subsidy").exists()
