"""Input the boundary refuses with a 4xx and a field, never a server error or a silent conversion: NUL
characters, integers beyond 64 bits, booleans and text where an integer belongs, deep or broken JSON."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from huanxin.conftest import api_client_for, client_for
from huanxin.core.models import AuditEntry
from huanxin.subsidies.models import ClaimRound, Qualification, Redemption

pytestmark = pytest.mark.django_db


def post(client, path, body, **extra):
    return client.post(path, data=body if isinstance(body, str | bytes) else json.dumps(body), **extra)


def _sale(scene, **changes):
    qualification = post(
        api_client_for(scene.resident()),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
        content_type="application/json",
    ).json()
    sale = {
        "code": qualification["code"],
        "store_id": scene.store.pk,
        "product_id": scene.fridge.pk,
        "serial": "SN-BOUNDARY-1",
        "price_fen": 499_900,
        "confirmed_subsidy_fen": 74_985,
    }
    return {**sale, **changes}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"price_fen": True}, "price_fen", "invalid_type"),
        ({"price_fen": "300000"}, "price_fen", "invalid_type"),
        ({"price_fen": 2**70}, "price_fen", "too_large"),
        ({"store_id": 2**64}, "store_id", "too_large"),
        ({"product_id": True}, "product_id", "invalid_type"),
        ({"serial": "SN-\x00-1"}, "serial", "nul_character"),
        ({"take_back": {"category": "fridge", "condition": "scrap", "description": "\x00"}}, "take_back.description",
         "nul_character"),
    ],
)  # fmt: skip
def test_a_sale_with_a_value_of_the_wrong_kind_is_refused_and_nothing_changes(scene, change, field, code):
    body = _sale(scene, **change)
    audits = AuditEntry.objects.count()
    response = post(
        api_client_for(scene.personas.clerk), "/api/v1/subsidies/redemptions", body, content_type="application/json"
    )
    assert response.status_code == 422
    problem = response.json()
    assert (problem["errors"][0]["field"], problem["errors"][0]["code"]) == (field, code)
    assert Redemption.objects.count() == 0
    assert Qualification.objects.get().status == "issued"
    assert AuditEntry.objects.count() == audits


def test_json_nested_thousands_deep_is_a_422_not_a_server_error(scene):
    deep = "[" * 5000 + "]" * 5000
    response = post(
        api_client_for(scene.personas.clerk),
        "/api/v1/subsidies/redemptions",
        '{"code": ' + deep + "}",
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "too_deep"


def test_a_body_that_is_not_utf8_is_refused_in_chinese(scene):
    response = post(
        api_client_for(scene.personas.clerk),
        "/api/v1/subsidies/redemptions",
        b'{"code": "\xff\xfe"}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["errors"][0]["field"]) == ("invalid_encoding", "body")


@pytest.mark.parametrize(
    "query",
    ["merchant_id=%00", "today=true&x%00=1", "merchant_id=99999999999999999999999"],
)
def test_a_query_string_with_a_nul_or_a_huge_integer_is_a_422_naming_the_field(scene, query):
    response = api_client_for(scene.personas.clerk).get(f"/api/v1/subsidies/redemptions?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"merchant_id", "x"}


def test_a_nul_in_a_path_is_refused_not_looked_up(scene):
    response = api_client_for(scene.personas.clerk).get("/api/v1/subsidies/qualifications/1%00")
    assert response.status_code == 422
    assert response.json()["code"] == "nul_character"


def test_a_round_limit_beyond_what_a_count_can_hold_is_refused(scene):
    audits = AuditEntry.objects.count()
    response = post(
        api_client_for(scene.personas.admin),
        "/api/v1/subsidies/rounds",
        {"programme": "cn-appliance-2026", "name": "第二批", "opens_at": "2026-12-01T00:00:00+08:00",
         "limits": {"fridge": 2**40}},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limits.fridge"
    assert (ClaimRound.objects.filter(name="第二批").exists(), AuditEntry.objects.count()) == (False, audits)


@pytest.mark.parametrize("path", ["/catalogue/?q=%00", "/verify/?code=%00"])
def test_public_pages_answer_a_nul_with_400(scene, path):
    response = Client().get(path)
    assert response.status_code == 400
    assert "不能包含空字符" in response.content.decode()


def test_a_page_form_posting_a_nul_is_refused_with_400(scene):
    audits = AuditEntry.objects.count()
    response = client_for(scene.personas.clerk).post("/catalogue/prices/", {"note": "a\x00b"})
    assert response.status_code == 400
    assert AuditEntry.objects.count() == audits
