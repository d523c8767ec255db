"""The write side of scrapping: a licensed scrapping enterprise takes a vehicle in and issues its
报废机动车回收证明, records where the five major assemblies went, and hands a new-energy vehicle's traction
battery to a battery recycler through the traceability chain.

Each verb checks who is acting for which enterprise, owns its transaction and writes its audit row in it. The
certificate appends the vehicle's ``scrapping`` event through ``services.append_event``; the battery's trace
code and hand-over are recorded by ``trace.services.hand_over_traction_battery``, both in the same transaction.
"""

from __future__ import annotations

import contextlib
import datetime
import hmac
from collections.abc import Sequence
from dataclasses import replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, User
from huanxin.accounts.services import TryAgainLater
from huanxin.core import audit, crypto, ratelimit
from huanxin.core.domain.identifiers import IdentifierError, validate_resident_id, validate_uscc
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


OWNER_MISMATCH = "证件号码与机动车登记的所有人不符：车辆须凭登记所有人的身份证件（单位为统一社会信用代码）交车"


OWNER_ID_FORMAT = "证件号码格式不正确：个人为18位居民身份证号码，单位为18位统一社会信用代码"


def _owner_digests(owner_id_number: str) -> dict[str, str]:
    """The blind indexes the identity number shown at intake could match, by owner kind: as a resident ID
    (person) and as a unified social credit code (organisation), for whichever form it is valid in. A number of
    neither form is refused with one message that says nothing of the vehicle's owner."""
    digests: dict[str, str] = {}
    with contextlib.suppress(IdentifierError):
        digests["person"] = crypto.blind_index(validate_resident_id(owner_id_number), purpose="resident_id")
    with contextlib.suppress(IdentifierError):
        digests["organisation"] = crypto.blind_index(validate_uscc(owner_id_number), purpose="uscc")
    if not digests:
        raise ValidationFailed.for_field("owner_id_number", "invalid_id_number", OWNER_ID_FORMAT)
    return digests


def _owner_presented(vehicle: Vehicle, digests: dict[str, str]) -> bool:
    digest = digests.get(vehicle.owner_kind, "")
    return bool(digest and vehicle.owner_id_digest) and hmac.compare_digest(digest, vehicle.owner_id_digest)


def _check_owner(enterprise: Organisation, vin: str, digests: dict[str, str]) -> None:
    """The identity number shown at intake is the registered owner's. Checked before the intake's transaction so
    that the attempt is counted (and the count survives the refusal). Each check takes a slot of the enterprise's
    hourly allowance first and gives it back when the number matches, so parallel guesses cannot all pass the
    limit: past it the enterprise waits, and a yard login cannot probe whose identity number owns which vehicle.
    A vehicle that cannot be taken in (unknown, scrapped, deregistered) is refused by the intake before any owner
    comparison, so its refusal says nothing of the number either."""
    vehicle = Vehicle.objects.filter(vin=vin).only("status", "owner_kind", "owner_id_digest").first()
    if vehicle is None or vehicle.status != "registered":
        return
    limit = int(settings.HUANXIN_INTAKE_OWNER_MISMATCHES_PER_HOUR)
    bucket = f"vehicles:intake-owner:{enterprise.pk}"
    if not ratelimit.hit(bucket, limit=limit, window_seconds=3600):
        wait = ratelimit.retry_after(bucket, limit=limit)
        raise TryAgainLater(
            f"所有人证件核验不符次数过多，请 {max(1, -(-wait // 60))} 分钟后再试",
            code="owner_checks_limited",
            retry_after=max(wait, 1),
            field="owner_id_number",
        )
    if _owner_presented(vehicle, digests):
        ratelimit.release(bucket)
        return
    raise ValidationFailed.for_field("owner_id_number", "owner_mismatch", OWNER_MISMATCH)


