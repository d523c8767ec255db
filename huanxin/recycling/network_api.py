"""Recycling network API: the public finder, and an operator's own sites with their capacity use."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Status

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation
from huanxin.accounts.queries import acting_organisation
from huanxin.core import ratelimit
from huanxin.core.errors import ForbiddenError
from huanxin.core.schemas import QueryInt
from huanxin.recycling import network, network_queries
from huanxin.recycling.domain import network as domain
from huanxin.recycling.network_models import NetworkSite
from huanxin.recycling.network_schemas import (
    NetworkSiteActiveIn,
    NetworkSiteFilter,
    NetworkSiteIn,
    NetworkSiteMineFilter,
    NetworkSiteOut,
    NetworkSitePublicOut,
)

router = Router(tags=["回收网络"])


def _operator(request: HttpRequest, organisation_id: int | None) -> Organisation:
    return acting_organisation(
        request,
        roles=network_queries.NETWORK_ROLES,
        kinds=network_queries.NETWORK_KINDS,
        requested=organisation_id,
        refusal=ForbiddenError(network_queries.STAFF_REFUSED, code="network_forbidden"),
    )


def public_out(site: NetworkSite) -> dict[str, Any]:
    names = domain.accepted_categories()
    return {
        "id": site.pk,
        "kind": site.kind,
        "kind_name": site.get_kind_display(),
        "name": site.name,
        "organisation_name": site.organisation.name,
        "district": site.district_id,
        "district_name": site.district.name,
        "address": site.address,
        "opening_hours": site.opening_hours,
        "categories": list(site.categories),
        "category_names": [names.get(c, c) for c in site.categories],
        "licence_number": site.licence.number,
        "licence_valid_until": f"{site.licence.valid_until:%Y-%m-%d}" if site.licence.valid_until else None,
    }


def site_out(site: NetworkSite, use: network_queries.CapacityUse) -> NetworkSiteOut:
    refusal = network.receive_refusal(site, timezone.localdate())
    return NetworkSiteOut(
        **public_out(site),
        organisation_id=site.organisation_id,
        active=site.active,
        may_receive_today=refusal is None,
        refusal=refusal or "",
        capacity_per_month=site.capacity_per_month,
        received_this_month=use.received,
        shared_by=use.shared_by,
        organisation_capacity=use.organisation_capacity,
    )


@router.get(
    "/sites",
    response=list[NetworkSitePublicOut],
    auth=None,
    summary="查找回收网点、绿色分拣中心和拆解处理厂（公开；按区和品类；只列今天可以接收的站点）",
    openapi_extra={"x-problems": [429]},
)
def find_sites(request: HttpRequest, filters: Query[NetworkSiteFilter]) -> Any:
    network.count_finder_lookup(ratelimit.client_ip(request))
    return [public_out(s) for s in network_queries.find_sites(filters.district, filters.category)]


@router.get("/my-sites", response=list[NetworkSiteOut], summary="本企业的回收网络站点及本月处理能力使用")
def my_sites(request: HttpRequest, filters: Query[NetworkSiteMineFilter]) -> Any:
    sites = list(network_queries.sites_of(_operator(request, filters.organisation_id)))
    use = network_queries.capacity_use(sites)
    return [site_out(s, use[s.pk]) for s in sites]


@router.post(
    "/my-sites",
    response={201: NetworkSiteOut},
    summary="登记本企业的站点（回收企业：回收网点、绿色分拣中心；拆解企业：拆解处理厂、绿色分拣中心）",
    description="站点依据本企业的一项资质证书接收，证书须今天在有效期内；证书过期后站点不能接收。",
)
def register_site(request: HttpRequest, payload: NetworkSiteIn) -> Any:
    organisation = _operator(request, payload.organisation_id)
    site = network.register_site(
        actor=current_user(request),
        organisation=organisation,
        kind=payload.kind,
        name=payload.name,
        district_code=payload.district,
        address=payload.address,
        opening_hours=payload.opening_hours,
        categories=payload.categories,
        capacity_per_month=payload.capacity_per_month,
        licence_id=payload.licence_id,
    )
    site = network_queries.sites_of(organisation).get(pk=site.pk)
    return Status(201, site_out(site, network_queries.capacity_use([site])[site.pk]))


@router.post("/my-sites/{int:site_id}/active", response=NetworkSiteOut, summary="启用或停用本企业的站点")
def set_active(request: HttpRequest, site_id: QueryInt, payload: NetworkSiteActiveIn) -> Any:
    organisation = _operator(request, payload.organisation_id)
    network.set_site_active(
        actor=current_user(request), organisation=organisation, site_id=site_id, active=payload.active
    )
    site = network_queries.sites_of(organisation).get(pk=site_id)
    return site_out(site, network_queries.capacity_use([site])[site.pk])
