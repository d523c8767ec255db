"""Organisations apply for bj-truck-2024 through the car application machinery: who may file and for which
organisation, the truck checks (the old truck's facts from the registry), the engine's three amounts, review by
nobody of the organisation's own, payment to the organisation's payee, and blank VINs on the unique constraints."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from huanxin.accounts.models import Membership, Organisation, OrganisationKind, Role
from huanxin.conftest import (
    api_client_for,
    make_member,
    make_organisation,
    make_person,
    token_client_for,
    valid_uscc,
)
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy import ledger
from huanxin.policy.models import Programme
from huanxin.settlement.models import Payable, Payee
from huanxin.settlement.sources import PaymentResult, notify
from huanxin.vehicles import application_queries as queries
from huanxin.vehicles import application_services as car
from huanxin.vehicles import services
from huanxin.vehicles.models import CarApplication, Vehicle, VehicleEvent
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car
from huanxin.vehicles.tests.factories import csv_file, deregistration, new_vin, registration

pytestmark = pytest.mark.django_db

API = "/api/v1/vehicles/applications"
BANK = {"bank_name": "中国建设银行北京朝阳支行", "account_number": "11050161360000001234"}


def truck_programme(budget_fen: int = 1_000_000_000) -> Programme:
    programme, _ = Programme.objects.get_or_create(
        code="bj-truck-2024", defaults={"name": "国四营运货车淘汰更新", "family": "truck", "slices_per_district": 1}
    )
    with transaction.atomic():
        ledger.allocate(programme, {"110105": budget_fen, "110108": budget_fen})
    return programme


def register_truck(admin: Any, owner: Organisation | None, **overrides: Any) -> str:
    """A truck registered in the organisation's name (by its credit code, as the traffic police's file says)."""
    vin = overrides.pop("vin", None) or new_vin("LGB")
    fields = {
        "on": "2014-05-20",
        "type": "truck_heavy",
        "use": "营运",
        "fuel": "柴油",
        "displacement": "11596",
        "emission": "国四",
        "owner_kind": "单位",
        "owner_name": owner.name if owner else "北京某运输有限公司",
        "owner_id": owner.uscc if owner else valid_uscc(),
        "district": "朝阳区",
    }
    fields.update(overrides)
    services.import_registrations(actor=admin, file_name="trucks.csv", content=csv_file([registration(vin, **fields)]))
    return vin


def scrap(admin: Any, vin: str, certificate: str) -> None:
    VehicleEvent.objects.create(
        vehicle=Vehicle.objects.get(vin=vin),
        kind="scrapping",
        occurred_on="2026-11-02",
        source="scrapping_enterprise",
        reference=certificate,
        content_digest=f"test-{certificate}",
        recorded_by=admin,
    )
    services.import_registrations(
        actor=admin, file_name="dereg.csv", content=csv_file([deregistration(vin, on="2026-11-05")])
    )


class Scene:
    def __init__(self, personas: Any) -> None:
        self.p = personas
        self.programme = truck_programme()
        self.haulier = make_organisation(OrganisationKind.DECLARING_ENTERPRISE, "110105", name="京运物流")
        self.declarant = make_member(Role.DECLARANT, self.haulier)
        # The declarant is also a verified resident: notices about the organisation's application reach this phone.
        self.declarant_person = make_person(user=self.declarant, district="110105")
        self.other = make_organisation(OrganisationKind.DECLARING_ENTERPRISE, "110108", name="海淀货运")
        self.other_declarant = make_member(Role.DECLARANT, self.other)
        self.old_vin = register_truck(personas.admin, self.haulier)
        scrap(personas.admin, self.old_vin, "BF-TRUCK-1")

    def file(self, actor: Any = None, organisation: Organisation | None = None, **overrides: Any) -> CarApplication:
        fields: dict[str, Any] = {
            "old_vin": self.old_vin,
            "certificate_number": "BF-TRUCK-1",
            "new_vin": "",
            "new_energy": "",
            "new_weight_class": "",
            "new_refrigerated": False,
            "new_invoice_number": "",
            "new_price_fen": 0,
            **BANK,
        }
        fields.update(overrides)
        return car.submit_truck_application(
            actor=actor or self.declarant, organisation=organisation or self.haulier, **fields
        )


@pytest.fixture
def scene(personas: Any) -> Scene:
    return Scene(personas)


def _checks(application: CarApplication) -> dict[str, str]:
    return {c["code"]: c["result"] for c in application.checks}


def _nothing_written() -> None:
    assert not CarApplication.objects.exists()
    assert not Payee.objects.filter(kind="organisation").exists()
    assert not AuditEntry.objects.filter(action__startswith="vehicles.car_application").exists()


# ---------------------------------------------------------------- the happy path


def test_an_organisation_files_scrap_and_buy_and_is_approved_and_paid_to_its_own_payee(
    scene: Scene, sms_outbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    new = register_truck(scene.p.admin, scene.haulier, on="2026-11-20", emission="国六")
    application = scene.file(
        new_vin=new, new_energy="guo6", new_weight_class="heavy", new_invoice_number="FP-1", new_price_fen=60_000_000
    )
    assert application.kind == "truck"
    assert application.applicant_id is None
    assert application.applicant_organisation_id == scene.haulier.pk
    assert application.district_id == "110105"
    checks = _checks(application)
    assert checks == {
        "vehicle_history": "pass",
        "rules": "pass",
        "certificate": "pass",
        "deregistered": "pass",
        "new_registration": "pass",
        "one_per_year": "not_applicable",
        "vin_once": "pass",
    }, application.checks
    payee = application.payee
    assert payee is not None
    assert (payee.kind, payee.reference, payee.organisation_id) == (
        "organisation",
        f"car-application:{application.number}",
        scene.haulier.pk,
    )
    assert queries.is_applicant(scene.declarant, application)
    assert not queries.is_applicant(scene.other_declarant, application)

    car.accept(actor=scene.p.district_reviewer, application=application)
    with django_capture_on_commit_callbacks(execute=True):
        application = car.decide(
            actor=scene.p.district_reviewer, application=application, approve=True, reason_code="all_checks_passed"
        )
    assert application.status == "approved"
    assert application.amount_fen == 8_500_000
    payable = Payable.objects.get(source_kind="car-subsidy", source_ref=str(application.pk))
    assert (payable.amount_fen, payable.payee_id) == (8_500_000, payee.pk)
    phone = scene.declarant_person.reveal_phone()
    assert any(to == phone and purpose == "car_decided" for to, _, purpose in sms_outbox), sms_outbox

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify(
            PaymentResult(
                "car-subsidy",
                str(application.pk),
                payable.pk,
                payee.pk,
                "L1",
                8_500_000,
                True,
                "BANK-TRUCK",
                "",
                datetime.datetime.now(tz=datetime.UTC),
            )
        )
    application.refresh_from_db()
    assert application.status == "paid"
    assert list(application.steps.values_list("kind", flat=True)) == ["submitted", "accepted", "decided", "paid"]


def test_the_engine_amount_for_each_truck_case(scene: Scene) -> None:
    admin = scene.p.admin
    # Scrap a 国四 heavy truck only.
    scrap_only = scene.file()
    assert _checks(scrap_only)["rules"] == "pass"
    assert _checks(scrap_only)["new_registration"] == "not_applicable"
    assert car._amount(scrap_only) == 4_500_000
    # Scrap and buy a 国六 heavy truck.
    old_2 = register_truck(admin, scene.haulier)
    scrap(admin, old_2, "BF-TRUCK-2")
    guo6 = register_truck(admin, scene.haulier, on="2026-11-20", emission="国六")
    both = scene.file(
        old_vin=old_2,
        certificate_number="BF-TRUCK-2",
        new_vin=guo6,
        new_energy="guo6",
        new_weight_class="heavy",
        new_invoice_number="FP-2",
        new_price_fen=60_000_000,
    )
    assert car._amount(both) == 8_500_000
    # Buy an NEV refrigerated truck only: no old truck, no certificate.
    nev = register_truck(admin, scene.haulier, on="2026-11-20", type="truck_light_medium", fuel="纯电动", emission="")
    nev_only = scene.file(
        old_vin="",
        certificate_number="",
        new_vin=nev,
        new_energy="nev",
        new_weight_class="light",
        new_refrigerated=True,
        new_invoice_number="FP-3",
        new_price_fen=30_000_000,
    )
    assert _checks(nev_only)["vehicle_history"] == "not_applicable"
    assert "certificate" not in _checks(nev_only)
    assert car._amount(nev_only) == 3_500_000
    # An NEV truck that is not refrigerated matches no option.
    plain = register_truck(admin, scene.haulier, on="2026-11-20", type="truck_light_medium", fuel="纯电动", emission="")
    not_cold = scene.file(
        old_vin="",
        certificate_number="",
        new_vin=plain,
        new_energy="nev",
        new_weight_class="light",
        new_invoice_number="FP-4",
        new_price_fen=30_000_000,
    )
    assert _checks(not_cold)["rules"] == "fail"
    assert car._amount(not_cold) == 0


def test_the_old_trucks_facts_come_from_the_registry_and_ownership_by_credit_code(scene: Scene) -> None:
    admin = scene.p.admin
    # A 国三 truck: the rules see 国三 from the registry (nobody types the emission stage), and it is not covered.
    guo3 = register_truck(admin, scene.haulier, emission="国三")
    scrap(admin, guo3, "BF-GUO3")
    application = scene.file(old_vin=guo3, certificate_number="BF-GUO3")
    assert _checks(application)["rules"] == "fail"
    assert _checks(application)["vehicle_history"] == "fail"
    assert car._amount(application) == 0
    # A truck imported before the organisation enrolled: linked by its credit code's blind index only.
    code = valid_uscc()
    vin = register_truck(admin, None, owner_id=code)
    late = Organisation.objects.create(
        kind=OrganisationKind.DECLARING_ENTERPRISE, uscc=code, district_id="110105", name="后注册运输公司"
    )
    assert Vehicle.objects.get(vin=vin).owner_organisation_id is None
    scrap(admin, vin, "BF-LATE")
    late_declarant = make_member(Role.DECLARANT, late)
    filed = scene.file(actor=late_declarant, organisation=late, old_vin=vin, certificate_number="BF-LATE")
    assert _checks(filed)["vehicle_history"] == "pass", filed.checks
    assert _checks(filed)["certificate"] == "pass"
    # Another organisation's truck fails on history and certificate.
    stolen = scene.file(actor=scene.other_declarant, organisation=scene.other, old_vin=scene.old_vin)
    assert _checks(stolen)["vehicle_history"] == "fail"


# ---------------------------------------------------------------- who may file, read and decide


def test_a_resident_cannot_file_for_an_organisation_nor_for_bj_truck_2024(scene: Scene) -> None:
    with pytest.raises(ForbiddenError):
        scene.file(actor=scene.p.consumer)
    with pytest.raises(ForbiddenError):
        scene.file(actor=scene.p.consumer, organisation=scene.other)
    _nothing_written()
    # Nor through the car form as themself: bj-truck-2024 is not a car programme.
    with pytest.raises(ValidationFailed) as refused:
        file_application(scene.p.consumer, old_vin=scene.old_vin, new_vin=new_vin(), certificate="BF-TRUCK-1",
                         programme_code="bj-truck-2024")  # fmt: skip
    assert refused.value.errors[0].field == "programme"
    _nothing_written()


def test_a_declarant_files_only_for_their_own_enterprise(scene: Scene) -> None:
    with pytest.raises(ForbiddenError):
        scene.file(actor=scene.other_declarant, organisation=scene.haulier)
    # A public institution's declarant holds the same role but does not run operating trucks.
    institution = make_organisation(OrganisationKind.PUBLIC_INSTITUTION, "110105")
    with pytest.raises(ForbiddenError):
        scene.file(actor=make_member(Role.DECLARANT, institution), organisation=institution)
    _nothing_written()


def test_a_token_of_organisation_b_cannot_file_or_read_for_a(scene: Scene) -> None:
    application = scene.file()
    token_b = token_client_for(scene.other_declarant, scene.other)
    before = AuditEntry.objects.count()
    response = token_b.post(
        f"{API}/trucks",
        data={"organisation_id": scene.haulier.pk, "old_vin": scene.old_vin, "certificate_number": "X", **BANK},
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    assert token_b.get(f"{API}/{application.pk}").status_code == 404
    assert token_b.get(f"{API}/trucks", {"organisation_id": scene.haulier.pk}).status_code == 403
    assert token_b.get(f"{API}/trucks").json() == []
    assert CarApplication.objects.count() == 1
    assert AuditEntry.objects.count() == before
    # The same person signed in (not through a token) cannot act for A either.
    session_b = api_client_for(scene.other_declarant)
    assert session_b.get(f"{API}/{application.pk}").status_code == 404
    # A's token reads A's application and lists it.
    token_a = token_client_for(scene.declarant, scene.haulier)
    detail = token_a.get(f"{API}/{application.pk}").json()
    assert (detail["applicant_kind"], detail["applicant"]) == ("organisation", "京运物流")
    assert [row["id"] for row in token_a.get(f"{API}/trucks").json()] == [application.pk]


def test_the_api_files_a_truck_application_with_field_errors(scene: Scene) -> None:
    client = token_client_for(scene.declarant, scene.haulier)
    bad = client.post(
        f"{API}/trucks", data={"old_vin": scene.old_vin, **BANK}, content_type="application/json"
    )  # no certificate
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "certificate_number"
    _nothing_written()
    good = client.post(
        f"{API}/trucks",
        data={"old_vin": scene.old_vin, "certificate_number": "BF-TRUCK-1", **BANK},
        content_type="application/json",
    )
    assert good.status_code == 201, good.content
    body = good.json()
    assert body["kind"] == "truck"
    assert body["new_vin"] == ""
    assert {c["code"]: c["result"] for c in body["checks"]}["one_per_year"] == "not_applicable"


def test_nobody_of_the_applying_organisation_reviews_it(scene: Scene) -> None:
    application = scene.file()
    # A Chaoyang reviewer who is also on the haulier's staff (in any role).
    insider = make_member(Role.REVIEWER, scene.p.chaoyang_bureau, district="110105")
    Membership.objects.create(user=insider, role=Role.DECLARANT, organisation=scene.haulier)
    steps = application.steps.count()
    audits = AuditEntry.objects.count()
    for actor in (insider, scene.declarant):
        with pytest.raises(ForbiddenError):
            car.accept(actor=actor, application=application)
    application.refresh_from_db()
    assert application.status == "submitted"
    assert (application.steps.count(), AuditEntry.objects.count()) == (steps, audits)
    # The district's reviewers see it in their queue, shown as the organisation.
    assert application.pk in [a.pk for a, _ in queries.review_queue(scene.p.district_reviewer)]
    assert application.applicant_display == "京运物流"
    # The other organisation's staff do not see it at all.
    assert not CarApplication.objects.visible_to(scene.other_declarant).exists()
    assert CarApplication.objects.visible_to(scene.declarant).get() == application


def test_the_organisations_staff_supply_and_ask_for_reconsideration(scene: Scene) -> None:
    application = scene.file()
    reviewer = scene.p.district_reviewer
    due_on = datetime.date.today() + datetime.timedelta(days=5)
    car.request_supplement(actor=reviewer, application=application, note="请补交道路运输证", due_on=due_on)
    with pytest.raises(ForbiddenError):
        car.supply(actor=scene.other_declarant, application=application)
    application = car.supply(actor=scene.declarant, application=application)
    assert application.status == "submitted"
    car.accept(actor=reviewer, application=application)
    car.decide(actor=reviewer, application=application, approve=False, reason_code="evidence_missing")
    with pytest.raises(ForbiddenError):
        car.request_reconsideration(actor=scene.p.consumer, application=application, note="请复核")
    application = car.request_reconsideration(actor=scene.declarant, application=application, note="已补交材料")
    assert application.status == "reconsideration"


# ---------------------------------------------------------------- blank VINs and the unique constraints


def test_blank_vins_do_not_collide_while_a_vin_is_subsidised_once(scene: Scene) -> None:
    admin, reviewer = scene.p.admin, scene.p.district_reviewer
    second_old = register_truck(admin, scene.haulier)
    scrap(admin, second_old, "BF-TRUCK-2")
    # Two scrap-only applications of one organisation (both new VINs blank) and two NEV-only ones of two
    # organisations (both old VINs blank): none collides.
    first = scene.file()
    second = scene.file(old_vin=second_old, certificate_number="BF-TRUCK-2")
    nev_a = scene.file(
        old_vin="", certificate_number="", new_vin=new_vin(), new_energy="nev", new_weight_class="light",
        new_refrigerated=True, new_invoice_number="FP-A", new_price_fen=30_000_000,
    )  # fmt: skip
    nev_b = scene.file(
        actor=scene.other_declarant, organisation=scene.other, old_vin="", certificate_number="",
        new_vin=new_vin(), new_energy="nev", new_weight_class="light", new_refrigerated=True,
        new_invoice_number="FP-B", new_price_fen=30_000_000,
    )  # fmt: skip
    assert len({first.pk, second.pk, nev_a.pk, nev_b.pk}) == 4
    # Both scrap-only applications approved: two subsidised rows with a blank new VIN.
    for application in (first, second):
        car.accept(actor=reviewer, application=application)
        car.decide(actor=reviewer, application=application, approve=True, reason_code="all_checks_passed")
    assert CarApplication.objects.filter(status="approved", new_vin="").count() == 2
    # Filing the same truck again returns the open application; another organisation's is a new row, and it
    # can never be subsidised: the database refuses a second subsidised row for the VIN, whoever applies.
    assert scene.file().pk == first.pk
    again = scene.file(actor=scene.other_declarant, organisation=scene.other, certificate_number="BF-OTHER")
    assert _checks(again)["vin_once"] == "fail"
    with pytest.raises(IntegrityError), transaction.atomic():
        CarApplication.objects.filter(pk=again.pk).update(status="approved")


def test_a_truck_application_needs_at_least_one_truck_and_a_car_both_cars(scene: Scene, personas: Any) -> None:
    with pytest.raises(ValidationFailed) as refused:
        scene.file(old_vin="", certificate_number="")
    assert refused.value.errors[0].field == "old_vin"
    with pytest.raises(ValidationFailed) as refused:
        scene.file(new_energy="guo6")  # new-truck facts without a new truck
    assert refused.value.errors[0].field == "new_vin"
    _nothing_written()
    # The database holds it too: a car application with a blank VIN, or one with two applicants, is refused.
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-CAR")
    filed = file_application(
        personas.consumer, old_vin=old.vin, new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF-CAR",
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        CarApplication.objects.filter(pk=filed.pk).update(new_vin="")
    with pytest.raises(IntegrityError), transaction.atomic():
        CarApplication.objects.filter(pk=filed.pk).update(applicant_organisation=scene.haulier)


# ---------------------------------------------------------------- pages


def test_the_pages_list_apply_with_field_errors_and_show_the_organisation(scene: Scene, client: Any) -> None:
    client.force_login(scene.declarant)
    assert "京运物流" in client.get("/vehicles/applications/trucks/").content.decode()
    form = client.get("/vehicles/applications/trucks/new/")
    assert form.status_code == 200
    assert "对公账户" in form.content.decode()
    refused = client.post(
        "/vehicles/applications/trucks/new/",
        {"organisation_id": scene.haulier.pk, "old_vin": scene.old_vin, **BANK},
    )
    assert refused.status_code == 422
    assert "淘汰旧车须填写报废机动车回收证明编号" in refused.content.decode()
    _nothing_written()
    done = client.post(
        "/vehicles/applications/trucks/new/",
        {"organisation_id": scene.haulier.pk, "old_vin": scene.old_vin, "certificate_number": "BF-TRUCK-1", **BANK},
    )
    assert done.status_code == 302
    application = CarApplication.objects.get()
    page = client.get(done["Location"]).content.decode()
    assert "申请单位" in page
    assert "京运物流" in page
    assert "不适用" in page
    assert "每人每年一次" in page
    assert "本单位的申请" in page
    listed = client.get("/vehicles/applications/trucks/").content.decode()
    assert application.number in listed
    # Another enterprise's declarant is refused the page for the haulier and sees only their own list.
    client.force_login(scene.other_declarant)
    assert client.get(f"/vehicles/applications/{application.pk}/").status_code == 404
    assert application.number not in client.get("/vehicles/applications/trucks/").content.decode()
    # A resident has no truck pages.
    client.force_login(scene.p.consumer)
    assert client.get("/vehicles/applications/trucks/new/").status_code == 403
    # The district reviewer's queue shows the organisation.
    client.force_login(scene.p.district_reviewer)
    assert "京运物流" in client.get("/vehicles/applications/queue/").content.decode()


def test_the_demo_haulier_can_walk_the_truck_application(personas: Any) -> None:
    from huanxin.vehicles.demo import DEMO_VINS, HAULIER_USCC, SCRAPPER_USCC, load_demo

    truck_programme()
    haulier = Organisation.objects.create(
        kind=OrganisationKind.DECLARING_ENTERPRISE, uscc=HAULIER_USCC, district_id="110112", name="北京京运物流有限公司"
    )
    scrapper_org = Organisation.objects.create(
        kind=OrganisationKind.VEHICLE_SCRAPPER, uscc=SCRAPPER_USCC, district_id="110113", name="顺达"
    )
    from huanxin.accounts.models import Licence

    Licence.objects.create(
        organisation=scrapper_org,
        kind=Licence.Kind.VEHICLE_SCRAPPING,
        number="京报废车资字2022-008",
        valid_from=datetime.date(2023, 1, 1),
        valid_until=datetime.date(2027, 12, 31),
    )
    make_member(Role.DISMANTLER, scrapper_org, username="scrapper")
    load_demo(personas.admin)
    certificate = VehicleEvent.objects.get(vehicle__vin=DEMO_VINS["truck_renewal"], kind="scrapping").reference
    declarant = make_member(Role.DECLARANT, haulier)
    application = car.submit_truck_application(
        actor=declarant,
        organisation=haulier,
        old_vin=DEMO_VINS["truck_renewal"],
        certificate_number=certificate,
        new_vin="",
        new_energy="",
        new_weight_class="",
        new_refrigerated=False,
        new_invoice_number="",
        new_price_fen=0,
        **BANK,
    )
    assert set(_checks(application).values()) == {"pass", "not_applicable"}, application.checks
    assert car._amount(application) == 4_500_000


def test_conflicting_certificate_is_refused_with_nothing_written(scene: Scene) -> None:
    scene.file()
    count = CarApplication.objects.count()
    with pytest.raises(ConflictError):
        scene.file(actor=scene.other_declarant, organisation=scene.other)
    assert CarApplication.objects.count() == count


def test_a_raised_truck_standard_tops_up_the_organisation(scene: Scene) -> None:
    from huanxin.policy import services as policy
    from huanxin.vehicles import topups

    reviewer = scene.p.district_reviewer
    application = scene.file()
    car.accept(actor=reviewer, application=application)
    application = car.decide(actor=reviewer, application=application, approve=True, reason_code="all_checks_passed")
    assert application.amount_fen == 4_500_000
    text = policy.CATALOGUE_DIR.joinpath("bj-truck-2024.toml").read_text(encoding="utf-8")
    text = text.replace("version = 1", "version = 2", 1).replace("amount_fen = 4500000", "amount_fen = 5000000", 1)
    version = policy.prepare_rule_set(actor=scene.p.reviewer, programme=scene.programme, content=text)
    raised = policy.decide_rule_set(actor=scene.p.admin, version=version, approve=True)
    assert topups.car_rule_version(raised.pk) == raised
    owed = topups.owed_under(raised)
    assert [(o.application.pk, o.delta_fen) for o in owed] == [(application.pk, 500_000)]
    run = topups.prepare_top_ups(actor=scene.p.reviewer, version=raised)
    topups.approve_top_ups(actor=scene.p.admin, run=run)
    payable = Payable.objects.get(source_kind="car-topup")
    assert (payable.amount_fen, payable.payee_id) == (500_000, application.payee_id)


def _approve(scene: Scene, application: CarApplication, reason: str = "checked_by_hand") -> CarApplication:
    reviewer = scene.p.district_reviewer
    car.accept(actor=reviewer, application=application)
    return car.decide(actor=reviewer, application=application, approve=True, reason_code=reason)


def test_the_new_trucks_facts_come_from_the_registry_not_from_what_is_filed(scene: Scene) -> None:
    from huanxin.vehicles.models import NevCatalogueEntry

    admin = scene.p.admin
    old_2 = register_truck(admin, scene.haulier)
    scrap(admin, old_2, "BF-TRUCK-2")
    # Registered as a light/medium 国六 truck, filed as a heavy one: the registry's class prices it, and the
    # new-registration check fails, so it cannot be approved at the heavy amount.
    light = register_truck(admin, scene.haulier, on="2026-11-20", type="truck_light_medium", emission="国六")
    filed_heavy = scene.file(
        old_vin=old_2,
        certificate_number="BF-TRUCK-2",
        new_vin=light,
        new_energy="guo6",
        new_weight_class="heavy",
        new_invoice_number="FP-9",
        new_price_fen=40_000_000,
    )
    assert _checks(filed_heavy)["new_registration"] == "fail"
    with pytest.raises(ConflictError) as caught:
        _approve(scene, filed_heavy)
    assert caught.value.code == "checks_failed"
    assert CarApplication.objects.get(pk=filed_heavy.pk).status == "accepted"
    # "Refrigerated" is not in the registry: a person must check it, and approving says so.
    NevCatalogueEntry.objects.all().delete()  # a truck needs no passenger-car catalogue
    cold = register_truck(admin, scene.haulier, on="2026-11-20", type="truck_light_medium", fuel="纯电动", emission="")
    nev = scene.file(
        old_vin="",
        certificate_number="",
        new_vin=cold,
        new_energy="nev",
        new_weight_class="light",
        new_refrigerated=True,
        new_invoice_number="FP-10",
        new_price_fen=30_000_000,
    )
    assert _checks(nev)["new_registration"] == "unknown"
    with pytest.raises(ValidationFailed) as untold:
        _approve(scene, nev, reason="all_checks_passed")
    assert untold.value.errors[0].code == "checks_not_all_passed"
    assert not Payable.objects.filter(source_ref=str(nev.pk)).exists()
    approved = car.decide(actor=scene.p.district_reviewer, application=nev, approve=True, reason_code="checked_by_hand")
    assert (approved.status, approved.amount_fen) == ("approved", 3_500_000)


def test_a_later_filing_never_moves_an_earlier_applications_money(scene: Scene) -> None:
    first = _approve(scene, scene.file(), reason="all_checks_passed")
    payable = Payable.objects.get(source_kind="car-subsidy", source_ref=str(first.pk))
    masked = payable.payee.account_masked
    admin = scene.p.admin
    old_2 = register_truck(admin, scene.haulier)
    scrap(admin, old_2, "BF-TRUCK-2")
    second = scene.file(
        old_vin=old_2, certificate_number="BF-TRUCK-2", bank_name="工商银行", account_number="0200001122334455999"
    )
    assert second.payee_id != first.payee_id
    assert Payable.objects.select_related("payee").get(pk=payable.pk).payee.account_masked == masked


def test_another_owners_certificate_is_refused_at_filing_with_nothing_written(scene: Scene) -> None:
    from huanxin.vehicles import scrapping
    from huanxin.vehicles.tests.scrapping_fixtures import licensed_scrapper

    admin = scene.p.admin
    theirs = register_truck(admin, scene.other)
    enterprise, staff = licensed_scrapper()
    certificate = scrapping.issue_certificate(
        actor=staff, enterprise=enterprise, vin=theirs, owner_id_number=scene.other.uscc
    )
    before = (CarApplication.objects.count(), AuditEntry.objects.count(), Payee.objects.count())
    for old_vin in (theirs, scene.old_vin):
        with pytest.raises(ValidationFailed) as caught:
            scene.file(old_vin=old_vin, certificate_number=certificate.number)
        assert (caught.value.errors[0].field, caught.value.errors[0].code) == (
            "certificate_number",
            "certificate_mismatch",
        )
    assert (CarApplication.objects.count(), AuditEntry.objects.count(), Payee.objects.count()) == before
    # Its owner files with it.
    mine = scene.file(actor=scene.other_declarant, organisation=scene.other, old_vin=theirs,
                      certificate_number=certificate.number)  # fmt: skip
    assert mine.certificate_number == certificate.number
