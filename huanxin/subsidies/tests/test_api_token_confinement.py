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
