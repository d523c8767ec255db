"""Which organisation a request acts for: a token's own only; a signed-in user's one, or the one chosen."""

import json

import pytest
from django.test import RequestFactory

from huanxin.accounts.models import ApiToken, Membership, OrganisationKind, Role
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import MERCHANT_MANAGERS, MERCHANT_STAFF, TRACE_RECORDERS
from huanxin.conftest import api_client_for, make_member, member_of_two_merchants, token_client_for
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.permissions import confine_to_organisation

pytestmark = pytest.mark.django_db


def session(user):
    request = RequestFactory().get("/")
    request.user = user
    return request


def token_request(user, organisation):
    """A request as TokenAuth leaves it: the holder confined to the token's organisation."""
    request = session(user)
    request.api_token = ApiToken(user=user, organisation=organisation)
    confine_to_organisation(user, organisation.pk)
    return request


def test_a_member_of_one_merchant_acts_for_it_without_naming_it(personas):
    assert acting_organisation(session(personas.clerk), roles=MERCHANT_STAFF) == personas.merchant


def test_a_member_of_two_merchants_names_one_at_an_endpoint_and_gets_the_first_on_a_page(personas):
    user = member_of_two_merchants(personas.other_merchant, personas.merchant)
    with pytest.raises(ValidationFailed) as caught:
        acting_organisation(session(user), roles=MERCHANT_STAFF, field="merchant_id")
    assert caught.value.errors[0].field == "merchant_id"
    named = acting_organisation(session(user), roles=MERCHANT_STAFF, requested=str(personas.other_merchant.pk))
    assert named == personas.other_merchant
    first = min(personas.merchant.pk, personas.other_merchant.pk)
    assert acting_organisation(session(user), roles=MERCHANT_STAFF, first_by_default=True).pk == first
    # A page falls back to the user's first organisation for a choice that is not theirs, as pages always have.
    foreign = acting_organisation(session(user), roles=MERCHANT_STAFF, requested="999999", first_by_default=True)
    assert foreign.pk == first


def test_an_organisation_the_user_holds_no_such_role_in_is_refused(personas):
    with pytest.raises(ForbiddenError):
        acting_organisation(session(personas.clerk), roles=MERCHANT_STAFF, requested=personas.other_merchant.pk)
    with pytest.raises(ForbiddenError):
        acting_organisation(session(personas.clerk), roles=MERCHANT_MANAGERS)
    with pytest.raises(ForbiddenError):
        acting_organisation(session(personas.reviewer), roles=TRACE_RECORDERS, first_by_default=True)


def test_a_token_acts_for_its_organisation_only(personas):
    user = member_of_two_merchants(personas.other_merchant, personas.merchant)
    assert acting_organisation(token_request(user, personas.other_merchant), roles=MERCHANT_STAFF) == (
        personas.other_merchant
    )
    with pytest.raises(ForbiddenError) as caught:
        acting_organisation(
            token_request(user, personas.other_merchant), roles=MERCHANT_STAFF, requested=personas.merchant.pk
        )
    assert caught.value.code == "token_other_organisation"


def test_a_token_whose_holder_lacks_the_role_there_acts_for_nobody(personas):
    # The holder manages the other merchant and is a clerk here: a clerk's token does not manage anything.
    user = make_member(Role.MERCHANT_MANAGER, personas.other_merchant)
    Membership.objects.create(user=user, role=Role.MERCHANT_CLERK, organisation=personas.merchant)
    with pytest.raises(ForbiddenError):
        acting_organisation(token_request(user, personas.merchant), roles=MERCHANT_MANAGERS)


def test_the_kind_of_organisation_is_checked_when_asked(personas):
    with pytest.raises(ForbiddenError) as caught:
        acting_organisation(session(personas.recycler), roles=TRACE_RECORDERS, kinds=(OrganisationKind.MERCHANT,))
    assert caught.value.code == "wrong_organisation_kind"


def test_a_token_issues_no_token_for_another_organisation_and_tells_nothing_of_it(personas):
    user = member_of_two_merchants(personas.other_merchant, personas.merchant)
    token = token_client_for(user, personas.other_merchant)
    tokens = ApiToken.objects.count()
    issued = token.post(
        f"/api/v1/accounts/organisations/{personas.merchant.pk}/tokens",
        json.dumps({"name": "借道令牌"}),
        "application/json",
    )
    assert issued.status_code == 404
    assert ApiToken.objects.count() == tokens
    me = token.get("/api/v1/accounts/me").json()
    assert {m["organisation_id"] for m in me["memberships"]} == {personas.other_merchant.pk}
    listed = token.get("/api/v1/accounts/organisations").json()
    assert [o["id"] for o in listed["items"]] == [personas.other_merchant.pk]


@pytest.mark.parametrize("expires_at", ["1999-01-01T00:00:00+08:00", "2000-01-01T00:00:00"])
def test_a_token_cannot_be_issued_already_expired(personas, expires_at):
    from huanxin.accounts.models import ApiToken
    from huanxin.core.models import AuditEntry

    audits = AuditEntry.objects.count()
    response = api_client_for(personas.admin).post(
        f"/api/v1/accounts/organisations/{personas.merchant.pk}/tokens",
        data={"name": "收银系统", "user_id": personas.clerk.pk, "expires_at": expires_at},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert (response.json()["errors"][0]["field"], response.json()["code"]) == ("expires_at", "expires_in_past")
    assert (ApiToken.objects.count(), AuditEntry.objects.count()) == (0, audits)
