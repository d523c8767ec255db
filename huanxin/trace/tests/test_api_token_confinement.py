"""A token records and reads for its own organisation only, even when its holder works for another one."""

import json

import pytest
from django.utils import timezone

from huanxin.conftest import api_client_for, member_of_two_merchants, token_client_for
from huanxin.trace import services
from huanxin.trace.models import TraceEvent, TraceItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item_of_the_other_merchant(chain):
    """An old item the chain's merchant holds, and a token of another merchant whose holder also works there."""
    code = services.new_code()
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=services.EventInput("commission", [code], timezone.now(), category="tv"),
    )
    holder = member_of_two_merchants(chain.personas.other_merchant, chain.merchant)
    return code, holder, token_client_for(holder, chain.personas.other_merchant)


def test_a_token_lists_none_of_the_items_of_another_organisation_its_holder_works_for(
    chain, item_of_the_other_merchant
):
    code, holder, token = item_of_the_other_merchant
    assert token.get("/api/v1/trace/items").json() == []
    named = token.get(f"/api/v1/trace/items?organisation_id={chain.merchant.pk}")
    assert (named.status_code, named.json()["code"]) == (403, "token_other_organisation")
    # Signed in by session and naming it, the same person reads the other merchant's items.
    mine = api_client_for(holder).get(f"/api/v1/trace/items?organisation_id={chain.merchant.pk}").json()
    assert [i["code"] for i in mine] == [code]


def test_a_token_records_no_event_for_another_organisation(chain, item_of_the_other_merchant):
    code, _, token = item_of_the_other_merchant
    body = {
        "organisation_id": chain.merchant.pk,
        "events": [{"kind": "ship", "codes": [code], "event_time": timezone.now().isoformat(),
                    "destination_uscc": chain.recycler.uscc}],
    }  # fmt: skip
    response = token.post("/api/v1/trace/events/batch", json.dumps(body), "application/json")
    assert (response.status_code, response.json()["code"]) == (403, "token_other_organisation")
    assert TraceEvent.objects.count() == 1
    assert TraceItem.objects.get(code=code).holder_id == chain.merchant.pk
