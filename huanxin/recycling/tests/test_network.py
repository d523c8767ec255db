"""The recycling network: registering sites, the licence that lets a site receive, the public finder and
capacity use."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.utils import timezone

from huanxin.accounts.models import Licence, OrganisationKind, Role
from huanxin.conftest import client_for, token_client_for
from huanxin.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.recycling import network, network_queries
from huanxin.recycling.models import NetworkSite
from huanxin.recycling.tests.factories import qualified_recycler
from huanxin.trace import services as trace_services

pytestmark = pytest.mark.django_db

MY_SITES = "/api/v1/recycling/network/my-sites"
FINDER = "/api/v1/recycling/network/sites"


def licence_of(organisation, kind=Licence.Kind.RENEWABLE_RECYCLING):
    return Licence.objects.get(organisation=organisation, kind=kind)


def register(staff, organisation, **overrides):
    fields: dict[str, Any] = {
        "kind": "collection_point",
        "name": "朝阳一号回收网点",
        "district_code": "110105",
        "address": "朝阳路1号",
        "opening_hours": "周一至周六 8:30-17:30",
        "categories": ["tv", "fridge"],
        "capacity_per_month": 200,
    }
    fields.update(overrides)
    if "licence_id" not in fields:
        fields["licence_id"] = licence_of(organisation).pk
    return network.register_site(actor=staff, organisation=organisation, **fields)


def site_audits():
    return AuditEntry.objects.filter(action__startswith="recycling.site_")


def test_a_recycler_registers_a_site_under_its_own_licence_with_an_audit_row(personas):
    organisation, staff = qualified_recycler()
    site = register(staff, organisation)
    assert site.organisation == organisation
    assert site.licence == licence_of(organisation)
    assert network.site_may_receive(site, timezone.localdate())
    [entry] = site_audits()
    assert entry.action == "recycling.site_registered"
    assert entry.organisation_id == organisation.pk


def test_staff_of_another_organisation_are_refused_and_nothing_is_written(personas):
    organisation, _ = qualified_recycler()
    _, outsider = qualified_recycler()
    with pytest.raises(ForbiddenError):
        register(outsider, organisation)
    assert not NetworkSite.objects.exists()
    assert not site_audits().exists()


def test_every_faulty_field_is_reported_with_its_code_and_nothing_is_written(personas):
    organisation, staff = qualified_recycler()
    other, _ = qualified_recycler()
    with pytest.raises(ValidationFailed) as refused:
        register(
            staff,
            organisation,
            kind="dismantling_plant",
            name=" ",
            district_code="999999",
            address="",
            opening_hours="",
            categories=["tv", "spaceship"],
            capacity_per_month=0,
            licence_id=licence_of(other).pk,
        )
    codes = {e.field: e.code for e in refused.value.errors}
    assert codes == {
        "kind": "site_kind_not_allowed",
        "name": "required",
        "district": "unknown_district",
        "address": "required",
        "opening_hours": "required",
        "categories": "unknown_category",
        "capacity_per_month": "capacity_out_of_range",
        "licence_id": "unknown_licence",
    }
    assert all(e.message for e in refused.value.errors)
    assert not NetworkSite.objects.exists()
    assert not site_audits().exists()


def test_a_licence_of_the_wrong_kind_or_already_expired_is_refused(personas):
    organisation, staff = qualified_recycler(valid_until=timezone.localdate() - datetime.timedelta(days=1))
    with pytest.raises(ValidationFailed) as expired:
        register(staff, organisation)
    assert expired.value.errors[0].code == "licence_not_in_force"
    with pytest.raises(ValidationFailed) as wrong:
        register(staff, organisation, licence_id=licence_of(organisation, Licence.Kind.BUSINESS).pk)
    assert wrong.value.errors[0].code == "licence_kind_mismatch"
    assert not NetworkSite.objects.exists()


def test_a_dismantler_registers_a_dismantling_plant_under_its_weee_licence(personas):
    organisation, staff = qualified_recycler(
        kinds=(Licence.Kind.WEEE_DISMANTLING,), organisation_kind=OrganisationKind.DISMANTLER, role=Role.DISMANTLER
    )
    site = register(
        staff,
        organisation,
        kind="dismantling_plant",
        licence_id=licence_of(organisation, Licence.Kind.WEEE_DISMANTLING).pk,
    )
    assert site.get_kind_display() == "拆解处理厂"


def test_an_expired_licence_stops_the_site_from_receiving_and_from_the_finder(personas):
    organisation, staff = qualified_recycler()
    site = register(staff, organisation)
    today = timezone.localdate()
    assert [s.pk for s in network_queries.find_sites()] == [site.pk]
    Licence.objects.filter(pk=site.licence_id).update(valid_until=today - datetime.timedelta(days=1))
    site.refresh_from_db()
    site.licence.refresh_from_db()
    assert not network.site_may_receive(site, today)
    assert "不在有效期内" in (network.receive_refusal(site, today) or "")
    assert network.site_may_receive(site, today - datetime.timedelta(days=1))
    assert network_queries.find_sites() == []


def test_a_disabled_site_may_not_receive_and_the_change_is_audited(personas):
    organisation, staff = qualified_recycler()
    site = register(staff, organisation)
    network.set_site_active(actor=staff, organisation=organisation, site_id=site.pk, active=False)
    site.refresh_from_db()
    assert not network.site_may_receive(site, timezone.localdate())
    assert site_audits().filter(action="recycling.site_disabled").count() == 1
    other, other_staff = qualified_recycler()
    with pytest.raises(NotFoundError):
        network.set_site_active(actor=other_staff, organisation=other, site_id=site.pk, active=True)
    assert site_audits().filter(action="recycling.site_enabled").count() == 0


def test_the_finder_filters_by_district_and_category(personas):
    organisation, staff = qualified_recycler()
    chaoyang = register(staff, organisation)
    haidian = register(staff, organisation, name="海淀网点", district_code="110108", categories=["phone"])
    assert {s.pk for s in network_queries.find_sites()} == {chaoyang.pk, haidian.pk}
    assert [s.pk for s in network_queries.find_sites("110108")] == [haidian.pk]
    assert [s.pk for s in network_queries.find_sites(category="tv")] == [chaoyang.pk]
    assert network_queries.find_sites("110108", "tv") == []


def test_the_public_finder_api_and_page_need_no_sign_in_and_are_rate_limited(personas, client, settings):
    organisation, staff = qualified_recycler()
    register(staff, organisation)
    answer = client.get(FINDER, {"district": "110105", "category": "fridge"})
    assert answer.status_code == 200
    [found] = answer.json()
    assert found["address"] == "朝阳路1号"
    assert found["category_names"] == ["电视", "冰箱"]
    page = client.get("/recycling/network/", {"district": "110105"})
    assert page.status_code == 200
    assert "朝阳路1号" in page.text
    assert "周一至周六 8:30-17:30" in page.text
    settings.HUANXIN_PUBLIC_CHECKS_PER_HOUR = 2
    assert client.get(FINDER).status_code == 429
    limited = client.get("/recycling/network/")
    assert limited.status_code == 429
    assert "朝阳路1号" not in limited.text


def test_capacity_use_counts_the_items_the_organisation_received_this_month(personas):
    organisation, staff = qualified_recycler()
    site = register(staff, organisation)
    for _ in range(3):
        trace_services.commission_pickup(actor=staff, organisation=organisation, category="tv")
    use = network_queries.capacity_use([site])[site.pk]
    assert (use.received, use.capacity, use.shared_by, use.percent) == (3, 200, 1, 1)
    second = register(staff, organisation, name="二号网点", capacity_per_month=100)
    both = network_queries.capacity_use([site, second])
    assert both[second.pk].received == 3
    assert both[second.pk].shared_by == 2
    assert both[second.pk].organisation_capacity == 300


def test_the_api_registers_a_site_for_the_tokens_organisation_only(personas):
    organisation, staff = qualified_recycler()
    other, _ = qualified_recycler()
    client = token_client_for(staff, organisation)
    body = {
        "kind": "sorting_centre",
        "name": "绿色分拣中心",
        "district": "110105",
        "address": "分拣路2号",
        "opening_hours": "每天 8:00-18:00",
        "categories": ["ac"],
        "capacity_per_month": 1000,
        "licence_id": licence_of(organisation).pk,
    }
    refused = client.post(MY_SITES, json.dumps({**body, "organisation_id": other.pk}), content_type="application/json")
    assert refused.status_code == 403
    assert not NetworkSite.objects.exists()
    assert not site_audits().exists()
    created = client.post(MY_SITES, json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["may_receive_today"] is True
    assert created.json()["received_this_month"] == 0
    bad = client.post(MY_SITES, json.dumps({**body, "categories": []}), content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["code"] == "required"
    listed = client.get(MY_SITES).json()
    assert [s["name"] for s in listed] == ["绿色分拣中心"]


def test_the_sites_page_registers_a_site_and_shows_a_refusal_on_its_field(personas):
    organisation, staff = qualified_recycler()
    page = client_for(staff)
    assert page.get("/recycling/network/sites/").status_code == 200
    form = {
        "kind": "collection_point",
        "name": "页面网点",
        "district": "110105",
        "address": "页面路3号",
        "opening_hours": "每天",
        "categories": ["tv"],
        "capacity_per_month": "50",
        "licence_id": str(licence_of(organisation, Licence.Kind.BUSINESS).pk),
    }
    refused = page.post("/recycling/network/sites/", form)
    assert refused.status_code == 422
    assert "须持有" in refused.text
    assert not NetworkSite.objects.exists()
    form["licence_id"] = str(licence_of(organisation).pk)
    assert page.post("/recycling/network/sites/", form).status_code == 302
    assert "页面路3号" in page.get("/recycling/network/sites/").text
