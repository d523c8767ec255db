"""Error messages are for people: Chinese field names, never the names in code; those stay in ``field``."""

from __future__ import annotations

import re

import pytest

from huanxin.conftest import api_client_for
from huanxin.core.domain.labels import FIELD_LABELS, field_label

# A name in code: lower-case words joined by underscores (price_fen, store_id, take_back).
CODE_NAME = re.compile(r"[a-z]+_[a-z_0-9]+")


def test_field_paths_are_named_in_chinese():
    assert field_label("price_fen") == "成交价"
    assert field_label("old_vehicle.registered_on") == "旧车的注册登记日期"
    assert field_label("units[2].count") == "拆解设备第 3 项的数量"
    assert field_label("take_back.condition") == "回收旧机的状况"
    # A part with no Chinese name: no label at all, rather than the name in code.
    assert field_label("price_fen.nonsense") == ""
    assert field_label("[0]") == ""


def _input_field_names() -> set[str]:
    from huanxin.api import api

    spec = api.get_openapi_schema()
    components = spec["components"]["schemas"]
    names: set[str] = set()

    def walk(schema: dict, seen: tuple[str, ...] = ()) -> None:
        if "$ref" in schema:
            ref = schema["$ref"].rsplit("/", 1)[-1]
            if ref not in seen:
                walk(components[ref], (*seen, ref))
            return
        for name, inner in schema.get("properties", {}).items():
            names.add(name)
            walk(inner, seen)
        for key in ("anyOf", "allOf", "oneOf"):
            for inner in schema.get(key, []):
                walk(inner, seen)
        if "items" in schema:
            walk(schema["items"], seen)

    for operations in spec["paths"].values():
        for operation in operations.values():
            names.update(parameter["name"] for parameter in operation.get("parameters", []))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"])
    return names


def test_every_input_field_of_the_api_has_a_chinese_name():
    names = _input_field_names()
    assert "price_fen" in names
    assert sorted(names - FIELD_LABELS.keys()) == []


@pytest.mark.django_db
def test_a_mistyped_amount_is_refused_in_words_with_the_name_in_code_kept_in_field(personas):
    client = api_client_for(personas.clerk)
    response = client.post(
        "/api/v1/subsidies/redemptions",
        data={
            "code": "X",
            "store_id": 1,
            "product_id": 1,
            "serial": "S",
            "price_fen": "一千",
            "confirmed_subsidy_fen": 0,
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    body = response.json()
    [error] = body["errors"]
    assert (error["field"], error["code"]) == ("price_fen", "invalid_type")
    assert error["message"] == "类型不正确，应为以分为单位的整数"
    assert body["detail"] == "成交价：类型不正确，应为以分为单位的整数"


@pytest.mark.django_db
def test_no_validation_detail_names_a_field_in_code(personas):
    client = api_client_for(personas.admin)
    response = client.post(
        "/api/v1/accounts/organisations",
        data={"name": "华兴", "short_name": 5, "kind": "merchant"},
        content_type="application/json",
    )
    body = response.json()
    assert response.status_code == 422
    assert not CODE_NAME.search(body["detail"])
    assert not [e["message"] for e in body["errors"] if CODE_NAME.search(e["message"])]
