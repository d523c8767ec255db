"""The vehicle pages: VIN search by POST, upload and report, the mandatory-scrapping list; refusals for
non-staff with no side effects."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from huanxin.conftest import client_for, valid_resident_id, valid_uscc
from huanxin.core.models import AuditEntry
from huanxin.vehicles import services
from huanxin.vehicles.models import Vehicle, VehicleImport
from huanxin.vehicles.tests.factories import csv_file, inspection, new_vin, registration

pytestmark = pytest.mark.django_db


def record(personas, rows):
    return services.import_registrations(actor=personas.admin, file_name="x.csv", content=csv_file(rows))


def test_the_search_page_finds_a_vehicle_by_a_posted_vin_and_shows_its_history(personas):
    vin = new_vin()
    owner = valid_resident_id()
    record(personas, [registration(vin, owner_id=owner), inspection(vin, on="2021-04-01", mileage="77000")])
    client = client_for(personas.reviewer)
    assert client.get("/vehicles/").status_code == 200
    page = client.post("/vehicles/", {"vin": vin})
    assert page.status_code == 200
    html = page.content.decode()
    assert vin in html
    assert "注册登记" in html
    assert "安全技术检验" in html
    assert "77000 公里" in html
    assert "王**" in html
    assert owner not in html
    assert owner[:6] + "********" + owner[-4:] in html


def test_a_bad_vin_on_the_page_says_which_check_failed(personas):
    response = client_for(personas.reviewer).post("/vehicles/", {"vin": "LSVAB23C0DM00010"})
    assert response.status_code == 422
    assert "车辆识别代号（VIN）应为17位" in response.content.decode()


def test_an_unknown_vin_is_not_found(personas):
    response = client_for(personas.reviewer).post("/vehicles/", {"vin": new_vin()})
    assert response.status_code == 404
    assert "未找到该车辆" in response.content.decode()


@pytest.mark.parametrize("who", ["clerk", "consumer", "finance", "recycler", "outsider"])
@pytest.mark.parametrize("url", ["/vehicles/", "/vehicles/scrapping/", "/vehicles/imports/"])
def test_pages_are_refused_to_non_staff(personas, who, url):
    assert client_for(getattr(personas, who)).get(url).status_code == 403


@pytest.mark.parametrize("url", ["/vehicles/", "/vehicles/scrapping/", "/vehicles/imports/"])
def test_pages_ask_a_signed_out_visitor_to_sign_in(personas, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_a_refused_search_post_shows_nothing(personas):
    vin = new_vin()
    record(personas, [registration(vin, owner_id=valid_resident_id())])
    response = client_for(personas.clerk).post("/vehicles/", {"vin": vin})
    assert response.status_code == 403
    assert vin not in response.content.decode()


def test_an_upload_with_errors_imports_nothing_and_the_report_lists_each_row(personas):
    client = client_for(personas.admin)
    content = csv_file([registration(new_vin(), owner_id=valid_resident_id()), registration("LSV1", owner_id="x")])
    response = client.post("/vehicles/imports/", {"file": SimpleUploadedFile("登记.csv", content)})
    record_ = VehicleImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/vehicles/imports/{record_.pk}/"
    assert not Vehicle.objects.exists()
    report = client.get(response["Location"]).content.decode()
    assert 'data-outcome="refused"' in report
    assert 'data-code="vin_length"' in report
    assert 'data-code="owner_id_invalid_length"' in report


def test_an_upload_may_import_the_good_rows(personas):
    vin = new_vin()
    content = csv_file([registration(vin, owner_id=valid_resident_id()), registration("LSV1", owner_id="x")])
    client_for(personas.admin).post(
        "/vehicles/imports/", {"file": SimpleUploadedFile("登记.csv", content), "good_rows_only": "on"}
    )
    assert list(Vehicle.objects.values_list("vin", flat=True)) == [vin]


def test_a_district_reviewer_may_not_upload_and_nothing_is_stored(personas):
    content = csv_file([registration(new_vin(), owner_id=valid_resident_id())])
    response = client_for(personas.district_reviewer).post(
        "/vehicles/imports/", {"file": SimpleUploadedFile("登记.csv", content)}
    )
    assert response.status_code == 403
    assert not VehicleImport.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="vehicles.").exists()


def test_the_scrapping_list_page_shows_the_summary_and_the_flags(personas):
    taxi, truck = new_vin(), new_vin()
    record(
        personas,
        [
            registration(taxi, on="2016-01-10", type="taxi_small", use="营运", owner_id=valid_resident_id()),
            registration(
                truck, on="2014-05-20", type="truck_heavy", use="营运", fuel="柴油", displacement="11000",
                emission="国四", owner_kind="单位", owner_name="京运物流", owner_id=valid_uscc(), district="通州区",
            ),
        ],
    )  # fmt: skip
    html = client_for(personas.auditor).get("/vehicles/scrapping/?as_of=2024-06-01").content.decode()
    assert taxi in html
    assert 'data-status="must_scrap"' in html
    assert "小、微型出租客运汽车" in html
    assert "朝阳区" in html
    assert truck in html
    assert 'data-programme="bj-truck-2024"' in html


def test_the_scrapping_list_has_no_inline_script_or_style(personas):
    html = client_for(personas.auditor).get("/vehicles/scrapping/").content.decode()
    assert "<style" not in html
    assert " style=" not in html
    assert "<script>" not in html


def test_the_scrapping_list_page_refuses_a_day_outside_its_range(personas):
    response = client_for(personas.auditor).get("/vehicles/scrapping/?as_of=9999-12-31")
    assert response.status_code == 422
    assert "评估日期应在" in response.content.decode()
