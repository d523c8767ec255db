"""Car application pages: a resident applies and uploads on a phone, follows the clock; a reviewer works the queue."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huanxin.conftest import client_for
from huanxin.vehicles.models import CarApplication, EvidenceFile
from huanxin.vehicles.tests.car_factories import HTML, JPEG, MODEL, PDF, car_programme, new_car, scrapped_car

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-WEB-1")
    vin = new_car(personas.admin, personas.consumer_person)
    return personas, old, vin


def _apply(client, old, vin):
    return client.post(
        "/vehicles/applications/new/",
        {
            "programme_code": "cn-car-scrap-2026",
            "old_vin": old.vin,
            "certificate_number": "BF-WEB-1",
            "new_vin": vin,
            "new_energy": "nev",
            "new_model_code": MODEL,
            "new_invoice_number": "FP1",
            "new_price_yuan": "150000.00",
            "bank_name": "中国银行",
            "account_number": "6216600100001234567",
        },
    )


def test_a_resident_applies_uploads_and_follows_the_clock(scene):
    personas, old, vin = scene
    client = client_for(personas.consumer)
    assert client.get("/vehicles/applications/new/").status_code == 200
    response = _apply(client, old, vin)
    assert response.status_code == 302, response.content.decode()[:2000]
    application = CarApplication.objects.get()
    assert application.new_price_fen == 15_000_000
    page = client.get(f"/vehicles/applications/{application.pk}/").content.decode()
    assert "预计最晚到账" in page
    assert "自动核验" in page
    assert "6216600100001234567" not in page
    fake = SimpleUploadedFile("id.jpg", HTML, content_type="image/jpeg")
    response = client.post(f"/vehicles/applications/{application.pk}/upload/", {"kind": "id_card", "file": fake})
    assert response.status_code == 422
    assert not EvidenceFile.objects.exists()
    real = SimpleUploadedFile("id.jpg", JPEG, content_type="image/jpeg")
    response = client.post(f"/vehicles/applications/{application.pk}/upload/", {"kind": "id_card", "file": real})
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get()
    download = client.get(f"/vehicles/applications/{application.pk}/evidence/{evidence.pk}/")
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "申请" in client.get("/vehicles/applications/").content.decode()


def test_a_reviewer_works_the_queue_and_others_are_refused(scene):
    personas, old, vin = scene
    _apply(client_for(personas.consumer), old, vin)
    application = CarApplication.objects.get()
    reviewer = client_for(personas.district_reviewer)
    assert application.number in reviewer.get("/vehicles/applications/queue/").content.decode()
    page = reviewer.get(f"/vehicles/applications/{application.pk}/").content.decode()
    assert "受理" in page
    for user in (personas.other_consumer, personas.clerk, personas.finance):
        client = client_for(user)
        assert client.get(f"/vehicles/applications/{application.pk}/").status_code == 404
        assert client.post(f"/vehicles/applications/{application.pk}/accept/").status_code == 404
    assert client_for(personas.clerk).get("/vehicles/applications/queue/").status_code == 403
    assert client_for(personas.clerk).get("/vehicles/applications/new/").status_code == 403
    assert reviewer.post(f"/vehicles/applications/{application.pk}/accept/").status_code == 302
    response = reviewer.post(
        f"/vehicles/applications/{application.pk}/decide/", {"decision": "approve:all_checks_passed", "note": ""}
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "approved"
    assert (
        "预计最晚到账"
        in client_for(personas.consumer).get(f"/vehicles/applications/{application.pk}/").content.decode()
    )


def test_a_dealer_prepares_on_the_page_and_the_resident_confirms_on_the_phone(scene):
    from huanxin.accounts.models import OrganisationKind, Role
    from huanxin.conftest import make_member, make_organisation

    personas, old, vin = scene
    dealer = make_member(Role.CAR_DEALER, make_organisation(OrganisationKind.CAR_DEALER, "110105"))
    assert client_for(personas.clerk).post("/vehicles/applications/prepare/", {}).status_code in (403, 422)
    response = client_for(dealer).post(
        "/vehicles/applications/prepare/",
        {
            "resident_id": personas.consumer_person.reveal_resident_id(),
            "consent_note": "授权书 1",
            "programme_code": "cn-car-scrap-2026",
            "old_vin": old.vin,
            "certificate_number": "BF-WEB-1",
            "new_vin": vin,
            "new_energy": "nev",
            "new_model_code": MODEL,
            "new_invoice_number": "FP1",
            "new_price_yuan": "150000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:1500]
    application = CarApplication.objects.get()
    assert application.status == "prepared"
    resident = client_for(personas.consumer)
    page = resident.get(f"/vehicles/applications/{application.pk}/").content.decode()
    assert "确认并提交申请" in page
    response = resident.post(
        f"/vehicles/applications/{application.pk}/confirm/",
        {"bank_name": "中国银行", "account_number": "6216600100001234567"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == "submitted"


def test_the_reviewer_sees_image_evidence_beside_the_checks_and_pdfs_as_downloads(scene):
    personas, old, vin = scene
    applicant = client_for(personas.consumer)
    _apply(applicant, old, vin)
    application = CarApplication.objects.get()
    for name, content, kind in (("id.jpg", JPEG, "id_card"), ("cert.pdf", PDF, "scrap_certificate")):
        upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
        response = applicant.post(f"/vehicles/applications/{application.pk}/upload/", {"kind": kind, "file": upload})
        assert response.status_code == 302
    image, pdf = EvidenceFile.objects.order_by("content_type").reverse()
    assert (image.content_type, pdf.content_type) == ("image/jpeg", "application/pdf")
    page = client_for(personas.district_reviewer).get(f"/vehicles/applications/{application.pk}/").content.decode()
    assert 'class="side-by-side"' in page
    assert f'<img src="/vehicles/applications/{application.pk}/evidence/{image.pk}/"' in page
    assert f'<img src="/vehicles/applications/{application.pk}/evidence/{pdf.pk}/"' not in page
    assert f'href="/vehicles/applications/{application.pk}/evidence/{pdf.pk}/"' in page


def test_a_form_left_empty_names_each_missing_field(scene):
    personas, _, _ = scene
    # As a browser sends it: every field present, all of them empty.
    empty = dict.fromkeys(("programme_code", "old_vin", "new_vin", "new_energy", "bank_name", "account_number"), "")
    response = client_for(personas.consumer).post("/vehicles/applications/new/", empty)
    assert response.status_code == 422
    page = response.content.decode()
    assert "请填写开户银行" in page
    assert "这个字段是必填项" not in page
