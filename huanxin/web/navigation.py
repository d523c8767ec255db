"""Role-aware navigation: each entry names the group of roles its page lets in (empty: everyone signed in
or not), so that nobody is offered a page that refuses them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from huanxin.accounts.roles import (
    AUDIT_PAGE,
    BUDGET_WATCHERS,
    FINANCE_READERS,
    GOVERNMENT_STAFF,
    MERCHANT_MANAGERS,
    MERCHANT_STAFF,
    ORGANISATION_MEMBERS,
    OVERSIGHT_STAFF,
    REVERSE_INVOICE_ISSUERS,
    TRACE_RECORDERS,
    TRUCK_APPLICANTS,
    VEHICLE_REGISTRY_READERS,
    VEHICLE_SCRAPPING_STAFF,
    OrganisationKind,
    Role,
)
from huanxin.core.permissions import has_role, organisations_for


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...] = ()
    # When set, the roles count only in an organisation of one of these kinds (a dismantler's staff of a
    # vehicle-scrapping enterprise, not of an appliance dismantler).
    organisation_kinds: tuple[str, ...] = ()


def _allowed(user: Any, item: NavItem) -> bool:
    if not item.roles:
        return True
    if not has_role(user, *item.roles):
        return False
    if not item.organisation_kinds:
        return True
    from huanxin.accounts.models import Organisation

    ids = organisations_for(user, *item.roles)
    return Organisation.objects.filter(pk__in=ids, kind__in=item.organisation_kinds).exists()


NAV_ITEMS: list[NavItem] = [
    NavItem("首页", "web:home"),
    NavItem("补贴政策", "policy:programmes"),
    NavItem("产品目录", "catalogue:products"),
    NavItem("旧机核验", "trace:verify_search"),
    NavItem("项目与预算", "policy:staff_programmes", roles=GOVERNMENT_STAFF),
    NavItem("行动方案", "policy:measures", roles=GOVERNMENT_STAFF),
    NavItem("我的补贴", "subsidies:mine", roles=(Role.CONSUMER,)),
    NavItem("商户工作台", "subsidies:merchant_home", roles=MERCHANT_STAFF),
    NavItem("资金看板", "subsidies:board", roles=BUDGET_WATCHERS),
    NavItem("暂扣复核", "subsidies:holds", roles=OVERSIGHT_STAFF),
    NavItem("结算单", "settlement:statement", roles=MERCHANT_MANAGERS),
    NavItem("旧机追溯", "trace:workspace", roles=TRACE_RECORDERS),
    NavItem("追溯监管", "trace:staff", roles=OVERSIGHT_STAFF),
    NavItem("机动车", "vehicles:search", roles=VEHICLE_REGISTRY_READERS),
    NavItem(
        "报废车回收",
        "vehicles:certificates",
        roles=VEHICLE_SCRAPPING_STAFF,
        organisation_kinds=(OrganisationKind.VEHICLE_SCRAPPER,),
    ),
    NavItem(
        "营运货车更新",
        "vehicles:truck_applications",
        roles=TRUCK_APPLICANTS,
        organisation_kinds=(OrganisationKind.DECLARING_ENTERPRISE,),
    ),
    NavItem(
        "反向开票",
        "recycling:invoices",
        roles=REVERSE_INVOICE_ISSUERS,
        organisation_kinds=(OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER),
    ),
    NavItem("我的反向发票", "recycling:mine", roles=(Role.CONSUMER,)),
    NavItem(
        "回收站点",
        "recycling:network_sites",
        roles=(Role.RECYCLER, Role.DISMANTLER),
        organisation_kinds=(OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER),
    ),
    NavItem("清算支付", "settlement:board", roles=FINANCE_READERS),
    NavItem("机构", "accounts:organisations", roles=(*GOVERNMENT_STAFF, *ORGANISATION_MEMBERS)),
    NavItem("审计日志", "core:audit", roles=AUDIT_PAGE),
]


def items_for(user: Any) -> list[dict[str, str]]:
    """The entries this user should see, resolved to URLs (entries of apps not installed are skipped)."""
    visible = []
    for item in NAV_ITEMS:
        if not _allowed(user, item):
            continue
        try:
            visible.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
        except NoReverseMatch:
            continue
    return visible