def issue_certificate(
    *,
    actor: User,
    enterprise: Organisation,
    vin: str,
    owner_id_number: str,
    intake_on: datetime.date | None = None,
) -> ScrapCertificate:
    """Take a vehicle in and issue its 报废机动车回收证明: the enterprise's licence must be valid on the intake
    date; the VIN must be on the registry and neither scrapped nor deregistered; whoever hands it in shows the
    registered owner's identity number (a resident ID, or an organisation's credit code), matched against the
    registry's record. A VIN is scrapped once (a constraint on valid certificates): of two intakes at once, one
    gets the certificate, the other a conflict."""
    _require_enterprise(actor, enterprise)
    try:
        canonical = validate_vin(vin)
    except VinError as exc:
        raise ValidationFailed.for_field("vin", exc.code, exc.message) from None
    if not (owner_id_number or "").strip():
        raise ValidationFailed.for_field("owner_id_number", "required", "请填写所有人证件号码")
    today = timezone.localdate(timezone=services.BEIJING)
    day = intake_on or today
    if day > today:
        raise ValidationFailed.for_field("intake_on", "future_date", "回收日期不能晚于今天")
    licence = _licence_on(enterprise, day)
    if day != today:
        # A backdated intake needs today's licence too: an enterprise whose licence lapsed issues nothing more.
        _licence_on(enterprise, today)
    digests = _owner_digests(owner_id_number)
    _check_owner(enterprise, canonical, digests)
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
            if not _owner_presented(vehicle, digests):
                # Transferred to someone else since the check above.
                raise ValidationFailed.for_field("owner_id_number", "owner_mismatch", OWNER_MISMATCH)
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
                owner_checked_at=timezone.now(),
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
                after={
                    "number": number,
                    "vin": vehicle.vin,
                    "intake_on": day.isoformat(),
                    "licence": licence.number,
                    "owner_checked": True,
                },
                organisation_id=enterprise.pk,
                district_code=vehicle.district_id,
            )
    except IntegrityError:
        # Another intake of the same vehicle committed between our read and our write (SQLite, which takes no
        # row lock; on PostgreSQL the lock above makes the loser see the vehicle scrapped). Any other conflict is
        # not that, and is not reported as that.
        if ScrapCertificate.objects.filter(vehicle__vin=canonical, status=ScrapCertificate.Status.VALID).exists():
            raise ConflictError(ALREADY_SCRAPPED, code="vehicle_scrapped") from None
        raise
    return certificate


def _own_certificate(actor: User, enterprise: Organisation, certificate_id: int) -> ScrapCertificate:
    """A valid certificate of the actor's enterprise (a revoked one takes no more records)."""
    _require_enterprise(actor, enterprise)
    certificate = queries.get_certificate_of(enterprise, certificate_id)
    _require_valid(certificate)
    return certificate


def _require_valid(certificate: ScrapCertificate) -> None:
    if certificate.status != ScrapCertificate.Status.VALID:
        raise ConflictError("该报废机动车回收证明已作废", code="certificate_revoked")


def _lock_valid(certificate: ScrapCertificate) -> ScrapCertificate:
    """The certificate locked in the caller's transaction and still valid: a revocation committing meanwhile is
    either waited for and seen, or waits for this record to commit and then sees it."""
    locked = ScrapCertificate.objects.select_for_update().get(pk=certificate.pk)
    _require_valid(locked)
    return locked


