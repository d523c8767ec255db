"""The write side of the recycling network: an operator registers its sites and enables or disables them; and the
check every receipt at a site goes through (``site_may_receive``)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import District, Licence, Organisation, User
from huanxin.accounts.services import TryAgainLater
from huanxin.core import audit, ratelimit
from huanxin.core.errors import FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.recycling import network_queries as queries
from huanxin.recycling.domain import network as domain
from huanxin.recycling.network_models import NetworkSite

KIND_LABELS = dict(NetworkSite.Kind.choices)


def site_may_receive(site: NetworkSite, day: datetime.date) -> bool:
    """Whether ``site`` may take items in on ``day``: it is enabled and the licence it receives under is in force
    that day. An expired licence stops the site; renewing it (a new licence row, the site re-registered under
    it) or extending the row's validity lets it receive again."""
    return receive_refusal(site, day) is None


def receive_refusal(site: NetworkSite, day: datetime.date) -> str | None:
    """Why ``site`` may not receive on ``day`` (in Chinese), or None when it may."""
    if not site.active:
        return f"站点“{site.name}”已停用，不能接收"
    licence = site.licence
    if not domain.licence_valid_on(licence.valid_from, licence.valid_until, day):
        return f"站点“{site.name}”的资质证书 {licence.number} 在 {day:%Y-%m-%d} 不在有效期内，不能接收"
    return None


def _check_operator(actor: User, organisation: Organisation) -> None:
    if organisation not in queries.operators_of(actor):
        raise ForbiddenError(queries.STAFF_REFUSED, code="network_forbidden")


def register_site(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    name: str,
    district_code: str,
    address: str,
    opening_hours: str,
    categories: Sequence[str],
    capacity_per_month: int,
    licence_id: int | None,
) -> NetworkSite:
    """Register a site of ``organisation``, receiving under one of its own licences, in force today. Every field
    is checked and all the faults are reported together; a refusal writes nothing."""
    _check_operator(actor, organisation)
    today = timezone.localdate()
    errors: list[FieldError] = []
    name, address, opening_hours = name.strip(), address.strip(), opening_hours.strip()
    if kind not in domain.SITE_ORGANISATION_KINDS:
        errors.append(FieldError("kind", "unknown_site_kind", "站点类型只能是回收网点、绿色分拣中心或拆解处理厂"))
    elif organisation.kind not in domain.SITE_ORGANISATION_KINDS[kind]:
        errors.append(
            FieldError("kind", "site_kind_not_allowed", f"{organisation.get_kind_display()}不能设立{KIND_LABELS[kind]}")
        )
    if not name:
        errors.append(FieldError("name", "required", "请填写站点名称"))
    district = District.objects.filter(pk=district_code).first() if district_code else None
    if district is None:
        errors.append(FieldError("district", "unknown_district", "请选择站点所在区"))
    if not address:
        errors.append(FieldError("address", "required", "请填写站点地址"))
    if not opening_hours:
        errors.append(FieldError("opening_hours", "required", "请填写营业时间"))
    known = domain.accepted_categories()
    unknown = [c for c in categories if c not in known]
    if not categories:
        errors.append(FieldError("categories", "required", "请至少选择一个接收品类"))
    elif unknown:
        errors.append(FieldError("categories", "unknown_category", f"未知品类：{'、'.join(unknown)}"))
    elif len(set(categories)) != len(categories):
        errors.append(FieldError("categories", "duplicate_category", "接收品类有重复"))
    if not 0 < capacity_per_month <= domain.MAX_CAPACITY:
        errors.append(FieldError("capacity_per_month", "capacity_out_of_range", "处理能力应为 1 至 10,000,000 台/月"))
    licence = Licence.objects.filter(pk=licence_id, organisation=organisation).first() if licence_id else None
    if licence is None:
        errors.append(FieldError("licence_id", "unknown_licence", "请选择本企业的一项资质证书"))
    elif kind in domain.SITE_LICENCE_KINDS and licence.kind not in domain.SITE_LICENCE_KINDS[kind]:
        wanted = "或".join(Licence.Kind(k).label for k in sorted(domain.SITE_LICENCE_KINDS[kind]))
        errors.append(FieldError("licence_id", "licence_kind_mismatch", f"{KIND_LABELS[kind]}须持有{wanted}"))
    elif not domain.licence_valid_on(licence.valid_from, licence.valid_until, today):
        errors.append(FieldError("licence_id", "licence_not_in_force", f"资质证书 {licence.number} 今天不在有效期内"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    assert district is not None
    assert licence is not None
    try:
        with transaction.atomic():
            site = NetworkSite.objects.create(
                organisation=organisation,
                kind=kind,
                name=name,
                district=district,
                address=address,
                opening_hours=opening_hours,
                categories=list(categories),
                capacity_per_month=capacity_per_month,
                licence=licence,
                created_by=actor,
            )
            audit.record(
                actor=actor,
                action="recycling.site_registered",
                target=site,
                after={
                    "kind": kind,
                    "name": name,
                    "district": district.pk,
                    "categories": list(categories),
                    "capacity_per_month": capacity_per_month,
                    "licence": licence.number,
                },
                organisation_id=organisation.pk,
                district_code=district.pk,
            )
    except IntegrityError:
        raise ValidationFailed.for_field("name", "duplicate_site_name", "本企业已有同名站点") from None
    return site


def set_site_active(*, actor: User, organisation: Organisation, site_id: int, active: bool) -> NetworkSite:
    """Enable or disable one of the organisation's own sites; a site of another organisation is not found."""
    _check_operator(actor, organisation)
    with transaction.atomic():
        site = NetworkSite.objects.select_for_update().filter(pk=site_id, organisation=organisation).first()
        if site is None:
            raise NotFoundError("没有这个站点", code="site_not_found")
        if site.active != active:
            before = site.active
            NetworkSite.objects.filter(pk=site.pk).update(active=active)
            site.active = active
            audit.record(
                actor=actor,
                action="recycling.site_enabled" if active else "recycling.site_disabled",
                target=site,
                before={"active": before},
                after={"active": active},
                organisation_id=organisation.pk,
                district_code=site.district_id,
            )
    return site


def count_finder_lookup(client_ip: str) -> None:
    """Count one look-up on the public finder from ``client_ip``; refused (429) past
    ``HUANXIN_PUBLIC_CHECKS_PER_HOUR`` in an hour, as the public certificate check is."""
    limit = int(settings.HUANXIN_PUBLIC_CHECKS_PER_HOUR)
    bucket = f"recycling:site-finder:{client_ip}"
    if ratelimit.hit(bucket, limit=limit, window_seconds=3600):
        return
    wait = ratelimit.retry_after(bucket, limit=limit)
    raise TryAgainLater(
        f"查询次数过多，请 {max(1, -(-wait // 60))} 分钟后再试", code="site_finder_limited", retry_after=wait
    )
