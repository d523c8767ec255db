import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from huanxin.accounts.models import Role
from huanxin.catalogue import services
from huanxin.catalogue.models import PriceFiling, ProductImport, ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes, xlsx_bytes
from huanxin.conftest import api_client_for, make_member
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db):
    return [
        ProductModel.objects.create(brand="海尔", model_number="BCD-500", category="fridge", energy_grade=1),
        ProductModel.objects.create(
            brand="海尔", model_number="XQG100", category="washer", energy_grade=2, water_grade=1
        ),
        ProductModel.objects.create(brand="格力", model_number="KFR-35GW", category="ac", energy_grade=1, name="云佳"),
    ]


def today():
    return timezone.localdate(timezone=services.BEIJING)


def test_anyone_searches_the_catalogue(catalogue):
    body = Client().get("/api/v1/catalogue/products").json()
    assert body["count"] == 3
    assert [(p["brand"], p["model_number"]) for p in body["items"]] == [
        ("格力", "KFR-35GW"),
        ("海尔", "BCD-500"),
        ("海尔", "XQG100"),
    ]
    assert body["items"][2] | {"id": 0, "created_at": "", "updated_at": ""} == {
        "id": 0,
        "brand": "海尔",
        "model_number": "XQG100",
        "category": "washer",
        "category_name": "洗衣机",
        "energy_grade": 2,
        "water_grade": 1,
        "label_number": "",
        "name": "",
        "created_at": "",
        "updated_at": "",
    }


@pytest.mark.parametrize(
    ("query", "models"),
    [
        ("q=海尔", ["BCD-500", "XQG100"]),
        ("q=kfr", ["KFR-35GW"]),
        ("q=云佳", ["KFR-35GW"]),
        ("brand=格力", ["KFR-35GW"]),
        ("model=ｂｃｄ", ["BCD-500"]),
        ("category=washer", ["XQG100"]),
        ("category=洗衣机", ["XQG100"]),
        ("category=toaster", []),
        ("brand=海尔&category=fridge", ["BCD-500"]),
    ],
)
def test_search_by_brand_model_and_category(catalogue, query, models):
    body = Client().get(f"/api/v1/catalogue/products?{query}").json()
    assert [p["model_number"] for p in body["items"]] == models


def test_product_detail_and_a_missing_one(catalogue):
    response = Client().get(f"/api/v1/catalogue/products/{catalogue[2].pk}")
    assert (response.status_code, response.json()["name"], response.json()["category_name"]) == (200, "云佳", "空调")
    missing = Client().get("/api/v1/catalogue/products/999999")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["code"] == "product_not_found"


def upload(client, content, name="产品.csv"):
    return client.post("/api/v1/catalogue/products/import", {"file": SimpleUploadedFile(name, content)})


def test_an_administrator_imports_a_file_and_reads_the_report_again(personas):
    content = xlsx_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"], ["海尔", "X", "烤箱", "1"]])
    response = upload(api_client_for(personas.admin), content, "目录.xlsx")
    assert response.status_code == 201
    body = response.json()
    assert {
        k: body[k] for k in ("file_name", "file_format", "total_rows", "created", "updated", "unchanged", "refused")
    } == {
        "file_name": "目录.xlsx",
        "file_format": "xlsx",
        "total_rows": 2,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "refused": 1,
    }
    assert body["errors"] == [
        {
            "row": 3,
            "column": "category",
            "column_label": "品类",
            "code": "unknown_category",
            "message": "品类“烤箱”不在补贴品类目录中，请填写品类代码或中文名称",
            "value": "烤箱",
        }
    ]
    again = api_client_for(personas.reviewer).get(f"/api/v1/catalogue/imports/{body['id']}")
    assert again.status_code == 200
    assert again.json() == body
    assert api_client_for(personas.clerk).get(f"/api/v1/catalogue/imports/{body['id']}").status_code == 404


def test_importing_is_refused_to_merchants_and_to_anonymous_callers(personas):
    content = csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"]])
    refused = upload(api_client_for(personas.manager), content)
    assert (refused.status_code, refused.json()["code"]) == (403, "import_forbidden")
    anonymous = upload(Client(), content)
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert ProductModel.objects.count() == 0
    assert ProductImport.objects.count() == 0


