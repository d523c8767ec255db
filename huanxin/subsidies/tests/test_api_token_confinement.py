"""A till's token acts for its own merchant only, even when its holder also works for another merchant."""

import json

import pytest

from huanxin.conftest import api_client_for, member_of_two_merchants, token_client_for
from huanxin.core.models import AuditEntry
from huanxin.subsidies import services
from huanxin.subsidies.models import Clawback, Redemption, Return

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale_of_the_other_merchant(scene):
    """A sale of the scene's merchant, and a till token of another merchant whose holder also works there."""
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    sale = services.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial="SN-OTHER-1",
        price_fen=499_900,
    ).redemption
    holder = member_of_two_merchants(scene.personas.other_merchant, scene.personas.merchant)
    return sale, holder, token_client_for(holder, scene.personas.other_merchant)


def test_a_token_lists_none_of_the_sales_of_another_merchant_its_holder_works_for(scene, sale_of_the_other_merchant):
    sale, holder, till = sale_of_the_other_merchant
    assert till.get("/api/v1/subsidies/redemptions").json() == []
    assert till.get("/api/v1/subsidies/holds").json() == []
    # Signed in by session, the same person does see the other merchant's sale: the token is what confines.
    assert [r["id"] for r in api_client_for(holder).get("/api/v1/subsidies/redemptions").json()] == [sale.pk]


def test_a_token_records_no_return_on_a_sale_of_another_merchant(scene, sale_of_the_other_merchant):
    sale, _, till = sale_of_the_other_merchant
    audit_rows = AuditEntry.objects.count()
    body = json.dumps({"kind": "full", "reason": "顾客退货"})
    preview = till.post(f"/api/v1/subsidies/redemptions/{sale.pk}/returns/preview", body, "application/json")
    returned = till.post(f"/api/v1/subsidies/redemptions/{sale.pk}/returns", body, "application/json")
    assert (preview.status_code, returned.status_code) == (404, 404)
    assert not Return.objects.exists()
    assert not Clawback.objects.exists()
    assert Redemption.objects.get(pk=sale.pk).returned_fen == 0
    assert AuditEntry.objects.count() == audit_rows


@pytest.mark.parametrize(
    "path",
    ["/api/v1/subsidies/lookup?code=ABCD-EFGH-JKLM&merchant_id={pk}", "/api/v1/subsidies/stores?merchant_id={pk}"],
)
def test_a_token_naming_another_merchant_is_refused(scene, sale_of_the_other_merchant, path):
    _, _, till = sale_of_the_other_merchant
    response = till.get(path.format(pk=scene.personas.merchant.pk))
    assert (response.status_code, response.json()["code"]) == (403, "token_other_organisation")


def test_a_token_registers_no_store_for_another_merchant(scene, sale_of_the_other_merchant):
    _, _, till = sale_of_the_other_merchant
    stores = scene.personas.merchant.stores.count()
    body = {
        "merchant_id": scene.personas.merchant.pk,
        "name": "借道门店",
        "address": "北京市朝阳区某路1号",
        "district": "110105",
    }
    response = till.post("/api/v1/subsidies/stores", json.dumps(body), "application/json")
    assert response.status_code == 403
    assert scene.personas.merchant.stores.count() == stores


@pytest.fixture
def clerk_who_is_a_resident(scene):
    """A verified resident who is also a clerk of the scene's merchant, with a till token of that merchant."""
    from huanxin.accounts.models import Membership, Role

    resident = scene.resident()
    Membership.objects.create(user=resident, role=Role.MERCHANT_CLERK, organisation=scene.personas.merchant)
    return resident, token_client_for(resident, scene.personas.merchant)


def _ledger_state():
    from huanxin.policy.models import BudgetPool
    from huanxin.subsidies.models import ClaimRefusal, Qualification

    return (
        list(BudgetPool.objects.order_by("pk").values_list("available_fen", "held_fen", "spent_fen")),
        Qualification.objects.count(),
        ClaimRefusal.objects.count(),
        AuditEntry.objects.count(),
    )


def test_a_till_token_cannot_claim_for_its_holder_in_person(scene, clerk_who_is_a_resident):
    _, till = clerk_who_is_a_resident
    before = _ledger_state()
    response = till.post(
        "/api/v1/subsidies/qualifications",
        json.dumps({"programme": "cn-appliance-2026", "category": "fridge"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_not_personal"
    assert _ledger_state() == before


def test_a_till_token_neither_sees_nor_cancels_its_holders_own_qualification(scene, clerk_who_is_a_resident):
    from huanxin.subsidies.models import Qualification

    resident, till = clerk_who_is_a_resident
    mine = services.claim_qualification(actor=resident, programme_code="cn-appliance-2026", category="fridge")
    # Signed in as themself, the resident sees it.
    assert [q["id"] for q in api_client_for(resident).get("/api/v1/subsidies/qualifications").json()] == [mine.pk]
    assert till.get("/api/v1/subsidies/qualifications").json() == []
    assert till.get(f"/api/v1/subsidies/qualifications/{mine.pk}").status_code == 404
    assert till.get("/api/v1/subsidies/refusals").status_code == 403
    before = _ledger_state()
    assert till.post(f"/api/v1/subsidies/qualifications/{mine.pk}/cancel").status_code == 404
    assert Qualification.objects.get(pk=mine.pk).status == Qualification.Status.ISSUED
    assert _ledger_state() == before


def test_a_till_token_cannot_verify_or_move_its_holders_identity(scene, clerk_who_is_a_resident):
    from huanxin.accounts.models import Person

    resident, till = clerk_who_is_a_resident
    person = Person.objects.get(user=resident)
    before = (person.district_id, AuditEntry.objects.count())
    response = till.post(
        "/api/v1/accounts/me/district", json.dumps({"district": "110108"}), content_type="application/json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "token_not_personal"
    person.refresh_from_db()
    assert (person.district_id, AuditEntry.objects.count()) == before
