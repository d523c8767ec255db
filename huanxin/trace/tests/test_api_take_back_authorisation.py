"""Commissioning a take-back is authorised before anything about the item is read or answered."""

from __future__ import annotations

import pytest

from huanxin.accounts.models import Role
from huanxin.conftest import api_client_for, make_member
from huanxin.core.models import AuditEntry
from huanxin.trace import services
from huanxin.trace.models import TraceItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def take_back(chain):
    from huanxin.subsidies import services as subsidies
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(chain.personas)
    qualification = subsidies.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    return subsidies.redeem(
        actor=chain.clerk,
        merchant=chain.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial="SN-TB-AUTH",
        price_fen=400_000,
        take_back=subsidies.TakeBackInput(category="fridge", condition="damaged"),
    ).redemption.take_back


def test_another_merchants_clerk_cannot_read_the_code_of_a_commissioned_take_back(chain, take_back):
    item = services.commission_take_back(actor=chain.clerk, take_back=take_back)
    outsider = make_member(Role.MERCHANT_CLERK, chain.personas.other_merchant)
    audits = AuditEntry.objects.count()
    response = api_client_for(outsider).post(f"/api/v1/trace/take-backs/{take_back.pk}/commission")
    assert response.status_code == 404
    assert response.json()["code"] == "take_back_not_found"
    assert item.code not in response.content.decode()
    assert AuditEntry.objects.count() == audits


def test_another_merchants_clerk_cannot_commission_a_take_back(chain, take_back):
    outsider = make_member(Role.MERCHANT_CLERK, chain.personas.other_merchant)
    audits = AuditEntry.objects.count()
    response = api_client_for(outsider).post(f"/api/v1/trace/take-backs/{take_back.pk}/commission")
    assert response.status_code == 404
    assert not TraceItem.objects.filter(take_back=take_back).exists()
    assert AuditEntry.objects.count() == audits


def test_the_service_refuses_a_non_member_even_once_the_item_has_its_code(chain, take_back):
    from huanxin.core.errors import ForbiddenError

    services.commission_take_back(actor=chain.clerk, take_back=take_back)
    with pytest.raises(ForbiddenError):
        services.commission_take_back(actor=chain.recycler_user, take_back=take_back)


def test_the_merchants_own_clerk_commissions_through_the_api(chain, take_back):
    response = api_client_for(chain.clerk).post(f"/api/v1/trace/take-backs/{take_back.pk}/commission")
    assert response.status_code == 200
    assert response.json()["code"] == TraceItem.objects.get(take_back=take_back).code
