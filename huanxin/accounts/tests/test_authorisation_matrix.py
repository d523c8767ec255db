"""Who sees which organisations, residents and audit rows: one row per persona."""

import pytest
from django.db import transaction

from huanxin.accounts.models import Organisation, Person
from huanxin.conftest import client_for
from huanxin.core import audit
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _names(queryset):
    return {str(o.name) for o in queryset}


ALL_ORGANISATIONS = {"市商务局", "朝阳区商务局", "朝阳家电", "海淀数码", "通州回收", "大兴拆解"}
ORGANISATION_MATRIX = {
    "consumer": set(),
    "clerk": {"朝阳家电"},
    "manager": {"朝阳家电"},
    "recycler": {"通州回收"},
    "dismantler": {"大兴拆解"},
    "reviewer": ALL_ORGANISATIONS,
    "district_reviewer": {"朝阳区商务局", "朝阳家电"},
    "finance": ALL_ORGANISATIONS,
    "auditor": ALL_ORGANISATIONS,
    "admin": ALL_ORGANISATIONS,
    "outsider": set(),
}


@pytest.mark.parametrize(("persona", "expected"), ORGANISATION_MATRIX.items())
def test_organisations_visible_to_each_role(personas, persona, expected):
    user = getattr(personas, persona)
    assert _names(Organisation.objects.visible_to(user)) == expected


PERSON_MATRIX = {
    "consumer": {"consumer_person"},
    "other_consumer": {"other_person"},
    "clerk": set(),
    "manager": set(),
    "recycler": set(),
    "reviewer": {"consumer_person", "other_person"},
    "district_reviewer": {"consumer_person"},
    "finance": set(),
    "auditor": {"consumer_person", "other_person"},
    "admin": {"consumer_person", "other_person"},
    "outsider": set(),
}


@pytest.mark.parametrize(("persona", "expected"), PERSON_MATRIX.items())
def test_residents_visible_to_each_role(personas, persona, expected):
    user = getattr(personas, persona)
    visible = set(Person.objects.visible_to(user).values_list("pk", flat=True))
    assert visible == {getattr(personas, name).pk for name in expected}


def test_audit_rows_visible_to_each_role(personas):
    with transaction.atomic():
        in_chaoyang = audit.record(
            actor=personas.admin,
            action="t.a",
            target=personas.merchant,
            organisation_id=personas.merchant.pk,
            district_code="110105",
        )
        in_haidian = audit.record(
            actor=personas.admin,
            action="t.b",
            target=personas.other_merchant,
            organisation_id=personas.other_merchant.pk,
            district_code="110108",
        )
        own = audit.record(actor=personas.consumer, action="t.c", target=personas.consumer_person)
    expected = {
        "auditor": {in_chaoyang, in_haidian, own},
        "admin": {in_chaoyang, in_haidian, own},
        "reviewer": {in_chaoyang, in_haidian, own},
        "district_reviewer": {in_chaoyang},
        # A finance officer reads its own actions, not the trail of a district it does not review.
        "finance": set(),
        "manager": {in_chaoyang},
        "clerk": set(),
        "consumer": {own},
        "other_consumer": set(),
        "outsider": set(),
    }
    for persona, rows in expected.items():
        visible = set(AuditEntry.objects.visible_to(getattr(personas, persona)))
        assert visible == rows, persona


PAGE_MATRIX = {
    "/accounts/organisations/": {"consumer": 403, "clerk": 200, "reviewer": 200, "auditor": 200, "outsider": 403},
    "/oversight/audit/": {"consumer": 403, "clerk": 403, "reviewer": 200, "auditor": 200, "admin": 200, "finance": 403},
    "/accounts/organisations/new/": {"admin": 200, "reviewer": 403, "manager": 403},
}


@pytest.mark.parametrize(
    ("path", "persona", "status"),
    [(path, persona, status) for path, row in PAGE_MATRIX.items() for persona, status in row.items()],
)
def test_staff_pages_by_role(personas, path, persona, status):
    assert client_for(getattr(personas, persona)).get(path).status_code == status


def test_another_merchants_organisation_page_is_not_found_for_a_clerk(personas):
    response = client_for(personas.clerk).get(f"/accounts/organisations/{personas.other_merchant.pk}/")
    assert response.status_code == 404


def test_a_banks_finance_officer_is_a_member_of_the_bank_and_holds_no_public_authority(personas):
    from huanxin.accounts.models import OrganisationKind, Role
    from huanxin.accounts.roles import FINANCE_OFFICERS, GOVERNMENT_STAFF, ORGANISATION_MEMBERS
    from huanxin.conftest import make_member, make_organisation
    from huanxin.core.permissions import districts_for, has_role, organisations_for

    bank = make_organisation(OrganisationKind.BANK, "110102", name="演示银行")
    officer = make_member(Role.FINANCE_OFFICER, bank)
    assert not has_role(officer, *FINANCE_OFFICERS)
    assert districts_for(officer, *GOVERNMENT_STAFF) == set()
    assert organisations_for(officer, *ORGANISATION_MEMBERS) == {bank.pk}
    assert _names(Organisation.objects.visible_to(officer)) == {"演示银行"}
    assert client_for(officer).get("/accounts/organisations/").status_code == 200
    assert client_for(officer).get("/finance/batches/").status_code == 403
    # The same role in a government organisation carries it.
    assert has_role(personas.finance, *FINANCE_OFFICERS)
