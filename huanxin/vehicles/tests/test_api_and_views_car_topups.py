"""Retroactive top-ups through the API and the page: listed by one city-wide reviewer, approved by another, refused
to everyone else with nothing written."""

import json

import pytest
from django.test import Client

from huanxin.conftest import api_client_for
from huanxin.core.models import AuditEntry
from huanxin.settlement.models import Payable
from huanxin.vehicles import application_services as car
from huanxin.vehicles.models import CarTopUpRun
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car
from huanxin.vehicles.tests.test_services_car_topups import _version

pytestmark = pytest.mark.django_db


def _decided(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-TOP-API")
    application = file_application(
        personas.consumer,
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF-TOP-API",
    )
    car.accept(actor=personas.district_reviewer, application=application)
    car.decide(actor=personas.district_reviewer, application=application, approve=True, reason_code="all_checks_passed")
    return _version(personas, 2, 1500, 2500000)


def _post(client, path, body=None):
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def test_the_api_lists_what_is_owed_and_pays_it_once_after_a_second_person_approves(personas):
    raised = _decided(personas)
    reviewer = api_client_for(personas.reviewer)
    [owing] = reviewer.get("/api/v1/vehicles/top-ups/owed").json()
    assert (owing["rule_version"], owing["applications"], owing["total_fen"]) == (raised.pk, 1, 450_000)

    prepared = _post(reviewer, "/api/v1/vehicles/top-ups", {"rule_version": raised.pk})
    assert prepared.status_code == 201, prepared.content
    run = prepared.json()
    assert (run["status"], run["items"], run["total_fen"]) == ("pending", 1, 450_000)
    assert reviewer.get("/api/v1/vehicles/top-ups/owed").json() == []

    own = _post(reviewer, f"/api/v1/vehicles/top-ups/{run['id']}/approve")
    assert own.status_code == 403
    assert not Payable.objects.filter(source_kind="car-topup").exists()

    approved = _post(api_client_for(personas.admin), f"/api/v1/vehicles/top-ups/{run['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    again = _post(api_client_for(personas.admin), f"/api/v1/vehicles/top-ups/{run['id']}/approve")
    assert again.status_code == 409
    assert Payable.objects.filter(source_kind="car-topup").count() == 1


@pytest.mark.parametrize("persona", ["district_reviewer", "clerk", "consumer", "finance"])
def test_everyone_but_city_wide_reviewers_is_refused_and_nothing_is_written(personas, persona):
    raised = _decided(personas)
    client = api_client_for(getattr(personas, persona))
    audit_rows = AuditEntry.objects.count()
    assert client.get("/api/v1/vehicles/top-ups").status_code == 403
    assert client.get("/api/v1/vehicles/top-ups/owed").status_code == 403
    assert _post(client, "/api/v1/vehicles/top-ups", {"rule_version": raised.pk}).status_code == 403
    page = Client()
    page.force_login(getattr(personas, persona))
    assert page.get("/vehicles/top-ups/").status_code == 403
    assert page.post("/vehicles/top-ups/", {"action": "prepare", "version": raised.pk}).status_code == 403
    assert not CarTopUpRun.objects.exists()
    assert AuditEntry.objects.count() == audit_rows


def test_the_page_prepares_a_list_and_only_another_person_can_approve_it(personas):
    raised = _decided(personas)
    page = Client()
    page.force_login(personas.reviewer)
    shown = page.get("/vehicles/top-ups/")
    assert shown.status_code == 200
    assert "列出补差清单" in shown.content.decode()
    assert page.post("/vehicles/top-ups/", {"action": "prepare", "version": raised.pk}).status_code == 302
    run = CarTopUpRun.objects.get()
    assert "待另一人审批" in page.get("/vehicles/top-ups/").content.decode()
    page.post("/vehicles/top-ups/", {"action": "approve", "run": run.pk})
    run.refresh_from_db()
    assert run.status == "pending"  # the preparer cannot approve
    other = Client()
    other.force_login(personas.admin)
    other.post("/vehicles/top-ups/", {"action": "approve", "run": run.pk})
    run.refresh_from_db()
    assert run.status == "approved"
    assert Payable.objects.filter(source_kind="car-topup").count() == 1
