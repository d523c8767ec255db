"""Helpers for the car application tests: a car programme with a budget, an old car scrapped and deregistered in
the applicant's name, a new car registered to them, tiny real JPEG/PNG/PDF files."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from huanxin.accounts.models import Person, User
from huanxin.policy import ledger
from huanxin.policy.models import Programme
from huanxin.vehicles import application_services as car
from huanxin.vehicles import services
from huanxin.vehicles.models import CarApplication, NevCatalogueEntry, Vehicle, VehicleEvent
from huanxin.vehicles.tests.factories import csv_file, deregistration, new_vin, registration

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"
HTML = b"<html><script>alert(1)</script></html>"
MODEL = "BYD7152WT6HEVC3"


def car_programme(code: str = "cn-car-scrap-2026", budget_fen: int = 100_000_000) -> Programme:
    programme, _ = Programme.objects.get_or_create(
        code=code, defaults={"name": code, "family": "car", "slices_per_district": 1, "status": "open"}
    )
    with transaction.atomic():
        ledger.allocate(programme, {"110105": budget_fen, "110108": budget_fen})
    return programme


def scrapped_car(admin: User, person: Person, *, certificate: str, scrap_on: str = "2026-11-02") -> Vehicle:
    """An old gasoline car registered to ``person`` in 2012, scrapped (certificate) and deregistered."""
    vin = new_vin()
    services.import_registrations(
        actor=admin,
        file_name="reg.csv",
        content=csv_file(
            [registration(vin, on="2012-05-01", owner_id=person.reveal_resident_id(), owner_name=person.name)]
        ),
    )
    vehicle = Vehicle.objects.get(vin=vin)
    VehicleEvent.objects.create(
        vehicle=vehicle,
        kind="scrapping",
        occurred_on=scrap_on,
        source="scrapping_enterprise",
        reference=certificate,
        content_digest=f"test-{certificate}",
        recorded_by=admin,
    )
    services.import_registrations(
        actor=admin, file_name="dereg.csv", content=csv_file([deregistration(vin, on="2026-11-05")])
    )
    vehicle.refresh_from_db()
    return vehicle


def new_car(admin: User, person: Person) -> str:
    vin = new_vin("LGX")
    services.import_registrations(
        actor=admin,
        file_name="new.csv",
        content=csv_file(
            [
                registration(
                    vin,
                    on="2026-11-20",
                    fuel="纯电动",
                    displacement="",
                    emission="",
                    owner_id=person.reveal_resident_id(),
                    owner_name=person.name,
                )
            ]
        ),
    )
    NevCatalogueEntry.objects.get_or_create(model_code=MODEL)
    return vin


def file_application(user: User, *, old_vin: str, new_vin: str, certificate: str, **overrides: Any) -> CarApplication:
    fields: dict[str, Any] = {
        "programme_code": "cn-car-scrap-2026",
        "old_vin": old_vin,
        "new_vin": new_vin,
        "certificate_number": certificate,
        "new_invoice_number": "0123456789",
        "new_price_fen": 15_000_000,
        "new_energy": "nev",
        "new_model_code": MODEL,
        "bank_name": "中国工商银行北京朝阳支行",
        "account_number": "6222020200112233445",
    }
    fields.update(overrides)
    return car.submit_application(actor=user, **fields)
