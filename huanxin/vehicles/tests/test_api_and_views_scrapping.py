"""Scrapping through the API and the pages: the enterprise's intake, certificate with QR code, assemblies and
battery hand-over; the public check that shows no identity; refusals for every other role with no side effect."""

import json

import pytest
from django.test import Client, override_settings

from huanxin.conftest import api_client_for, client_for, token_client_for, valid_resident_id
from huanxin.core.models import AuditEntry
from huanxin.trace.models import TraceItem
from huanxin.vehicles.models import ScrapAssembly, ScrapCertificate, TractionBattery, Vehicle
from huanxin.vehicles.tests.scrapping_fixtures import (
    OWNER_NAME,
    battery_code,
    five_assemblies,
    issued,
    licensed_scrapper,
    owner_id_of,
    registered_vehicle,
    yard,
)

pytestmark = pytest.mark.django_db

OTHER_ROLES = ["clerk", "manager", "consumer", "recycler", "dismantler", "reviewer", "finance", "admin", "outsider"]


def post_json(client, url, body, **headers):
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def side_effects():
    return (
        ScrapCertificate.objects.count(),
        ScrapAssembly.objects.count(),
        TractionBattery.objects.count(),
        TraceItem.objects.count(),
        Vehicle.objects.filter(status="scrapped").count(),
        AuditEntry.objects.filter(action__startswith="vehicles.scrapping").count(),
    )


def assemblies_body():
    return [
        {"assembly": a.assembly, "destination": a.destination, "receiver_name": a.receiver_name}
        for a in five_assemblies()
    ]


# ---------------------------------------------------------------- API


