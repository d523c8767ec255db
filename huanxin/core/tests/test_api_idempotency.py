import json

import pytest

from huanxin.accounts.models import Organisation
from huanxin.conftest import api_client_for, valid_uscc
from huanxin.core.models import AuditEntry, IdempotencyRecord

pytestmark = pytest.mark.django_db


def create(client, uscc, key, name="北京幂等电器有限公司"):
    body = {"name": name, "kind": "merchant", "uscc": uscc, "district": "110105"}
    return client.post(
        "/api/v1/accounts/organisations",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_replayed_key_returns_the_first_response_and_acts_once(personas):
    client = api_client_for(personas.admin)
    uscc = valid_uscc()
    first = create(client, uscc, "key-1")
    audit_rows = AuditEntry.objects.count()
    second = create(client, uscc, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert Organisation.objects.filter(uscc=uscc).count() == 1
    assert AuditEntry.objects.count() == audit_rows


def test_the_same_key_with_another_body_is_refused_with_422_and_changes_nothing(personas):
    client = api_client_for(personas.admin)
    create(client, valid_uscc(), "key-2")
    count = Organisation.objects.count()
    other = create(client, valid_uscc(), "key-2", name="另一个机构名称")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Organisation.objects.count() == count


def test_keys_are_scoped_to_the_caller(personas):
    uscc = valid_uscc()
    create(api_client_for(personas.admin), uscc, "shared-key")
    second_admin = personas.admin.__class__.objects.create(username="admin2", is_superuser=True)
    replay = create(api_client_for(second_admin), uscc, "shared-key")
    # Another caller's key is not a replay: the request runs and meets the natural-key refusal.
    assert replay.status_code == 422
    assert replay.json()["code"] == "uscc_taken"


def test_a_refusal_is_replayed_too(personas):
    client = api_client_for(personas.admin)
    first = create(client, "91110000600037341M", "key-3")
    second = create(client, "91110000600037341M", "key-3")
    assert first.status_code == second.status_code == 422
    assert second["Idempotent-Replayed"] == "true"


def test_an_overlong_key_is_refused(personas):
    response = create(api_client_for(personas.admin), valid_uscc(), "k" * 256)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert IdempotencyRecord.objects.count() == 0


def test_a_request_still_in_flight_is_answered_with_409(personas):
    client = api_client_for(personas.admin)
    uscc = valid_uscc()
    body = json.dumps({"name": "北京幂等电器有限公司", "kind": "merchant", "uscc": uscc, "district": "110105"})
    from django.test import RequestFactory

    from huanxin.core.idempotency import caller_scope, request_fingerprint

    request = RequestFactory().post("/api/v1/accounts/organisations", data=body, content_type="application/json")
    request.user = personas.admin
    IdempotencyRecord.objects.create(
        scope=caller_scope(request),
        key="busy",
        request_hash=request_fingerprint(request),
        method="POST",
        path=request.path,
    )
    response = create(client, uscc, "busy")
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_in_progress"
    assert not Organisation.objects.filter(uscc=uscc).exists()


def test_a_large_multipart_upload_with_a_key_is_fingerprinted_without_reading_the_body_into_memory(personas):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    client = Client()
    client.force_login(personas.admin)
    padding = "x" * 100
    rows = "品牌,型号,品类,能效等级,名称\n" + "".join(f"品牌{i},M-{i:07d},fridge,1,{padding}\n" for i in range(25_000))
    assert len(rows.encode()) > 2_621_440  # above Django's in-memory request body limit
    upload = SimpleUploadedFile("big.csv", rows.encode(), content_type="text/csv")
    response = client.post("/api/v1/catalogue/products/import", {"file": upload}, HTTP_IDEMPOTENCY_KEY="big-upload")
    assert response.status_code == 201, response.content[:300]
    assert response.json()["created"] == 25_000
    upload.seek(0)
    replay = client.post("/api/v1/catalogue/products/import", {"file": upload}, HTTP_IDEMPOTENCY_KEY="big-upload")
    assert replay["Idempotent-Replayed"] == "true"