def revoke_certificate(
    *, actor: User, enterprise: Organisation, certificate_id: int, reason: str, note: str = ""
) -> ScrapCertificate:
    """作废: the issuing enterprise revokes a certificate it issued in error. The vehicle's life gets a
    ``scrap_revoked`` event (appended; the scrapping stays on record) and is in use again, so the vehicle really
    handed in can be taken in later. Refused once the vehicle was dismantled on it (assemblies or battery
    recorded), once the traffic police deregistered it, or once a subsidy was granted on it (that money is
    recovered through a clawback, not by revoking).

    Locks, in the order every writer takes them: the certificate, the vehicle, the applications citing it (a
    decision locks the certificate before its application, so an approval and a revocation never both pass)."""
    from huanxin.vehicles.application_models import CLOSED, SUBSIDISED, CarApplication, CarApplicationStep
    from huanxin.vehicles.application_services import notify_applicant

    if reason not in certificates.REVOCATION_REASONS:
        raise ValidationFailed.for_field("reason", "invalid_choice", "请选择作废原因")
    note = (note or "").strip()
    if len(note) > 200:
        raise ValidationFailed.for_field("note", "too_long", "作废说明不能超过200字")
    if reason == "other" and not note:
        raise ValidationFailed.for_field("note", "required", "选择“其他原因”时请说明作废原因")
    certificate = _own_certificate(actor, enterprise, certificate_id)
    today = timezone.localdate(timezone=services.BEIJING)
    with transaction.atomic(durable=True):
        certificate = ScrapCertificate.objects.select_for_update().get(pk=certificate.pk)
        vehicle = Vehicle.objects.select_for_update().get(pk=certificate.vehicle_id)
        if certificate.status != ScrapCertificate.Status.VALID:
            raise ConflictError("该报废机动车回收证明已作废", code="certificate_revoked")
        if (
            ScrapAssembly.objects.filter(certificate=certificate).exists()
            or TractionBattery.objects.filter(certificate=certificate).exists()
        ):
            raise ConflictError(
                "该证明下已记录五大总成去向或动力蓄电池移交，车辆已拆解，不能作废", code="certificate_dismantled"
            )
        if vehicle.status == "deregistered":
            raise ConflictError(
                "车辆已凭该证明注销登记，不能作废；如证明有误，请与公安交管部门核实处理",
                code="vehicle_deregistered",
            )
        backing = CarApplication.objects.filter(certificate_number=certificate.number)
        citing = list(backing.select_for_update().exclude(status__in=CLOSED).order_by("pk"))
        if any(application.status in SUBSIDISED for application in citing):
            raise ConflictError(
                "已凭该证明批准了汽车以旧换新补贴，不能作废；如发现虚假交车，请报监管部门追回补贴",
                code="certificate_subsidised",
            )
        services.append_event(
            actor=actor,
            vehicle=vehicle,
            kind="scrap_revoked",
            occurred_on=today,
            source=VehicleEvent.Source.SCRAPPING_ENTERPRISE,
            organisation=enterprise,
            reference=certificate.number,
            details={"certificate": certificate.number, "reason": reason},
        )
        certificate.status = ScrapCertificate.Status.REVOKED
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = actor
        certificate.revocation_reason = reason
        certificate.revocation_note = note
        certificate.save(update_fields=["status", "revoked_at", "revoked_by", "revocation_reason", "revocation_note"])
        # Applications still in play that cite it show it on their steps (the reason's name, not the yard's own
        # note) and their applicants get an SMS; their certificate check fails from now on (it is run again
        # before any decision).
        reason_name = certificates.REVOCATION_REASONS[reason]
        for application in citing:
            CarApplicationStep.objects.create(
                application=application,
                kind="certificate_revoked",
                title=f"报废机动车回收证明 {certificate.number} 已由开具企业作废：{reason_name}",
                actor=actor,
            )
            notify_applicant(
                application,
                f"您的补贴申请{application.number}所附报废机动车回收证明{certificate.number}"
                f"已被开具企业作废（{reason_name}），请联系该企业核实。",
                "car_certificate_revoked",
            )
        audit.record(
            actor=actor,
            action="vehicles.scrapping.revoke_certificate",
            target=certificate,
            before={"status": "valid"},
            after={"status": "revoked", "reason": reason, "note": note, "vin": vehicle.vin},
            organisation_id=enterprise.pk,
            district_code=vehicle.district_id,
        )
    return certificate


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
            certificate = _lock_valid(certificate)
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
            certificate = _lock_valid(certificate)
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


def count_public_check(client_ip: str) -> None:
    """Count one look-up on the public certificate check from ``client_ip``; refused (429) past
    ``HUANXIN_PUBLIC_CHECKS_PER_HOUR`` in an hour. Certificate numbers run in sequence per enterprise, so an
    unlimited check would let anyone list every certificate a yard issued."""
    limit = int(settings.HUANXIN_PUBLIC_CHECKS_PER_HOUR)
    bucket = f"vehicles:certificate-check:{client_ip}"
    if ratelimit.hit(bucket, limit=limit, window_seconds=3600):
        return
    wait = ratelimit.retry_after(bucket, limit=limit)
    raise TryAgainLater(
        f"核验次数过多，请 {max(1, -(-wait // 60))} 分钟后再试", code="certificate_check_limited", retry_after=wait
    )