def test_the_enterprise_scraps_a_vehicle_through_the_api(personas):
    y = yard()
    vin = registered_vehicle(personas.admin, fuel="纯电动")
    client = api_client_for(y.staff)
    response = post_json(
        client,
        "/api/v1/vehicles/certificates",
        {"vin": vin, "owner_id_number": owner_id_of(vin), "intake_on": "2025-05-06"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vin"] == vin
    assert body["number"].startswith("BF")
    assert body["number"][11:15] == "2025"
    assert body["owner_name"] == "欧***"
    assert body["check_url"].endswith(f"/vehicles/check/{body['number']}/")
    assemblies = post_json(
        client, f"/api/v1/vehicles/certificates/{body['id']}/assemblies", {"assemblies": assemblies_body()}
    )
    assert assemblies.status_code == 201, assemblies.content
    assert [a["assembly"] for a in assemblies.json()["assemblies"]] == [
        "engine",
        "steering",
        "gearbox",
        "axles",
        "frame",
    ]
    code = battery_code()
    battery = post_json(
        client,
        f"/api/v1/vehicles/certificates/{body['id']}/batteries",
        {"battery_code": code, "recycler_id": y.recycler.pk},
    )
    assert battery.status_code == 201, battery.content
    [handed] = battery.json()["batteries"]
    assert handed["battery_code"] == code
    assert TraceItem.objects.get(code=handed["trace_code"]).destination_id == y.recycler.pk
    listed = client.get("/api/v1/vehicles/certificates").json()
    assert [c["number"] for c in listed["items"]] == [body["number"]]
    assert client.get(f"/api/v1/vehicles/certificates/{body['id']}").json()["number"] == body["number"]


def test_a_token_of_the_enterprise_issues_a_certificate(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    response = post_json(
        token_client_for(y.staff, y.enterprise),
        "/api/v1/vehicles/certificates",
        {"vin": vin, "owner_id_number": owner_id_of(vin)},
    )
    assert response.status_code == 201, response.content


def test_every_mutating_call_is_idempotent_with_a_key(personas):
    y = yard()
    vin = registered_vehicle(personas.admin, fuel="纯电动")
    client = api_client_for(y.staff)
    calls = [
        ("/api/v1/vehicles/certificates", {"vin": vin, "owner_id_number": owner_id_of(vin)}),
    ]
    first = post_json(client, calls[0][0], calls[0][1], HTTP_IDEMPOTENCY_KEY="c-1")
    again = post_json(client, calls[0][0], calls[0][1], HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    pk = first.json()["id"]
    url = f"/api/v1/vehicles/certificates/{pk}/assemblies"
    one = post_json(client, url, {"assemblies": assemblies_body()}, HTTP_IDEMPOTENCY_KEY="a-1")
    two = post_json(client, url, {"assemblies": assemblies_body()}, HTTP_IDEMPOTENCY_KEY="a-1")
    assert one.status_code == two.status_code == 201
    url = f"/api/v1/vehicles/certificates/{pk}/batteries"
    payload = {"battery_code": battery_code(), "recycler_id": y.recycler.pk}
    three = post_json(client, url, payload, HTTP_IDEMPOTENCY_KEY="b-1")
    four = post_json(client, url, payload, HTTP_IDEMPOTENCY_KEY="b-1")
    assert three.status_code == four.status_code == 201
    assert (ScrapCertificate.objects.count(), ScrapAssembly.objects.count(), TractionBattery.objects.count()) == (
        1,
        5,
        1,
    )
    assert TraceItem.objects.count() == 1


def test_api_refusals_name_the_field(personas):
    y = yard()
    client = api_client_for(y.staff)
    bad_vin = post_json(
        client, "/api/v1/vehicles/certificates", {"vin": "LSV123", "owner_id_number": "110105199003070011"}
    )
    assert bad_vin.status_code == 422
    assert bad_vin.json()["errors"][0]["field"] == "vin"
    certificate = issued(y, personas.admin, fuel="纯电动")
    bad_code = post_json(
        client,
        f"/api/v1/vehicles/certificates/{certificate.pk}/batteries",
        {"battery_code": "03HPEA1", "recycler_id": y.recycler.pk},
    )
    assert bad_code.status_code == 422
    assert (
        bad_code.json()["errors"][0]
        == {
            "field": "battery_code",
            "code": "battery_code_length",
            "message": "动力蓄电池编码应为 24 位（GB/T 34014），输入了 7 位",
        }
        or bad_code.json()["errors"][0]["code"] == "battery_code_length"
    )
    again = post_json(
        client,
        "/api/v1/vehicles/certificates",
        {"vin": certificate.vehicle.vin, "owner_id_number": owner_id_of(certificate.vehicle.vin)},
    )
    assert again.status_code == 409


@pytest.mark.parametrize("who", OTHER_ROLES)
def test_the_api_refuses_every_other_role_with_no_side_effect(personas, who):
    y = yard()
    vin = registered_vehicle(personas.admin, fuel="纯电动")
    certificate = issued(y, personas.admin, fuel="纯电动")
    before = side_effects()
    client = api_client_for(getattr(personas, who))
    responses = [
        post_json(client, "/api/v1/vehicles/certificates", {"vin": vin, "owner_id_number": owner_id_of(vin)}),
        post_json(
            client,
            "/api/v1/vehicles/certificates",
            {"vin": vin, "owner_id_number": owner_id_of(vin), "organisation_id": y.enterprise.pk},
        ),
        post_json(
            client, f"/api/v1/vehicles/certificates/{certificate.pk}/assemblies", {"assemblies": assemblies_body()}
        ),
        post_json(
            client,
            f"/api/v1/vehicles/certificates/{certificate.pk}/batteries",
            {"battery_code": battery_code(), "recycler_id": y.recycler.pk},
        ),
        client.get("/api/v1/vehicles/certificates"),
        client.get(f"/api/v1/vehicles/certificates/{certificate.pk}"),
    ]
    assert [r.status_code for r in responses] == [403] * 6
    assert side_effects() == before


def test_another_scrapping_enterprise_cannot_reach_a_certificate(personas):
    y = yard()
    other = yard()
    certificate = issued(y, personas.admin)
    before = side_effects()
    client = api_client_for(other.staff)
    assert client.get(f"/api/v1/vehicles/certificates/{certificate.pk}").status_code == 404
    response = post_json(
        client, f"/api/v1/vehicles/certificates/{certificate.pk}/assemblies", {"assemblies": assemblies_body()}
    )
    assert response.status_code == 404
    named = post_json(
        client,
        "/api/v1/vehicles/certificates",
        {
            "vin": (vin := registered_vehicle(personas.admin)),
            "owner_id_number": owner_id_of(vin),
            "organisation_id": y.enterprise.pk,
        },
    )
    assert named.status_code == 403
    assert side_effects() == before


def test_the_api_needs_a_sign_in_except_for_the_public_check(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    anonymous = Client()
    assert post_json(anonymous, "/api/v1/vehicles/certificates", {"vin": "x"}).status_code == 401
    check = anonymous.get(f"/api/v1/vehicles/certificates/check/{certificate.number.lower()}")
    assert check.status_code == 200
    body = check.json()
    assert body == {
        "number": certificate.number,
        "valid": True,
        "status": "valid",
        "status_name": "有效",
        "vin_masked": certificate.vehicle.vin[:3] + "*" * 10 + certificate.vehicle.vin[-4:],
        "vehicle_type_name": certificate.vehicle.vehicle_type_name,
        "enterprise_name": y.enterprise.name,
        "intake_on": certificate.intake_on.isoformat(),
    }
    assert anonymous.get("/api/v1/vehicles/certificates/check/BF000").status_code == 404


# ---------------------------------------------------------------- pages


def test_the_enterprise_works_through_the_pages(personas):
    y = yard()
    vin = registered_vehicle(personas.admin, fuel="纯电动")
    client = client_for(y.staff)
    intake = client.get("/vehicles/certificates/")
    assert intake.status_code == 200
    assert 'name="owner_id_number"' in intake.content.decode()
    response = client.post(
        "/vehicles/certificates/", {"vin": vin, "owner_id_number": owner_id_of(vin), "intake_on": "2025-02-03"}
    )
    assert response.status_code == 302
    certificate = ScrapCertificate.objects.get(vehicle__vin=vin)
    assert response["Location"] == f"/vehicles/certificates/{certificate.pk}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert certificate.number in html
    assert "<svg" in html  # the QR code
    assert f"/vehicles/check/{certificate.number}/" in html
    assert "<script>" not in html
    assert " style=" not in html
    form = {}
    for a in five_assemblies():
        form[f"{a.assembly}_destination"] = a.destination
        form[f"{a.assembly}_receiver"] = a.receiver_name
    assert client.post(f"/vehicles/certificates/{certificate.pk}/assemblies/", form).status_code == 302
    assert ScrapAssembly.objects.filter(certificate=certificate).count() == 5
    bad = client.post(
        f"/vehicles/certificates/{certificate.pk}/batteries/", {"battery_code": "03HPEA1", "recycler": y.recycler.pk}
    )
    assert bad.status_code == 422
    assert "应为 24 位" in bad.content.decode()
    assert not TractionBattery.objects.exists()
    good = client.post(
        f"/vehicles/certificates/{certificate.pk}/batteries/",
        {"battery_code": battery_code(), "recycler": y.recycler.pk},
    )
    assert good.status_code == 302
    assert TractionBattery.objects.get().recycler == y.recycler


def test_a_page_intake_of_an_unknown_vin_shows_the_reason_and_writes_nothing(personas):
    from huanxin.vehicles.tests.factories import new_vin

    y = yard()
    before = side_effects()
    response = client_for(y.staff).post(
        "/vehicles/certificates/", {"vin": new_vin(), "owner_id_number": valid_resident_id()}
    )
    assert response.status_code == 422
    assert "机动车登记信息中没有该车辆识别代号" in response.content.decode()
    assert side_effects() == before


def test_incomplete_assemblies_on_the_page_are_refused(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    response = client_for(y.staff).post(
        f"/vehicles/certificates/{certificate.pk}/assemblies/",
        {"engine_destination": "smelting", "engine_receiver": "首钢"},
    )
    assert response.status_code == 422
    assert "五大总成须全部记录" in response.content.decode()
    assert not ScrapAssembly.objects.exists()


@pytest.mark.parametrize("who", OTHER_ROLES)
def test_pages_are_refused_to_every_other_role_with_no_side_effect(personas, who):
    y = yard()
    vin = registered_vehicle(personas.admin)
    certificate = issued(y, personas.admin, fuel="纯电动")
    before = side_effects()
    client = client_for(getattr(personas, who))
    assert client.get("/vehicles/certificates/").status_code == 403
    assert (
        client.post(
            "/vehicles/certificates/", {"vin": vin, "owner_id_number": owner_id_of(vin), "org": y.enterprise.pk}
        ).status_code
        == 403
    )
    assert client.get(f"/vehicles/certificates/{certificate.pk}/").status_code == 403
    assert client.post(f"/vehicles/certificates/{certificate.pk}/assemblies/", {}).status_code == 403
    assert client.post(f"/vehicles/certificates/{certificate.pk}/batteries/", {}).status_code == 403
    assert side_effects() == before


def test_another_enterprises_certificate_page_is_not_found(personas):
    certificate = issued(yard(), personas.admin)
    other = yard()
    assert client_for(other.staff).get(f"/vehicles/certificates/{certificate.pk}/").status_code == 404


def test_the_public_check_page_opens_without_sign_in_and_shows_no_identity(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    vehicle = certificate.vehicle
    page = Client().get(f"/vehicles/check/{certificate.number}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert certificate.number in html
    assert 'data-valid="true"' in html
    assert vehicle.vin[:3] + "*" * 10 + vehicle.vin[-4:] in html
    assert vehicle.vin not in html
    assert y.enterprise.name in html
    assert vehicle.vehicle_type_name in html
    for secret in (OWNER_NAME, OWNER_NAME[0] + "*", vehicle.owner_id_masked, vehicle.owner_id_masked[-4:]):
        assert secret not in html


def test_the_public_check_finds_a_typed_number_and_says_when_there_is_none(personas):
    certificate = issued(yard(), personas.admin)
    anonymous = Client()
    found = anonymous.get("/vehicles/check/", {"number": certificate.number.lower()})
    assert found.status_code == 302
    assert found["Location"] == f"/vehicles/check/{certificate.number}/"
    missing = anonymous.get("/vehicles/check/BF123/")
    assert missing.status_code == 404
    assert "未找到" in missing.content.decode()
    assert anonymous.get("/vehicles/check/").status_code == 200


def test_only_a_scrapping_enterprises_staff_are_offered_the_scrapping_pages(personas):
    y = yard()
    assert "/vehicles/certificates/" in client_for(y.staff).get("/").content.decode()
    # An appliance dismantler holds the same role in another kind of organisation: not offered, and refused.
    assert "/vehicles/certificates/" not in client_for(personas.dismantler).get("/").content.decode()
    assert "/vehicles/certificates/" not in client_for(personas.reviewer).get("/").content.decode()


def test_the_enterprise_pages_ask_a_signed_out_visitor_to_sign_in(personas):
    certificate = issued(yard(), personas.admin)
    before = side_effects()
    for url in ("/vehicles/certificates/", f"/vehicles/certificates/{certificate.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login" in response["Location"]
    assert Client().post(f"/vehicles/certificates/{certificate.pk}/assemblies/", {}).status_code == 302
    assert side_effects() == before


def test_the_public_check_is_limited_per_client_address_and_says_when_to_come_back(personas, settings):
    settings.HUANXIN_PUBLIC_CHECKS_PER_HOUR = 3
    client = Client()
    for _ in range(3):
        assert client.get("/api/v1/vehicles/certificates/check/BF000000000000000000001").status_code == 404
    refused = client.get("/api/v1/vehicles/certificates/check/BF000000000000000000001")
    assert refused.status_code == 429
    assert refused.json()["code"] == "certificate_check_limited"
    assert int(refused["Retry-After"]) > 0
    page = client.get("/vehicles/check/BF000000000000000000001/")
    assert page.status_code == 429
    assert "核验次数过多" in page.content.decode()


# ---------------------------------------------------------------- the owner at intake, revocation


@override_settings(HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR=1)
def test_the_api_refuses_a_wrong_owner_then_asks_to_wait(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    client = api_client_for(y.staff)
    before = side_effects()
    wrong = post_json(client, "/api/v1/vehicles/certificates", {"vin": vin, "owner_id_number": valid_resident_id()})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0] == {
        "field": "owner_id_number",
        "code": "owner_mismatch",
        "message": wrong.json()["errors"][0]["message"],
    }
    limited = post_json(client, "/api/v1/vehicles/certificates", {"vin": vin, "owner_id_number": owner_id_of(vin)})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert side_effects() == before


def test_the_enterprise_revokes_a_certificate_through_the_api_and_the_public_check_says_so(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    client = api_client_for(y.staff)
    bad = post_json(client, f"/api/v1/vehicles/certificates/{certificate.pk}/revoke", {"reason": "other"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "note"
    assert ScrapCertificate.objects.get(pk=certificate.pk).status == "valid"
    response = post_json(
        client, f"/api/v1/vehicles/certificates/{certificate.pk}/revoke", {"reason": "other", "note": "重复录入"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["revocation_reason"], body["revocation_reason_name"]) == (
        "revoked",
        "other",
        "其他原因",
    )
    check = Client().get(f"/api/v1/vehicles/certificates/check/{certificate.number}")
    assert (check.json()["valid"], check.json()["status"]) == (False, "revoked")
    page = Client().get(f"/vehicles/check/{certificate.number}/")
    assert "已作废" in page.content.decode()
    assert Vehicle.objects.get(pk=certificate.vehicle_id).status == "registered"


def test_the_enterprise_revokes_on_the_certificate_page(personas):
    y = yard()
    certificate = issued(y, personas.admin)
    client = client_for(y.staff)
    page = client.get(f"/vehicles/certificates/{certificate.pk}/").content.decode()
    assert "作废本证明" in page
    refused = client.post(f"/vehicles/certificates/{certificate.pk}/revoke/", {"reason": ""})
    assert refused.status_code == 422
    assert "请选择作废原因" in refused.content.decode()
    assert ScrapCertificate.objects.get(pk=certificate.pk).status == "valid"
    done = client.post(f"/vehicles/certificates/{certificate.pk}/revoke/", {"reason": "not_handed_over"})
    assert done.status_code == 302
    after = client.get(f"/vehicles/certificates/{certificate.pk}/").content.decode()
    assert "车辆未实际交付回收" in after
    assert "作废本证明" not in after
    # Another enterprise's staff cannot reach it.
    other_staff = licensed_scrapper()[1]
    assert client_for(other_staff).post(
        f"/vehicles/certificates/{certificate.pk}/revoke/", {"reason": "duplicate"}
    ).status_code in (403, 404)


@override_settings(HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR=1)
def test_the_intake_page_says_wait_with_429_past_the_mismatches(personas):
    y = yard()
    vin = registered_vehicle(personas.admin)
    client = client_for(y.staff)
    wrong = client.post("/vehicles/certificates/", {"vin": vin, "owner_id_number": valid_resident_id()})
    assert wrong.status_code == 422
    assert "所有人不符" in wrong.content.decode()
    limited = client.post("/vehicles/certificates/", {"vin": vin, "owner_id_number": owner_id_of(vin)})
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert "次数过多" in limited.content.decode()
    assert not ScrapCertificate.objects.exists()
