"""The write side of scrapping: a licensed scrapping enterprise takes a vehicle in and issues its
报废机动车回收证明, records where the five major assemblies went, and hands a new-energy vehicle's traction
battery to a battery recycler through the traceability chain.

Each verb checks who is acting for which enterprise, owns its transaction and writes its audit row in it. The
certificate appends the vehicle's ``scrapping`` event through ``services.append_event``; the battery's trace
code and hand-over are recorded by ``trace.services.hand_over_traction_battery``, both in the same transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import replace

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, User
from huanxin.core import audit
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.trace import services as trace_services
from huanxin.vehicles import queries, services
from huanxin.vehicles.domain import certificates, records
from huanxin.vehicles.domain.certificates import AssemblyInput, BatteryCodeError
from huanxin.vehicles.domain.vin import VinError, validate_vin
from huanxin.vehicles.models import (
    CertificateSequence,
    ScrapAssembly,
    ScrapCertificate,
    TractionBattery,
    Vehicle,
    VehicleEvent,
)

ALREADY_SCRAPPED = "该车辆已办理报废回收，一辆车只能报废一次"


def _require_enterprise(actor: User, enterprise: Organisation) -> None:
    """The actor works for this enterprise, and it is a vehicle-scrapping enterprise."""
    if not queries.scrapping_enterprises_of(actor).filter(pk=enterprise.pk).exists():
        raise ForbiddenError(queries.SCRAPPING_REFUSED, code="scrapping_forbidden")


def _licence_on(enterprise: Organisation, day: datetime.date) -> Licence:
    """The enterprise's 报废机动车回收拆解企业资质认定 valid on the day, or a refusal."""
    licence = enterprise.valid_licences(Licence.Kind.VEHICLE_SCRAPPING, day).order_by("valid_from", "pk").first()
    if licence is None:
        raise ForbiddenError(
            f"本企业在 {day:%Y-%m-%d} 没有有效的报废机动车回收拆解企业资质认定证书，不能办理回收",
            code="scrapper_not_licensed",
        )
    return licence


def _next_sequence(enterprise: Organisation, year: int) -> int:
    """The next sequence number of the enterprise's certificates of the year: one guarded increment (its row lock
    queues concurrent issuers of the same enterprise), the row created by the first certificate of the year."""
    counter = CertificateSequence.objects.filter(enterprise=enterprise, year=year)
    if not counter.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                CertificateSequence.objects.create(enterprise=enterprise, year=year, last=1)
                return 1
        except IntegrityError:
            # Another first certificate of the year created the row between our update and our insert.
            counter.update(last=F("last") + 1)
    return int(counter.values_list("last", flat=True).get())


def issue_certificate(
    *, actor: User, enterprise: Organisation, vin: str, intake_on: datetime.date | None = None
) -> ScrapCertificate:
    """Take a vehicle in and issue its 报废机动车回收证明: the enterprise's licence must be valid on the intake
    date; the VIN must be on the registry and neither scrapped nor deregistered; the owner is the one on record.
    A VIN is scrapped once (a constraint): of two intakes at once, one gets the certificate, the other a conflict."""
    _require_enterprise(actor, enterprise)
    try:
        canonical = validate_vin(vin)
    except VinError as exc:
        raise ValidationFailed.for_field("vin", exc.code, exc.message) from None
    today = timezone.localdate(timezone=services.BEIJING)
    day = intake_on or today
    if day > today:
        raise ValidationFailed.for_field("intake_on", "future_date", "回收日期不能晚于今天")
    licence = _licence_on(enterprise, day)
    if day != today:
        # A backdated intake needs today's licence too: an enterprise whose licence lapsed issues nothing more.
        _licence_on(enterprise, today)
    try:
        with transaction.atomic(durable=True):
            # Locked: a second intake of the same vehicle waits here and then finds it scrapped.
            vehicle = Vehicle.objects.select_for_update().filter(vin=canonical).first()
            if vehicle is None:
                raise ValidationFailed.for_field(
                    "vin", "vehicle_not_found", "机动车登记信息中没有该车辆识别代号，请核对车辆识别代号"
                )
            if vehicle.status != "registered":
                raise ConflictError(
                    ALREADY_SCRAPPED if vehicle.status == "scrapped" else "该车辆已注销登记，不能再办理报废回收",
                    code="vehicle_scrapped" if vehicle.status == "scrapped" else "vehicle_deregistered",
                )
            number = certificates.certificate_number(
                uscc=enterprise.uscc, year=day.year, sequence=_next_sequence(enterprise, day.year)
            )
            certificate = ScrapCertificate.objects.create(
                number=number,
                vehicle=vehicle,
                enterprise=enterprise,
                licence_number=licence.number,
                intake_on=day,
                owner_kind=vehicle.owner_kind,
                owner_name=vehicle.owner_name,
                owner_id_cipher=vehicle.owner_id_cipher,
                owner_id_digest=vehicle.owner_id_digest,
                owner_id_masked=vehicle.owner_id_masked,
                issued_by=actor,
            )
            try:
                services.append_event(
                    actor=actor,
                    vehicle=vehicle,
                    kind="scrapping",
                    occurred_on=day,
                    source=VehicleEvent.Source.SCRAPPING_ENTERPRISE,
                    organisation=enterprise,
                    reference=number,
                    details={"certificate": number},
                )
            except ValidationFailed as refused:
                # The event's date is what this form calls the intake date: the error names the field sent.
                raise ValidationFailed.from_errors(
                    [
                        replace(error, field="intake_on") if error.field == "occurred_on" else error
                        for error in refused.errors
                    ]
                ) from None
            audit.record(
                actor=actor,
                action="vehicles.scrapping.issue_certificate",
                target=certificate,
                after={"number": number, "vin": vehicle.vin, "intake_on": day.isoformat(), "licence": licence.number},
                organisation_id=enterprise.pk,
                district_code=vehicle.district_id,
            )
    except IntegrityError:
        # Another intake of the same vehicle committed between our read and our write (SQLite, which takes no
        # row lock; on PostgreSQL the lock above makes the loser see the vehicle scrapped). Any other conflict is
        # not that, and is not reported as that.
        if ScrapCertificate.objects.filter(vehicle__vin=canonical).exists():
            raise ConflictError(ALREADY_SCRAPPED, code="vehicle_scrapped") from None
        raise
    return certificate


