"""The read side of the recycling network: whose sites a user manages, the public finder, and capacity use."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.accounts.roles import Role
from huanxin.core.permissions import organisations_for
from huanxin.recycling.domain import network as domain
from huanxin.recycling.network_models import NetworkSite
from huanxin.trace.models import ChainLink

NETWORK_ROLES = (Role.RECYCLER, Role.DISMANTLER)
NETWORK_KINDS = (OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER)
STAFF_REFUSED = "只有回收企业或拆解企业的人员可以管理本企业的回收网络站点"
FINDER_LIMIT = 200


def operators_of(user: Any) -> QuerySet[Organisation]:
    """The recyclers and dismantlers the user works for, whose sites they manage, by id."""
    ids = organisations_for(user, *NETWORK_ROLES)
    return Organisation.objects.filter(pk__in=ids, kind__in=NETWORK_KINDS).order_by("pk")


def sites_of(organisation: Organisation) -> QuerySet[NetworkSite]:
    return (
        NetworkSite.objects.filter(organisation=organisation)
        .select_related("district", "licence", "organisation")
        .order_by("name", "pk")
    )


def receiving_on(day: datetime.date) -> Q:
    """Sites that may receive items on ``day``: enabled, their licence in force that day."""
    return (
        Q(active=True)
        & Q(licence__valid_from__lte=day)
        & (Q(licence__valid_until__isnull=True) | Q(licence__valid_until__gte=day))
    )


def find_sites(district_code: str = "", category: str = "", day: datetime.date | None = None) -> list[NetworkSite]:
    """The public finder: the sites that may receive today, in a district and accepting a category (either may be
    left out), as a list (no map service needed)."""
    found = (
        NetworkSite.objects.filter(receiving_on(day or timezone.localdate()))
        .select_related("district", "organisation", "licence")
        .order_by("district_id", "name", "pk")
    )
    if district_code:
        found = found.filter(district_id=district_code)
    # Categories are a short JSON list; filtered here so the finder reads the same on SQLite and PostgreSQL.
    sites = [s for s in found[: FINDER_LIMIT * 4] if not category or category in s.categories]
    return sites[:FINDER_LIMIT]


@dataclass(frozen=True)
class CapacityUse:
    """Units an organisation took into custody in a month, against a site's monthly capacity. Trace events name
    the organisation, not the site, so an organisation with several sites has its count shown against each
    (``shared_by`` says how many sites share it) next to the capacity of them all (``organisation_capacity``)."""

    received: int
    capacity: int
    shared_by: int
    organisation_capacity: int

    @property
    def percent(self) -> int:
        return self.received * 100 // self.organisation_capacity if self.organisation_capacity else 0


def capacity_use(sites: Iterable[NetworkSite], day: datetime.date | None = None) -> dict[int, CapacityUse]:
    """Capacity use of each site in ``day``'s month: distinct items its organisation collected, received or
    unloaded (trace's custody events) that month."""
    sites = list(sites)
    first, following = domain.month_bounds(day or timezone.localdate())
    org_ids = {s.organisation_id for s in sites}
    received = dict(
        ChainLink.objects.filter(
            event__organisation_id__in=org_ids,
            event__kind__in=domain.RECEIVING_KINDS,
            event__event_time__date__gte=first,
            event__event_time__date__lt=following,
        )
        .values("event__organisation_id")
        .annotate(n=Count("item_id", distinct=True))
        .values_list("event__organisation_id", "n")
    )
    totals: dict[int, tuple[int, int]] = {}
    for org_id, capacity in NetworkSite.objects.filter(organisation_id__in=org_ids, active=True).values_list(
        "organisation_id", "capacity_per_month"
    ):
        count, total = totals.get(org_id, (0, 0))
        totals[org_id] = (count + 1, total + capacity)
    use = {}
    for site in sites:
        count, total = totals.get(site.organisation_id, (1, site.capacity_per_month))
        use[site.pk] = CapacityUse(
            received=received.get(site.organisation_id, 0),
            capacity=site.capacity_per_month,
            shared_by=max(count, 1),
            organisation_capacity=total or site.capacity_per_month,
        )
    return use
