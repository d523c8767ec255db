"""The vehicles API: import with its report, VIN search with the history, the mandatory-scrapping list; refusals
leave no trace."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from huanxin.accounts.models import Role
from huanxin.conftest import api_client_for, make_member, valid_resident_id
from huanxin.core.models import AuditEntry
from huanxin.vehicles import services
from huanxin.vehicles.models import Vehicle, VehicleImport
from huanxin.vehicles.tests.factories import csv_file, deregistration, inspection, new_vin, registration

pytestmark = pytest.mark.django_db


def post_file(client, rows, **data):
    upload = SimpleUploadedFile("登记.csv", csv_file(rows))
    return client.post("/api/v1/vehicles/imports", {"file": upload, **data})


def record(personas, rows):
    return services.import_registrations(actor=personas.admin, file_name="x.csv", content=csv_file(rows))


def test_an_administrator_imports_a_file_and_reads_the_report_again(personas):
    vin = new_vin()
    client = api_client_for(personas.admin)
    response = post_file(
        client, [registration(vin, owner_id=valid_resident_id()), registration("LSV1", owner_id=valid_resident_id())]
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["outcome"], body["recorded"], body["refused"], body["withheld"]) == ("refused", 0, 1, 1)
    assert body["errors"] == [
        {
            "row": 3,
            "column": "vin",
            "column_label": "车辆识别代号",
            "code": "vin_length",
            "message": "车辆识别代号（VIN）应为17位",
            "value": "LSV1",
        }
    ]
    again = client.get(f"/api/v1/vehicles/imports/{body['id']}").json()
    assert again == body
    good = post_file(
        client,
        [registration(vin, owner_id=valid_resident_id()), registration("LSV1", owner_id=valid_resident_id())],
        good_rows_only="true",
    )
    assert (good.json()["outcome"], good.json()["recorded"]) == ("imported", 1)
    assert Vehicle.objects.filter(vin=vin).exists()


def test_an_import_retried_with_the_same_idempotency_key_runs_once(personas):
    client = api_client_for(personas.admin)
    rows = [registration(new_vin(), owner_id=valid_resident_id())]
    first = client.post(
        "/api/v1/vehicles/imports", {"file": SimpleUploadedFile("a.csv", csv_file(rows))}, HTTP_IDEMPOTENCY_KEY="imp-1"
    )
    second = client.post(
        "/api/v1/vehicles/imports", {"file": SimpleUploadedFile("a.csv", csv_file(rows))}, HTTP_IDEMPOTENCY_KEY="imp-1"
    )
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert VehicleImport.objects.count() == 1


@pytest.mark.parametrize("who", ["district_reviewer", "clerk", "consumer", "finance", "auditor"])
def test_importing_is_refused_to_everyone_but_city_wide_keepers_with_no_side_effect(personas, who):
    response = post_file(
        api_client_for(getattr(personas, who)), [registration(new_vin(), owner_id=valid_resident_id())]
    )
    assert response.status_code == 403
    assert response.json()["code"] == "vehicle_import_forbidden"
    assert not VehicleImport.objects.exists()
    assert not Vehicle.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="vehicles.").exists()


def test_importing_needs_a_sign_in(personas):
    response = post_file(Client(), [registration(new_vin(), owner_id=valid_resident_id())])
    assert response.status_code == 401
    assert not VehicleImport.objects.exists()


def test_staff_find_a_vehicle_by_vin_with_its_history_and_a_masked_owner(personas):
    vin = new_vin()
    owner = valid_resident_id()
    record(personas, [registration(vin, owner_id=owner), inspection(vin, on="2020-02-02", mileage="9000")])
    response = api_client_for(personas.auditor).post(
        "/api/v1/vehicles/search", json.dumps({"vin": vin.lower()}), content_type="application/json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["vin"] == vin
    assert body["owner_name"] == "王**"
    assert body["owner_id_masked"] == owner[:6] + "********" + owner[-4:]
    assert owner not in response.content.decode()
    assert [e["kind"] for e in body["events"]] == ["registration", "inspection"]
    assert body["events"][1]["details"] == {"passed": True, "mileage_km": 9000}
    assert (body["status"], body["district"], body["mileage_km"]) == ("registered", "110105", 9000)


def test_a_bad_vin_is_refused_saying_which_check_failed(personas):
    client = api_client_for(personas.reviewer)
    vin = new_vin()
    wrong = vin[:8] + ("1" if vin[8] != "1" else "2") + vin[9:]
    for text, code in [(vin[:-1], "vin_length"), (vin[:-1] + "O", "vin_characters"), (wrong, "vin_check_digit")]:
        response = client.post("/api/v1/vehicles/search", json.dumps({"vin": text}), content_type="application/json")
        assert response.status_code == 422
        assert response.json()["code"] == code
        assert response.json()["errors"][0]["field"] == "vin"


def test_a_district_reviewer_finds_only_the_vehicles_of_the_district(personas):
    here, there = new_vin(), new_vin()
    record(
        personas,
        [
            registration(here, owner_id=valid_resident_id()),
            registration(there, owner_id=valid_resident_id(), district="海淀区"),
        ],
    )
    client = api_client_for(personas.district_reviewer)
    assert (
        client.post("/api/v1/vehicles/search", json.dumps({"vin": here}), content_type="application/json").status_code
        == 200
    )
    hidden = client.post("/api/v1/vehicles/search", json.dumps({"vin": there}), content_type="application/json")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "vehicle_not_found"


@pytest.mark.parametrize("who", ["clerk", "consumer", "finance", "recycler", "outsider"])
def test_the_vin_search_is_refused_to_non_staff(personas, who):
    vin = new_vin()
    record(personas, [registration(vin, owner_id=valid_resident_id())])
    response = api_client_for(getattr(personas, who)).post(
        "/api/v1/vehicles/search", json.dumps({"vin": vin}), content_type="application/json"
    )
    assert response.status_code == 403
    assert vin not in response.content.decode()


def test_the_scrapping_list_shows_vehicles_due_by_district_and_type(personas):
    taxi, truck, private = new_vin(), new_vin(), new_vin()
    record(
        personas,
        [
            registration(taxi, on="2016-01-10", type="taxi_small", use="营运", owner_id=valid_resident_id()),
            registration(
                truck, on="2014-05-20", type="truck_heavy", use="营运", fuel="柴油", displacement="11000",
                emission="国四", owner_id=valid_resident_id(), district="通州区",
            ),
            registration(private, on="2005-01-01", owner_id=valid_resident_id()),
        ],
    )  # fmt: skip
    body = api_client_for(personas.auditor).get("/api/v1/vehicles/scrapping-list?as_of=2024-06-01").json()
    assert body["count"] == 2
    assert [(i["vin"], i["status"], i["bj_truck_2024"]) for i in body["items"]] == [
        (taxi, "must_scrap", False),
        (truck, "bj_truck_2024", True),
    ]
    assert body["items"][0]["service_life_ends_on"] == "2024-01-10"
    assert [(s["district"], s["vehicle_type"], s["must_scrap"], s["bj_truck_2024"]) for s in body["summary"]] == [
        ("110105", "taxi_small", 1, 0),
        ("110112", "truck_heavy", 0, 1),
    ]
    trucks = api_client_for(personas.auditor).get("/api/v1/vehicles/scrapping-list?as_of=2024-06-01&bj_truck_only=true")
    assert [i["vin"] for i in trucks.json()["items"]] == [truck]


def test_a_vehicle_due_within_a_year_is_listed_and_a_deregistered_one_is_not(personas):
    due, gone = new_vin(), new_vin()
    record(
        personas,
        [
            registration(due, on="2016-09-01", type="taxi_small", use="营运", owner_id=valid_resident_id()),
            registration(gone, on="2010-01-01", type="taxi_small", use="营运", owner_id=valid_resident_id()),
            deregistration(gone, on="2018-01-01"),
        ],
    )
    body = api_client_for(personas.admin).get("/api/v1/vehicles/scrapping-list?as_of=2024-06-01").json()
    assert [(i["vin"], i["status"]) for i in body["items"]] == [(due, "due_within_year")]


@pytest.mark.parametrize("who", ["clerk", "consumer", "finance", "outsider"])
def test_the_scrapping_list_is_refused_to_non_staff(personas, who):
    response = api_client_for(getattr(personas, who)).get("/api/v1/vehicles/scrapping-list")
    assert response.status_code == 403


def test_a_supervisor_reads_the_registry(personas):
    supervisor = make_member(Role.SUPERVISOR, personas.government)
    assert api_client_for(supervisor).get("/api/v1/vehicles/scrapping-list").status_code == 200


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31", "1949-12-31"])
def test_a_day_outside_the_calendar_the_list_covers_is_a_field_error(personas, as_of):
    response = api_client_for(personas.auditor).get(f"/api/v1/vehicles/scrapping-list?as_of={as_of}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "as_of"


def test_import_reports_are_for_keepers_and_city_wide_readers(personas):
    report = record(personas, [registration(new_vin(), owner_id=valid_resident_id())])
    url = f"/api/v1/vehicles/imports/{report.import_id}"
    assert api_client_for(personas.auditor).get(url).status_code == 200
    assert api_client_for(personas.reviewer).get(url).status_code == 200
    for who in ("district_reviewer", "clerk", "consumer", "finance"):
        assert api_client_for(getattr(personas, who)).get(url).status_code == 404