def _own_certificate(actor: User, enterprise: Organisation, certificate_id: int) -> ScrapCertificate:
    _require_enterprise(actor, enterprise)
    return queries.get_certificate_of(enterprise, certificate_id)


def record_assemblies(
    *, actor: User, enterprise: Organisation, certificate_id: int, assemblies: Sequence[AssemblyInput]
) -> list[ScrapAssembly]:
    """Record where the five major assemblies of a scrapped vehicle went: each of the five once, with its
    destination (remanufacturing or smelting) and the receiving party's name; recorded once per certificate."""
    certificate = _own_certificate(actor, enterprise, certificate_id)
    problem = certificates.assemblies_problem(assemblies)
    if problem is not None:
        raise ValidationFailed.for_field(problem.field, problem.code, problem.message)
    refusal = ConflictError("该证明的五大总成去向已记录，不能重复记录", code="assemblies_recorded")
    try:
        with transaction.atomic(durable=True):
            if ScrapAssembly.objects.filter(certificate=certificate).exists():
                raise refusal
            now = timezone.now()
            rows = ScrapAssembly.objects.bulk_create(
                [
                    ScrapAssembly(
                        certificate=certificate,
                        assembly=item.assembly,
                        destination=item.destination,
                        receiver_name=item.receiver_name.strip(),
                        recorded_by=actor,
                        recorded_at=now,
                    )
                    for item in assemblies
                ]
            )
            audit.record(
                actor=actor,
                action="vehicles.scrapping.record_assemblies",
                target=certificate,
                after={
                    item.assembly: {"destination": item.destination, "receiver": item.receiver_name.strip()}
                    for item in assemblies
                },
                organisation_id=enterprise.pk,
            )
    except IntegrityError:
        raise refusal from None
    return rows


def hand_over_battery(
    *, actor: User, enterprise: Organisation, certificate_id: int, battery_code: str, recycler_id: int
) -> TractionBattery:
    """Hand a scrapped new-energy vehicle's traction battery, by its GB/T 34014 code, to a battery recycler that
    holds a cascade-use or recycling licence valid today: the battery gets a trace code held by the enterprise
    and a shipment to the recycler on the traceability chain. A battery is handed over once."""
    certificate = _own_certificate(actor, enterprise, certificate_id)
    if not records.is_nev(certificate.vehicle.fuel):
        raise ValidationFailed.for_field("battery_code", "not_nev", "该车辆不是新能源汽车，没有需要移交的动力蓄电池")
    try:
        code = certificates.validate_battery_code(battery_code)
    except BatteryCodeError as exc:
        raise ValidationFailed.for_field("battery_code", exc.code, exc.message) from None
    recycler = Organisation.objects.filter(pk=recycler_id).exclude(kind=OrganisationKind.GOVERNMENT).first()
    if recycler is None:
        raise ValidationFailed.for_field("recycler", "unknown_recycler", "接收企业不存在")
    refusal = ConflictError("该动力蓄电池已移交，不能重复移交", code="battery_handed_over")
    if TractionBattery.objects.filter(code=code).exists():
        raise refusal
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            item = trace_services.hand_over_traction_battery(
                actor=actor, organisation=enterprise, battery_code=code, recycler=recycler, when=now
            )
            battery = TractionBattery.objects.create(
                certificate=certificate,
                code=code,
                trace_code=item.code,
                recycler=recycler,
                recorded_by=actor,
                handed_over_at=now,
            )
            audit.record(
                actor=actor,
                action="vehicles.scrapping.hand_over_battery",
                target=battery,
                after={
                    "certificate": certificate.number,
                    "battery_code": code,
                    "trace_code": item.code,
                    "recycler": recycler.pk,
                },
                organisation_id=enterprise.pk,
            )
    except IntegrityError:
        raise refusal from None
    return battery