def test_an_unreadable_upload_is_a_problem_on_the_file_field(personas):
    response = upload(api_client_for(personas.admin), b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "old.xls")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "file",
            "code": "unsupported_format",
            "message": "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV UTF-8 后再导入",
        }
    ]
    assert ProductImport.objects.count() == 0


def file_body(merchant, product, price_fen=399_900, days=0, note=""):
    return json.dumps(
        {
            "merchant_id": merchant.pk,
            "product_id": product.pk,
            "price_fen": price_fen,
            "effective_from": (today() + datetime.timedelta(days=days)).isoformat(),
            "note": note,
        }
    )


def test_a_manager_files_prices_and_reads_the_history(personas, catalogue):
    client = api_client_for(personas.manager)
    first = client.post("/api/v1/catalogue/prices", file_body(personas.merchant, catalogue[0]), "application/json")
    assert first.status_code == 201
    assert first.json() | {"id": 0, "filed_at": ""} == {
        "id": 0,
        "merchant_id": personas.merchant.pk,
        "merchant_name": "朝阳家电",
        "product_id": catalogue[0].pk,
        "product": "海尔 BCD-500",
        "price_fen": 399_900,
        "effective_from": today().isoformat(),
        "filed_by": str(personas.manager),
        "filed_at": "",
        "note": "",
    }
    client.post("/api/v1/catalogue/prices", file_body(personas.merchant, catalogue[0], 379_900, 7), "application/json")
    client.post("/api/v1/catalogue/prices", file_body(personas.merchant, catalogue[1], 299_900), "application/json")
    history = client.get(f"/api/v1/catalogue/prices?merchant={personas.merchant.pk}&product={catalogue[0].pk}").json()
    assert [(f["price_fen"], f["effective_from"]) for f in history["items"]] == [
        (379_900, (today() + datetime.timedelta(days=7)).isoformat()),
        (399_900, today().isoformat()),
    ]
    assert client.get("/api/v1/catalogue/prices").json()["count"] == 3


def test_filings_are_hidden_from_other_merchants_and_the_public(personas, catalogue):
    services.file_price(
        actor=personas.manager, merchant=personas.merchant, product=catalogue[0], price_fen=100, effective_from=today()
    )
    other_clerk = make_member(Role.MERCHANT_CLERK, personas.other_merchant)
    assert api_client_for(other_clerk).get("/api/v1/catalogue/prices").json()["count"] == 0
    assert api_client_for(personas.district_reviewer).get("/api/v1/catalogue/prices").json()["count"] == 1
    assert Client().get("/api/v1/catalogue/prices").status_code == 401


def test_a_refused_filing_is_a_problem_and_stores_nothing(personas, catalogue):
    other_clerk = make_member(Role.MERCHANT_CLERK, personas.other_merchant)
    forbidden = api_client_for(other_clerk).post(
        "/api/v1/catalogue/prices", file_body(personas.merchant, catalogue[0]), "application/json"
    )
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "price_filing_forbidden")
    past = api_client_for(personas.clerk).post(
        "/api/v1/catalogue/prices", file_body(personas.merchant, catalogue[0], days=-1), "application/json"
    )
    assert past.status_code == 422
    assert [(e["field"], e["code"]) for e in past.json()["errors"]] == [("effective_from", "effective_in_past")]
    body = json.loads(file_body(personas.merchant, catalogue[0]))
    unknown = api_client_for(personas.clerk).post(
        "/api/v1/catalogue/prices", json.dumps({**body, "product_id": 999_999}), "application/json"
    )
    assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (422, "unknown_product")
    assert PriceFiling.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_retried_filing_with_the_same_idempotency_key_files_once(personas, catalogue):
    client = api_client_for(personas.clerk)
    body = file_body(personas.merchant, catalogue[0])
    first = client.post("/api/v1/catalogue/prices", body, "application/json", headers={"Idempotency-Key": "k-1"})
    retry = client.post("/api/v1/catalogue/prices", body, "application/json", headers={"Idempotency-Key": "k-1"})
    assert (first.status_code, retry.status_code, retry["Idempotent-Replayed"]) == (201, 201, "true")
    assert retry.json() == first.json()
    assert PriceFiling.objects.count() == 1
