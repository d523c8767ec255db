import json
import re

import pytest
from django.test import Client

from huanxin.accounts.models import ApiToken, Organisation, Person, User
from huanxin.conftest import api_client_for, valid_resident_id, valid_uscc
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db
PASSWORD = "Str0ng-test-password"


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_resident_registers_and_verifies_through_the_api(send_code):
    client = Client()
    code = send_code("13912345678")
    response = post(client, "/api/v1/accounts/residents", {"phone": "13912345678", "code": code, "password": PASSWORD})
    assert response.status_code == 201
    assert response.json()["person"]["phone_masked"] == "139****5678"
    client.force_login(User.objects.get(pk=response.json()["id"]))
    resident_id = valid_resident_id()
    # Registration gave no district, so verification asks for one: claims are charged to it.
    response = post(client, "/api/v1/accounts/me/identity", {"name": "王小明", "resident_id": resident_id})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "district", "code": "required", "message": "请选择登记居住区：申领的补贴计入该区预算"}
    ]
    assert Person.objects.get(user__pk=response.wsgi_request.user.pk).verified_at is None
    response = post(
        client, "/api/v1/accounts/me/identity", {"name": "王小明", "resident_id": resident_id, "district": "110108"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["district"] == "110108"
    assert body["resident_id_masked"] == resident_id[:6] + "********" + resident_id[-4:]
    assert resident_id not in response.content.decode()


def test_send_code_answers_202_with_the_masked_number(sms_outbox):
    response = post(Client(), "/api/v1/accounts/phone-codes", {"phone": "13912345678"})
    assert response.status_code == 202
    assert response.json()["phone_masked"] == "139****5678"


def test_a_second_code_inside_the_cooldown_is_a_429_problem_with_the_wait(sms_outbox, settings):
    first = post(Client(), "/api/v1/accounts/phone-codes", {"phone": "13912345678"})
    assert first.json()["resend_after"] == settings.HUANXIN_OTP_RESEND_SECONDS
    second = post(Client(), "/api/v1/accounts/phone-codes", {"phone": "+86 139 1234 5678"})
    assert second.status_code == 429
    body = second.json()
    assert body["code"] == "otp_resend_cooldown"
    assert body["errors"][0]["field"] == "phone"
    assert "秒后重新获取验证码" in body["errors"][0]["message"]
    assert 0 < int(second["Retry-After"]) <= settings.HUANXIN_OTP_RESEND_SECONDS


def test_an_invalid_resident_id_is_refused_as_problem_details_and_nothing_is_stored(personas):
    client = api_client_for(personas.consumer)
    personas.consumer_person.verified_at = None
    personas.consumer_person.resident_id_digest = None
    personas.consumer_person.save()
    before = AuditEntry.objects.count()
    response = post(client, "/api/v1/accounts/me/identity", {"name": "王小明", "resident_id": "110105194912310021"})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_checksum"
    assert problem["errors"] == [
        {"field": "resident_id", "code": "invalid_checksum", "message": "居民身份证号码校验位不正确，请核对最后一位"}
    ]
    assert "110105194912310021" not in response.content.decode()
    person = Person.objects.get(pk=personas.consumer_person.pk)
    assert person.verified_at is None
    assert person.resident_id_digest is None
    assert AuditEntry.objects.count() == before


def test_an_invalid_uscc_is_refused_and_no_organisation_is_created(personas):
    client = api_client_for(personas.admin)
    count = Organisation.objects.count()
    response = post(
        client,
        "/api/v1/accounts/organisations",
        {
            "name": "北京测试电器有限公司",
            "kind": "merchant",
            "uscc": "91110000600037341M",
            "district": "110105",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "uscc"
    assert response.json()["errors"][0]["code"] == "invalid_checksum"
    assert Organisation.objects.count() == count


def test_schema_errors_are_field_level_and_in_chinese(personas):
    client = api_client_for(personas.admin)
    response = post(client, "/api/v1/accounts/organisations", {"name": 5, "kind": "merchant"})
    assert response.status_code == 422
    errors = {e["field"]: e for e in response.json()["errors"]}
    assert errors["uscc"]["code"] == "required"
    assert errors["uscc"]["message"] == "此字段为必填项"
    assert errors["name"]["code"] == "invalid_type"
    assert errors["district"]["code"] == "required"


def test_malformed_json_is_a_problem_not_a_traceback(personas):
    client = api_client_for(personas.admin)
    response = client.post("/api/v1/accounts/organisations", data="{not json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert response["Content-Type"] == "application/problem+json"


def test_only_administrators_enrol_organisations(personas):
    response = post(
        api_client_for(personas.reviewer),
        "/api/v1/accounts/organisations",
        {
            "name": "北京测试电器有限公司",
            "kind": "merchant",
            "uscc": valid_uscc(),
            "district": "110105",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "administrator_required"


def test_unauthenticated_calls_get_401_problem():
    response = Client().get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_pos_token_is_issued_once_authenticates_and_stops_working_when_revoked(personas):
    manager = api_client_for(personas.manager)
    response = post(
        manager,
        f"/api/v1/accounts/organisations/{personas.merchant.pk}/tokens",
        {"name": "1号收银台", "user_id": personas.clerk.pk},
    )
    assert response.status_code == 201
    plaintext = response.json()["token"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert plaintext not in token.digest
    pos = Client()
    me = pos.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert me.status_code == 200
    assert me.json()["id"] == personas.clerk.pk
    assert post(manager, f"/api/v1/accounts/tokens/{token.pk}/revoke", {}).status_code == 200
    assert pos.get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}").status_code == 401
    assert post(manager, f"/api/v1/accounts/tokens/{token.pk}/revoke", {}).status_code == 409


def test_a_manager_cannot_issue_tokens_for_another_merchant(personas):
    manager = api_client_for(personas.manager)
    response = post(manager, f"/api/v1/accounts/organisations/{personas.other_merchant.pk}/tokens", {"name": "x"})
    assert response.status_code == 404
    assert ApiToken.objects.count() == 0


def test_a_forged_token_is_refused():
    response = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer hx_deadbeef_nope")
    assert response.status_code == 401


def test_openapi_schema_and_docs_are_served_without_a_cdn():
    client = Client()
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/accounts/residents" in schema.json()["paths"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    # No asset from another host (a CSRF token may contain any letters, so look at the URLs themselves).
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", html)
    assert "/static/ninja/swagger-ui-bundle" in html
