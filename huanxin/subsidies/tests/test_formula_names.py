"""Names that a spreadsheet would run as a formula are refused where they are entered, so the bank's CSV
payment file can carry every name exactly as stored."""

import json

import pytest

from huanxin.accounts import services as account_services
from huanxin.accounts.models import Organisation, User
from huanxin.catalogue import services as catalogue_services
from huanxin.catalogue.models import ProductModel
from huanxin.conftest import api_client_for, client_for, valid_uscc
from huanxin.core.domain.text import starts_like_formula
from huanxin.core.errors import ValidationFailed
from huanxin.core.spreadsheets import csv_bytes
from huanxin.subsidies.models import Enrolment, Store

pytestmark = pytest.mark.django_db

FORMULAS = ['=HYPERLINK("http://example.invalid","点此领款")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def post(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize("text", [*FORMULAS, "=", "-"])
def test_owasp_formula_characters_start_a_formula(text):
    assert starts_like_formula(text)


@pytest.mark.parametrize("text", ["朝阳家电", "A=B", "北京-朝阳", "", " 朝阳"])
def test_ordinary_names_do_not_start_a_formula(text):
    assert not starts_like_formula(text)


def _enrolment_body(personas, store_id, **overrides):
    body = {
        "merchant_id": personas.merchant.pk,
        "programme": "cn-appliance-2026",
        "categories": ["fridge"],
        "store_ids": [store_id],
        "bank_name": "演示银行",
        "account_name": "朝阳家电",
        "bank_account": "6222 0212 3456 7890 123",
        "contact_name": "周经理",
        "contact_phone": "13912340000",
    }
    return body | overrides


@pytest.mark.parametrize("field", ["account_name", "bank_name", "contact_name"])
@pytest.mark.parametrize("formula", ['=HYPERLINK("http://example.invalid","点此领款")', "@SUM(A1)"])
def test_an_enrolment_with_a_formula_name_is_refused_with_a_field_error(scene, field, formula):
    Enrolment.objects.all().delete()
    body = _enrolment_body(scene.personas, scene.store.pk, **{field: formula})
    response = post(api_client_for(scene.personas.manager), "/api/v1/subsidies/enrolments", body)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["code"]) == (field, "formula_like")
    assert "不能以 = + - @ 或制表符、回车开头" in error["message"]
    assert Enrolment.objects.count() == 0


def test_the_enrolment_page_shows_the_formula_error_on_the_account_name(scene):
    Enrolment.objects.all().delete()
    response = client_for(scene.personas.manager).post(
        "/merchant/enrolment/",
        {
            "form": "enrol",
            "programme": "cn-appliance-2026",
            "categories": ["fridge"],
            "stores": [str(scene.store.pk)],
            "bank_name": "演示银行",
            "account_name": "=1+1",
            "bank_account": "6222021234567890123",
            "contact_name": "周经理",
            "contact_phone": "13912340000",
        },
    )
    assert response.status_code == 200
    assert "账户名称不能以 = + - @ 或制表符、回车开头" in response.content.decode()
    assert Enrolment.objects.count() == 0


@pytest.mark.parametrize("field", ["name", "address"])
def test_a_store_with_a_formula_name_is_refused(scene, field):
    body = {"merchant_id": scene.personas.merchant.pk, "name": "朝阳二店", "address": "北京市朝阳区测试路2号"}
    body |= {"district": "110105", field: "=cmd|' /C calc'!A0"}
    response = post(api_client_for(scene.personas.manager), "/api/v1/subsidies/stores", body)
    assert response.status_code == 422
    assert (response.json()["errors"][0]["field"], response.json()["errors"][0]["code"]) == (field, "formula_like")
    assert Store.objects.count() == 1


@pytest.mark.parametrize("field", ["name", "short_name", "contact_name", "address"])
def test_an_organisation_with_a_formula_name_is_refused(personas, field):
    count = Organisation.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        account_services.create_organisation(
            actor=personas.admin,
            **{"name": "北京测试电器有限公司", "kind": "merchant", "uscc": valid_uscc(), "district": "110105"}
            | {field: "+86 1234"},
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [(field, "formula_like")]
    assert Organisation.objects.count() == count


def test_a_staff_user_with_a_formula_display_name_is_refused(personas):
    with pytest.raises(ValidationFailed) as caught:
        account_services.create_staff_user(
            actor=personas.admin, username="clerk9", password="Huanxin-test-2024!", display_name="-1+1"
        )
    assert [(e.field, e.code) for e in caught.value.errors] == [("display_name", "formula_like")]
    assert not User.objects.filter(username="clerk9").exists()


def test_an_imported_product_named_like_a_formula_is_a_rejected_row(personas):
    content = csv_bytes(["品牌", "型号", "品类", "能效等级", "名称"], [["海尔", "A-1", "冰箱", "1", "=1+1"]])
    # csv_bytes neutralised the cell for people; the file a manufacturer sends carries it raw.
    content = content.replace(b"'=1+1", b"=1+1")
    report = catalogue_services.import_products(actor=personas.admin, file_name="a.csv", content=content)
    assert (report.created, report.refused) == (0, 1)
    assert [(e.column, e.code) for e in report.errors] == [("name", "formula_like")]
    assert ProductModel.objects.count() == 0
