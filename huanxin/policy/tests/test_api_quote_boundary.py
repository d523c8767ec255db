"""The public quote reads UTF-8 JSON only: anything else is a 4xx with the contract's error, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from huanxin.policy import services
from huanxin.policy.models import Programme, StoredDecision

pytestmark = pytest.mark.django_db

PATH = "/api/v1/programmes/cn-appliance-2026/quote"
FRIDGE = b'{"category": "fridge", "price_fen": 400000, "energy_grade": 1, "water_grade": null}'


@pytest.fixture
def loaded(db):
    services.load_catalogue()
    Programme.objects.filter(code="cn-appliance-2026").update(status="open")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (FRIDGE, "text/plain", 415, "unsupported_media_type"),
        (FRIDGE, "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (FRIDGE, "application/json; charset=utf-16", 415, "unsupported_media_type"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 422, "too_deep"),
        (b'{"category": "fridge\xff"}', "application/json", 422, "invalid_encoding"),
        ("\ufeff".encode() + FRIDGE, "application/json", 422, "invalid_encoding"),
        (b'{"category": "frid\\u0000ge"}', "application/json", 422, "nul_character"),
    ],
)
def test_the_quote_refuses_what_is_not_utf8_json(loaded, body, content_type, status, code):
    response = Client().post(PATH, data=body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not StoredDecision.objects.exists()


def test_the_quote_still_answers_json_with_a_charset(loaded):
    response = Client().post(PATH, data=FRIDGE, content_type="application/json; charset=utf-8")
    assert response.status_code == 200


@pytest.mark.parametrize("price", [2**63, 2**70])
def test_the_quote_refuses_a_price_beyond_64_bits(loaded, price):
    body = {"category": "fridge", "price_fen": price, "energy_grade": 1, "water_grade": None}
    response = Client().post(PATH, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 422
    assert (response.json()["error"]["code"], response.json()["error"]["field"]) == ("too_large", "price_fen")
    assert not StoredDecision.objects.exists()
