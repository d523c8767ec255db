"""A merchant's token reads its own merchant's payables only, even when its holder manages another merchant."""

import pytest

from huanxin.conftest import api_client_for, member_of_two_merchants, token_client_for
from huanxin.settlement import services
from huanxin.settlement.models import SettlementPeriod
from huanxin.settlement.tests.conftest import DAY1, after, sell

pytestmark = pytest.mark.django_db


def test_a_token_lists_none_of_the_payables_of_another_merchant_its_holder_manages(scene):
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-P1")
    services.ensure_periods(programme=scene.programme, until=DAY1)
    services.close_period(period=SettlementPeriod.objects.get(), now=after(DAY1))
    holder = member_of_two_merchants(scene.personas.other_merchant, scene.personas.merchant)
    till = token_client_for(holder, scene.personas.other_merchant)
    assert till.get("/api/v1/settlement/payables").json() == []
    # Signed in by session, the same manager reads the other merchant's payable: the token is what confines.
    payables = api_client_for(holder).get("/api/v1/settlement/payables").json()
    assert [p["recipient_id"] for p in payables] == [scene.personas.merchant.pk]
