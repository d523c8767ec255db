"""The car application API: filing, evidence upload and download (attachment, nosniff, applicant and reviewers
only), the queue sorted by deadline, review verbs, refusals for other roles with nothing changed."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huanxin.conftest import api_client_for
from huanxin.core.models import AuditEntry
from huanxin.vehicles.models import CarApplication, EvidenceFile
from huanxin.vehicles.tests.car_factories import HTML, MODEL, PDF, car_programme, new_car, scrapped_car

pytestmark = pytest.mark.django_db

BASE = "/api/v1/vehicles/applications"


@pytest.fixture
def filed(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-API-1")
    vin = new_car(personas.admin, personas.consumer_person)
    response = api_client_for(personas.consumer).post(
        BASE,
        data={
            "programme_code": "cn-car-scrap-2026",
            "old_vin": old.vin,
            "new_vin": vin,
            "certificate_number": "BF-API-1",
            "new_invoice_number": "NO123",
            "new_car_price_fen": 15_000_000,
            "new_energy": "nev",
            "new_model_code": MODEL,
            "bank_name": "中国银行",
            "account_number": "6216600100001234567",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_filing_and_following_an_application(personas, filed):
    assert filed["status"] == "submitted"
    assert {c["result"] for c in filed["checks"]} == {"pass"}
    assert filed["account_masked"].endswith("4567")
    assert "6216600100001234567" not in str(filed)
    assert [s["code"] for s in filed["clock"]["stages"]] == ["accept", "decide", "pay"]
    assert filed["clock"]["expected_payment_on"]
    mine = api_client_for(personas.consumer).get(BASE).json()
    assert [a["id"] for a in mine] == [filed["id"]]
    assert api_client_for(personas.other_consumer).get(BASE).json() == []
    assert api_client_for(personas.other_consumer).get(f"{BASE}/{filed['id']}").status_code == 404


def test_evidence_upload_refuses_a_fake_and_serves_a_real_one_as_an_attachment(personas, filed):
    client = api_client_for(personas.consumer)
    fake = SimpleUploadedFile("cert.pdf", HTML, content_type="application/pdf")
    response = client.post(f"{BASE}/{filed['id']}/evidence", data={"kind": "scrap_certificate", "file": fake})
    assert response.status_code == 422
    assert not EvidenceFile.objects.exists()
    real = SimpleUploadedFile("cert.pdf", PDF, content_type="application/pdf")
    response = client.post(f"{BASE}/{filed['id']}/evidence", data={"kind": "scrap_certificate", "file": real})
    assert response.status_code == 201, response.content
    evidence_id = response.json()["id"]
    url = f"{BASE}/{filed['id']}/evidence/{evidence_id}"
    for user in (personas.consumer, personas.reviewer, personas.district_reviewer):
        download = api_client_for(user).get(url)
        assert download.status_code == 200
        assert download.content == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith("attachment")
        assert download["X-Content-Type-Options"] == "nosniff"
    for user in (personas.other_consumer, personas.clerk, personas.finance, personas.outsider):
        assert api_client_for(user).get(url).status_code in (401, 403, 404)
    other = SimpleUploadedFile("x.png", PDF, content_type="image/png")
    assert (
        api_client_for(personas.other_consumer)
        .post(f"{BASE}/{filed['id']}/evidence", data={"kind": "id_card", "file": other})
        .status_code
        == 404
    )
    assert EvidenceFile.objects.count() == 1


def test_review_through_the_api_and_refusals_for_other_roles(personas, filed):
    url = f"{BASE}/{filed['id']}"
    before = AuditEntry.objects.count()
    for user in (personas.consumer, personas.other_consumer, personas.clerk, personas.finance, personas.auditor):
        response = api_client_for(user).post(f"{url}/accept")
        assert response.status_code in (403, 404), (user, response.content)
        response = api_client_for(user).post(
            f"{url}/decision",
            data={"approve": True, "reason_code": "all_checks_passed"},
            content_type="application/json",
        )
        assert response.status_code in (403, 404)
    assert AuditEntry.objects.count() == before
    assert CarApplication.objects.get().status == "submitted"
    assert api_client_for(personas.consumer).get(f"{BASE}/queue").status_code == 403
    queue = api_client_for(personas.district_reviewer).get(f"{BASE}/queue").json()
    assert [q["id"] for q in queue] == [filed["id"]]
    assert queue[0]["stage"] == "accept"
    reviewer = api_client_for(personas.district_reviewer)
    assert reviewer.post(f"{url}/accept").json()["status"] == "accepted"
    bad = reviewer.post(
        f"{url}/decision", data={"approve": False, "reason_code": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 422
    decided = reviewer.post(
        f"{url}/decision", data={"approve": True, "reason_code": "all_checks_passed"}, content_type="application/json"
    ).json()
    assert decided["status"] == "approved"
    assert decided["amount_fen"] == 1_800_000
    assert decided["clock"]["stages"][2]["due_on"] == decided["clock"]["expected_payment_on"]


def test_nev_catalogue_import_for_city_wide_keepers_only(personas):
    from huanxin.vehicles.models import NevCatalogueEntry

    content = (
        "车辆型号,生产企业,品牌\r\n"
        "BYD7152WT6HEVC3,比亚迪汽车工业有限公司,比亚迪\r\n"
        "TSL7000BEVAR0,特斯拉（上海）有限公司,特斯拉\r\n"
    )
    for user in (personas.consumer, personas.district_reviewer, personas.finance, personas.clerk):
        upload = SimpleUploadedFile("nev.csv", content.encode(), content_type="text/csv")
        response = api_client_for(user).post(f"{BASE}/nev-catalogue", data={"file": upload})
        assert response.status_code == 403
    assert not NevCatalogueEntry.objects.exists()
    for expected in (2, 0):
        upload = SimpleUploadedFile("nev.csv", content.encode(), content_type="text/csv")
        response = api_client_for(personas.admin).post(f"{BASE}/nev-catalogue", data={"file": upload})
        assert response.status_code == 201, response.content
        assert response.json()["added"] == expected
    assert NevCatalogueEntry.objects.count() == 2
    bad = SimpleUploadedFile("nev.csv", "品牌\r\nX\r\n".encode(), content_type="text/csv")
    assert api_client_for(personas.admin).post(f"{BASE}/nev-catalogue", data={"file": bad}).status_code == 422
