"""The one vocabulary of roles, organisation kinds and role groups, and the kernel's copy of it."""

import re

import pytest

from huanxin.accounts import roles
from huanxin.accounts.roles import ROLES_BY_KIND, OrganisationKind, Role
from huanxin.core.permissions import kernel_roles

GROUPS = {
    name: value
    for name, value in vars(roles).items()
    if name.isupper() and isinstance(value, tuple) and all(isinstance(member, Role) for member in value)
}
CHINESE = re.compile(r"^[\u4e00-\u9fff（）]+$")


def test_every_group_is_a_tuple_of_roles_without_repeats():
    assert len(GROUPS) >= 15
    for name, group in GROUPS.items():
        assert group, name
        assert len(set(group)) == len(group), name


def test_every_kind_admits_roles_and_every_role_but_the_consumers_has_a_kind():
    assert set(ROLES_BY_KIND) == set(OrganisationKind.values)
    admitted = set().union(*ROLES_BY_KIND.values())
    assert admitted == set(Role.values) - {Role.CONSUMER}


def test_the_next_capabilities_have_their_kinds_and_roles_with_chinese_labels():
    assert {"car_dealer", "declaring_enterprise", "public_institution", "second_hand_dealer", "inspection_body"} <= set(
        OrganisationKind.values
    )
    assert {"car_dealer", "declarant", "second_hand_dealer", "inspection_staff", "supervisor"} <= set(Role.values)
    for label in [*OrganisationKind.labels, *Role.labels]:
        assert CHINESE.match(str(label)), label


def test_the_kernel_checks_the_groups_accounts_defines():
    kernel = kernel_roles()
    assert kernel.superuser == Role.ADMINISTRATOR
    assert kernel.audit_whole_log == roles.AUDIT_WHOLE_LOG
    assert kernel.audit_by_district == roles.AUDIT_BY_DISTRICT
    assert kernel.audit_by_organisation == roles.AUDIT_BY_ORGANISATION
    assert kernel.audit_page == roles.AUDIT_PAGE


@pytest.mark.parametrize(
    ("role", "group", "member"),
    [
        # A finance officer pays merchants and holds budgets; it does not oversee residents or their claims.
        (Role.FINANCE_OFFICER, roles.OVERSIGHT_STAFF, False),
        (Role.FINANCE_OFFICER, roles.AUDIT_BY_DISTRICT, False),
        (Role.FINANCE_OFFICER, roles.BUDGET_HOLDERS, True),
        (Role.FINANCE_OFFICER, roles.FINANCE_READERS, True),
        # A clerk sells; what the merchant is owed is its manager's business.
        (Role.MERCHANT_CLERK, roles.MERCHANT_MANAGERS, False),
        (Role.MERCHANT_CLERK, roles.AUDIT_BY_ORGANISATION, False),
        (Role.SUPERVISOR, roles.OVERSIGHT_STAFF, True),
        (Role.SUPERVISOR, roles.RULE_EDITORS, False),
    ],
)
def test_each_role_is_given_what_it_needs_and_no_more(role, group, member):
    assert (role in group) is member
