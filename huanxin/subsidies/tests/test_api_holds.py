"""The POS quote and confirmation, held sales over the API, and the review queue's endpoints."""

import json

import pytest

from huanxin.accounts.models import Role
from huanxin.catalogue.models import ProductModel
from huanxin.conftest import api_client_for, make_member
from huanxin.core.models import AuditEntry
from huanxin.subsidies.models import Clawback, Qualification, Redemption, RedemptionHold

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def sale_for(scene, *, product, price_fen=499_900, serial="SN-API-1"):
    qualification = post(
        api_client_for(scene.resident()),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    ).json()
    return {
        "code": qualification["code"],
        "store_id": scene.store.pk,
        "product_id": product.pk,
        "serial": serial,
        "price_fen": price_fen,
    }


@pytest.fixture
def unfiled(scene):
    return ProductModel.objects.create(brand="美的", model_number="BCD-API-0", category="fridge", energy_grade=1)


@pytest.fixture
def held(scene, unfiled):
    till = api_client_for(scene.personas.clerk)
    sale = sale_for(scene, product=unfiled)
    quote = post(till, "/api/v1/subsidies/redemptions/quote", sale).json()
    response = post(till, "/api/v1/subsidies/redemptions", {**sale, "confirmed_subsidy_fen": quote["subsidy_fen"]})
    assert response.status_code == 201
    return RedemptionHold.objects.get(redemption_id=response.json()["id"])


def test_a_commit_without_the_confirmed_subsidy_is_refused_and_changes_nothing(scene):
    sale = sale_for(scene, product=scene.fridge)
    response = post(api_client_for(scene.personas.clerk), "/api/v1/subsidies/redemptions", sale)
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("confirmed_subsidy_fen", "required")]
    assert Redemption.objects.count() == 0


def test_a_commit_whose_subsidy_differs_from_the_confirmed_one_is_a_conflict(scene):
    sale = sale_for(scene, product=scene.fridge)
    audit_rows = AuditEntry.objects.count()
    response = post(
        api_client_for(scene.personas.clerk), "/api/v1/subsidies/redemptions", {**sale, "confirmed_subsidy_fen": 1}
    )
    assert (response.status_code, response.json()["code"]) == (409, "quote_changed")
    assert Redemption.objects.count() == 0
    assert AuditEntry.objects.count() == audit_rows


def test_an_absurd_price_is_refused_at_the_quote_with_a_field_error(scene):
    sale = sale_for(scene, product=scene.fridge, price_fen=9_999_999_999_900)
    response = post(api_client_for(scene.personas.clerk), "/api/v1/subsidies/redemptions/quote", sale)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == ("price_fen", "price_above_ceiling")
    assert "成交价上限" in error["message"]
    assert Qualification.objects.filter(code=sale["code"].replace("-", "")).get().status == "issued"


def test_a_held_sale_says_so_at_the_quote_and_in_the_result(scene, held):
    redemption = api_client_for(scene.personas.clerk).get("/api/v1/subsidies/redemptions").json()[0]
    assert (redemption["withheld"], redemption["hold_status"]) == (True, "held")
    assert held.reason == "no_filed_price"


def test_the_queue_shows_held_sales_to_the_districts_reviewers_and_the_merchant(scene, held):
    personas = scene.personas
    other_district = make_member(Role.REVIEWER, personas.chaoyang_bureau, district="110108")
    for user, expected in [
        (personas.district_reviewer, [held.pk]),
        (personas.reviewer, [held.pk]),
        (personas.auditor, [held.pk]),
        (personas.clerk, [held.pk]),
        (other_district, []),
        (personas.outsider, []),
        (personas.recycler, []),
    ]:
        listing = api_client_for(user).get("/api/v1/subsidies/holds").json()
        assert [h["id"] for h in listing] == expected, user
    assert api_client_for(personas.reviewer).get("/api/v1/subsidies/holds?status=cleared").json() == []


def test_a_reviewer_clears_over_the_api_once(scene, held):
    reviewer = api_client_for(scene.personas.district_reviewer)
    response = post(
        reviewer, f"/api/v1/subsidies/holds/{held.pk}/clear", {"note": "核实无误"}, HTTP_IDEMPOTENCY_KEY="c1"
    )
    assert (response.status_code, response.json()["status"]) == (200, "cleared")
    again = post(reviewer, f"/api/v1/subsidies/holds/{held.pk}/reject", {"note": "再驳回"})
    assert (again.status_code, again.json()["code"]) == (409, "hold_decided")
    assert not Clawback.objects.exists()


def test_a_reviewer_rejects_over_the_api_with_a_note(scene, held):
    reviewer = api_client_for(scene.personas.reviewer)
    missing = post(reviewer, f"/api/v1/subsidies/holds/{held.pk}/reject", {"note": ""})
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (422, "note")
    response = post(reviewer, f"/api/v1/subsidies/holds/{held.pk}/reject", {"note": "价格虚高"})
    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    # The merchant was never paid the withheld sale: the subsidy goes back to the budget, nothing is owed.
    assert not Clawback.objects.exists()
    assert Redemption.objects.get(pk=held.redemption_id).returned_fen == 74_985


# A finance officer does not oversee held sales (settlement shows what they hold back from a payment), so the
# hold is as unknown to them as to a reviewer of another district.
@pytest.mark.parametrize(("who", "status"), [("clerk", 403), ("manager", 403), ("finance", 404), ("other", 404)])
def test_nobody_else_decides(scene, held, who, status):
    personas = scene.personas
    user = {
        "clerk": personas.clerk,
        "manager": personas.manager,
        "finance": personas.finance,
        "other": make_member(Role.REVIEWER, personas.chaoyang_bureau, district="110108"),
    }[who]
    for action in ("clear", "reject"):
        response = post(api_client_for(user), f"/api/v1/subsidies/holds/{held.pk}/{action}", {"note": "决定"})
        assert response.status_code == status
    assert RedemptionHold.objects.get(pk=held.pk).status == "held"
