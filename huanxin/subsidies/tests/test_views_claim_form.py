"""The claim form: category choices follow the programme, no district choice, refusals link what is held."""

import re

import pytest

from huanxin.conftest import client_for
from huanxin.policy.models import BudgetPool, Programme
from huanxin.subsidies import services
from huanxin.subsidies.models import ClaimRefusal, Qualification

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_programmes(scene):
    Programme.objects.filter(code="cn-digital-2026").update(status="open")
    services.clear_caches()
    return scene


def options(html, select_id):
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, html
    return re.findall(r'<option value="([^"]*)"', select.group(1))


def held_totals():
    return list(BudgetPool.objects.order_by("pk").values_list("held_fen", "available_fen"))


def test_the_category_choices_are_those_of_the_chosen_programme(two_programmes):
    client = client_for(two_programmes.resident())
    html = client.get("/me/subsidies/claim/?programme=cn-appliance-2026").content.decode()
    assert options(html, "id_category") == ["fridge", "washer", "tv", "ac", "computer", "water_heater"]
    html = client.get("/me/subsidies/claim/?programme=cn-digital-2026").content.decode()
    assert "phone" in options(html, "id_category")
    assert "fridge" not in options(html, "id_category")


def test_changing_the_programme_reloads_the_category_field_over_htmx(two_programmes):
    client = client_for(two_programmes.resident())
    html = client.get("/me/subsidies/claim/").content.decode()
    assert 'hx-get="/me/subsidies/claim/categories/"' in html
    assert 'hx-target="#category-field"' in html
    fragment = client.get(
        "/me/subsidies/claim/categories/?programme=cn-digital-2026", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert fragment.startswith('<div id="category-field">')
    assert options(fragment, "id_category") == ["phone", "tablet", "smartwatch", "smart_glasses"]
    assert "<form" not in fragment


def test_a_category_the_programme_does_not_cover_is_a_field_error_and_nothing_moves(two_programmes):
    before = held_totals()
    response = client_for(two_programmes.resident()).post(
        "/me/subsidies/claim/", {"programme": "cn-digital-2026", "category": "fridge"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-code="unknown_category"' in html
    assert "2026年手机等数码和智能产品购新补贴不补贴此品类" in html
    # The page now offers the chosen programme's categories.
    assert "fridge" not in options(html, "id_category")
    assert Qualification.objects.count() == 0
    assert ClaimRefusal.objects.count() == 0
    assert held_totals() == before


def test_the_form_offers_no_district_and_a_sent_district_is_not_used(scene):
    user = scene.resident("110105")
    client = client_for(user)
    html = client.get("/me/subsidies/claim/").content.decode()
    assert 'name="district"' not in html
    assert 'data-district="110105"' in html
    assert "朝阳区" in html
    response = client.post(
        "/me/subsidies/claim/", {"programme": "cn-appliance-2026", "category": "fridge", "district": "110119"}
    )
    assert response.status_code == 302
    assert Qualification.objects.get().district_id == "110105"


def test_a_refusal_for_an_already_held_qualification_links_to_it(scene):
    user = scene.resident()
    held = services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge")
    before = held_totals()
    response = client_for(user).post("/me/subsidies/claim/", {"programme": "cn-appliance-2026", "category": "fridge"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-code="already_holding"' in html
    assert f'href="/me/subsidies/{held.pk}/"' in html
    assert Qualification.objects.count() == 1
    assert held_totals() == before


def test_the_api_refusal_for_an_already_held_qualification_names_it(scene):
    import json

    from huanxin.conftest import api_client_for

    user = scene.resident()
    held = services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category="fridge")
    response = api_client_for(user).post(
        "/api/v1/subsidies/qualifications",
        data=json.dumps({"programme": "cn-appliance-2026", "category": "fridge"}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["held_qualification_id"] == held.pk


def test_the_red_refusal_box_lists_only_the_reasons_that_failed(scene):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    request = RequestFactory().get("/me/subsidies/claim/")
    request.user = AnonymousUser()
    refused = {
        "code": "not_eligible",
        "detail": "不符合申领条件",
        "reasons": [
            {"passed": True, "message": "品类在本项目范围内"},
            {"passed": False, "message": "未满申领年龄"},
        ],
    }
    html = render_to_string(
        "subsidies/claim.html", {"refused": refused, "person": None, "programmes": []}, request=request
    )
    box = html.split('class="form-errors"', 1)[1].split("</div>", 1)[0]
    assert "未满申领年龄" in box
    assert "品类在本项目范围内" not in box
    assert "✓" not in box
