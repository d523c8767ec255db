"""Role-aware navigation: each entry names the roles that see it (empty: everyone signed in or not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from huanxin.accounts.models import GOVERNMENT_ROLES
from huanxin.core.permissions import has_role


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    roles: tuple[str, ...] = ()


NAV_ITEMS: list[NavItem] = [
    NavItem("首页", "web:home"),
    NavItem("补贴政策", "policy:programmes"),
    NavItem("产品目录", "catalogue:products"),
    NavItem("旧机核验", "trace:verify_search"),
    NavItem("项目与预算", "policy:staff_programmes", roles=GOVERNMENT_ROLES),
    NavItem("行动方案", "policy:measures", roles=GOVERNMENT_ROLES),
    NavItem("我的补贴", "subsidies:mine", roles=("consumer",)),
    NavItem("商户工作台", "subsidies:merchant_home", roles=("merchant_clerk", "merchant_manager")),
    NavItem("资金看板", "subsidies:board", roles=("reviewer", "auditor", "administrator")),
    NavItem("暂扣复核", "subsidies:holds", roles=("reviewer", "auditor", "administrator")),
    NavItem("结算单", "settlement:statement", roles=("merchant_manager",)),
    NavItem("旧机追溯", "trace:workspace", roles=("merchant_clerk", "merchant_manager", "recycler", "dismantler")),
    NavItem("追溯监管", "trace:staff", roles=("reviewer", "auditor", "administrator")),
    NavItem("清算支付", "settlement:board", roles=("finance_officer", "auditor", "administrator")),
    NavItem(
        "机构",
        "accounts:organisations",
        roles=("reviewer", "auditor", "administrator", "merchant_manager", "recycler", "dismantler", "finance_officer"),
    ),
    NavItem("审计日志", "core:audit", roles=("auditor", "administrator", "reviewer")),
]


def items_for(user: Any) -> list[dict[str, str]]:
    """The entries this user should see, resolved to URLs (entries of apps not installed are skipped)."""
    visible = []
    for item in NAV_ITEMS:
        if item.roles and not has_role(user, *item.roles):
            continue
        try:
            visible.append({"label": item.label, "url": reverse(item.url_name), "name": item.url_name})
        except NoReverseMatch:
            continue
    return visible
