"""``huanxin vehicles scrap-list`` and the demo vehicles."""

import io
import json

import pytest
from django.core.management import call_command

from huanxin.conftest import valid_resident_id
from huanxin.vehicles import services
from huanxin.vehicles.demo import DEMO_VINS, load_demo
from huanxin.vehicles.models import Vehicle, VehicleEvent, VehicleImport
from huanxin.vehicles.tests.factories import csv_file, new_vin, registration

pytestmark = pytest.mark.django_db


def test_the_scrap_list_command_prints_one_line_per_vehicle_and_a_summary(personas):
    taxi = new_vin()
    services.import_registrations(
        actor=personas.admin,
        file_name="x.csv",
        content=csv_file(
            [
                registration(taxi, on="2016-01-10", type="taxi_small", use="营运", owner_id=valid_resident_id()),
                registration(new_vin(), owner_id=valid_resident_id()),
            ]
        ),
    )
    out = io.StringIO()
    call_command("vehicles", "scrap-list", "--as-of", "2024-06-01", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(line["vin"], line["status"]) for line in lines[:-1]] == [(taxi, "must_scrap")]
    assert lines[-1]["count"] == 1
    assert lines[-1]["summary"][0]["vehicle_type"] == "taxi_small"


def test_the_scrap_check_command_still_answers():
    out = io.StringIO()
    payload = {
        "vehicle_type": "taxi_small",
        "registered_on": "2016-01-10",
        "as_of": "2024-06-01",
        "mileage_km": 0,
        "missed_inspection_cycles": 0,
        "passes_safety": True,
        "passes_emission": True,
    }
    call_command("vehicles", "scrap-check", "--input", json.dumps(payload), stdout=out)
    assert json.loads(out.getvalue())["must_scrap"] is True


def test_the_demo_loads_vehicles_with_histories_once(personas):
    load_demo(personas.admin)
    load_demo(personas.admin)
    assert Vehicle.objects.count() == len(DEMO_VINS)
    assert VehicleImport.objects.count() == 1
    assert VehicleImport.objects.get().refused_count == 0
    assert VehicleEvent.objects.count() == 14
    assert Vehicle.objects.get(vin=DEMO_VINS["deregistered"]).status == "deregistered"
    assert Vehicle.objects.get(vin=DEMO_VINS["private_car"]).owner_name == "赵芳"


def test_the_demo_scrapping_enterprise_scraps_one_car_once(personas):
    import datetime

    from huanxin.accounts.models import Licence, Organisation, OrganisationKind, Role
    from huanxin.conftest import make_member
    from huanxin.vehicles.demo import SCRAPPER_USCC
    from huanxin.vehicles.models import ScrapAssembly, ScrapCertificate

    # As accounts.demo sets it up: the enterprise, its licence and its demo user "scrapper".
    enterprise = Organisation.objects.create(
        kind=OrganisationKind.VEHICLE_SCRAPPER,
        uscc=SCRAPPER_USCC,
        district_id="110113",
        name="北京顺达报废汽车回收拆解有限公司",
    )
    Licence.objects.create(
        organisation=enterprise,
        kind=Licence.Kind.VEHICLE_SCRAPPING,
        number="京报废车资字2022-008",
        valid_from=datetime.date(2023, 1, 1),
        valid_until=datetime.date(2027, 12, 31),
    )
    make_member(Role.DISMANTLER, enterprise, username="scrapper")
    load_demo(personas.admin)
    load_demo(personas.admin)
    certificate = ScrapCertificate.objects.get(vehicle__vin=DEMO_VINS["scrapped"])
    # Scrapped, then deregistered by the traffic police's second file (imported once, however often the demo runs).
    assert certificate.vehicle.status == "deregistered"
    assert certificate.vehicle.owner_name == "张三"
    assert [e.kind for e in certificate.vehicle.events.order_by("occurred_on")] == [
        "registration",
        "scrapping",
        "deregistration",
    ]
    assert certificate.number == "BFMA01HX0E02025000001"
    assert certificate.enterprise.name == "北京顺达报废汽车回收拆解有限公司"
    assert ScrapAssembly.objects.filter(certificate=certificate).count() == 5
    # The demo haulier's 国四 truck, for the bj-truck-2024 walk: scrapped after the car, deregistered, once.
    truck = ScrapCertificate.objects.get(vehicle__vin=DEMO_VINS["truck_renewal"]).vehicle
    assert ScrapCertificate.objects.count() == 2
    assert truck.status == "deregistered"
    assert truck.owner_name == "北京京运物流有限公司"
    assert [e.kind for e in truck.events.order_by("occurred_on")] == ["registration", "scrapping", "deregistration"]
