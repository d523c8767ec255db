"""The write side of vehicle subsidy applications (a resident's car, an organisation's operating truck): filing,
evidence, the automatic checks, review with the legal clocks, the decision that spends the budget and asks
settlement to pay, and the bank's answer.

Every verb checks who is acting, owns its transaction and writes its audit row (and the applicant's step) in it.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, Person, User
from huanxin.accounts.roles import CAR_APPLICATION_PREPARERS, CATALOGUE_KEEPERS, REVIEWERS, TRUCK_APPLICANTS
from huanxin.accounts.sms import send_notice
from huanxin.core import audit, crypto
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import districts_for, organisations_for
from huanxin.policy import ledger
from huanxin.policy.models import Programme
from huanxin.policy.services import rule_set_for
from huanxin.settlement.models import Payable, Payee, PaymentLine
from huanxin.settlement.services.payables import request_payment
from huanxin.settlement.services.payees import register_payee
from huanxin.settlement.sources import PaymentResult
from huanxin.vehicles.application_models import (
    CLOSED,
    SUBSIDISED,
    CarApplication,
    CarApplicationStep,
    EvidenceFile,
    NevCatalogueEntry,
)
from huanxin.vehicles.application_queries import is_applicant
from huanxin.vehicles.domain import applications as domain
from huanxin.vehicles.domain.applications import FAIL, NOT_APPLICABLE, PASS, UNKNOWN, Check
from huanxin.vehicles.domain.records import BJ_TRUCK_PROGRAMME, covered_by_bj_truck_2024, is_nev, policy_fuel
from huanxin.vehicles.domain.vin import VinError, validate_vin
from huanxin.vehicles.models import ScrapCertificate, Vehicle, VehicleEvent

SOURCE_KIND = "car-subsidy"
EVIDENCE_PURPOSE = "car_evidence"
DEFAULT_MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_DISPLACEMENT_ML = 2000
OPEN_FOR_EVIDENCE = ("prepared", "submitted", "accepted", "supplement")
# Who owns operating trucks and applies for their renewal: enterprises. Public institutions (事业单位) also hold
# the declarant role, but they do not run road freight for pay, so an operating truck is never theirs; car
# dealers and scrapping enterprises prepare residents' applications and never apply for their own trucks here.
TRUCK_APPLICANT_KINDS = (OrganisationKind.DECLARING_ENTERPRISE,)
# The registry's truck types and the weight class the truck rules read (POLICY.md, ``weight_class``); a type
# that spans classes (轻型、中型) or says nothing about weight (危险品运输) has none.
TRUCK_WEIGHT_CLASSES = {"truck_heavy": "heavy", "truck_micro": "light"}
# The weight classes a registry truck type can be (the scrapping standard's types are coarser than the rules').
TRUCK_WEIGHT_OPTIONS = {"truck_heavy": {"heavy"}, "truck_light_medium": {"light", "medium"}, "truck_micro": {"light"}}


def max_evidence_bytes() -> int:
    return int(getattr(settings, "HUANXIN_CAR_EVIDENCE_MAX_BYTES", DEFAULT_MAX_EVIDENCE_BYTES))


def today_local() -> datetime.date:
    return timezone.localdate()


# ---------------------------------------------------------------- who may act


def applicant_person(actor: Any) -> Person:
    """The signed-in resident's verified profile; anyone else is refused."""
    person = Person.objects.filter(user_id=actor.pk).first() if getattr(actor, "is_authenticated", False) else None
    if person is None or not person.is_verified or person.district_id is None:
        raise ForbiddenError("只有已实名认证的居民可以申请汽车以旧换新补贴", code="car_application_forbidden")
    return person


def is_reviewer_for(actor: Any, application: CarApplication) -> bool:
    districts = districts_for(actor, *REVIEWERS)
    return districts is None or application.district_id in districts


def _require_reviewer(actor: Any, application: CarApplication, *, deciding: bool = False) -> None:
    if not getattr(actor, "is_authenticated", False) or not is_reviewer_for(actor, application):
        raise ForbiddenError("只有该区的审核人员可以办理汽车补贴申请", code="car_review_forbidden")
    if is_applicant(actor, application) or actor.pk == application.filed_by_id:
        raise ForbiddenError("不能办理本人的申请", code="car_review_own")
    # Nobody reviews the organisation they work for, in whatever role, whatever the request is confined to.
    organisation_id = application.applicant_organisation_id
    if organisation_id is not None and actor.memberships.filter(organisation_id=organisation_id).exists():
        raise ForbiddenError("不能办理本单位的申请", code="car_review_own")
    if application.prepared_by_id == actor.pk:
        raise ForbiddenError("不能办理本人代办的申请", code="car_review_prepared")
    if deciding and application.status == "reconsideration" and application.first_decided_by_id == actor.pk:
        raise ForbiddenError("复核须由原审核人以外的审核人员决定", code="car_reconsideration_same_reviewer")


def _require_status(application: CarApplication, *allowed: str) -> None:
    if application.status not in allowed:
        raise ConflictError(
            f"申请当前状态为“{application.get_status_display()}”，不能办理此操作", code="car_application_state"
        )


def _step(application: CarApplication, kind: str, title: str, actor: Any, *, reason: str = "", note: str = "") -> None:
    CarApplicationStep.objects.create(
        application=application, kind=kind, title=title, reason_code=reason, note=note, actor=actor
    )


def _audit(actor: Any, action: str, application: CarApplication, after: dict[str, Any]) -> None:
    audit.record(
        actor=actor,
        action=f"vehicles.car_application.{action}",
        target=application,
        after=after,
        # An organisation's own audit view shows what was done on its applications.
        organisation_id=application.applicant_organisation_id,
        district_code=application.district_id,
    )


def _notice_phone(application: CarApplication) -> str:
    """Where a notice about the application goes: the resident applicant's phone; for an organisation, which
    keeps no phone number of its own, the phone of the staff member who filed it if they have a real-name profile
    with one (else no text is sent, and the steps on the application page are the notice)."""
    if application.applicant is not None:
        return application.applicant.reveal_phone()
    filer = Person.objects.filter(user_id=application.filed_by_id).first()
    return filer.reveal_phone() if filer is not None else ""


def _subject(application: CarApplication) -> str:
    return "营运货车更新补贴申请" if application.kind == CarApplication.Kind.TRUCK else "汽车以旧换新补贴申请"


def notify_applicant(application: CarApplication, text: str, purpose: str) -> None:
    """Text the applicant once the caller's transaction commits (scrapping calls it when a cited certificate is
    revoked)."""
    phone = _notice_phone(application)
    if phone:
        transaction.on_commit(lambda: send_notice(phone, text, purpose))


# ---------------------------------------------------------------- filing


def _car_programme(code: str) -> tuple[Programme, str]:
    programme = Programme.objects.filter(code=code).first()
    if programme is None or programme.family != "car":
        raise ValidationFailed.for_field("programme", "unknown_programme", "请选择汽车报废更新或置换更新补贴项目")
    if code.startswith("cn-car-scrap-"):
        return programme, CarApplication.Kind.SCRAP
    if code.startswith("cn-car-replace-"):
        return programme, CarApplication.Kind.REPLACE
    raise ValidationFailed.for_field("programme", "unknown_programme", "请选择汽车报废更新或置换更新补贴项目")


def _vin(field: str, value: str, errors: list[FieldError]) -> str:
    try:
        return validate_vin(value)
    except VinError as error:
        errors.append(FieldError(field, error.code, error.message))
        return ""


def submit_application(
    *,
    actor: User,
    programme_code: str,
    old_vin: str,
    new_vin: str,
    new_invoice_number: str,
    new_price_fen: int,
    new_energy: str,
    bank_name: str,
    account_number: str,
    certificate_number: str = "",
    transfer_invoice_number: str = "",
    new_model_code: str = "",
    new_displacement_ml: int = 0,
) -> CarApplication:
    """File an application; filing the same one again (a double tap, two devices at once) returns the first."""
    return _file(
        actor=actor,
        person=applicant_person(actor),
        prepared=False,
        consent_note="",
        programme_code=programme_code,
        old_vin=old_vin,
        new_vin=new_vin,
        new_invoice_number=new_invoice_number,
        new_price_fen=new_price_fen,
        new_energy=new_energy,
        bank_name=bank_name,
        account_number=account_number,
        certificate_number=certificate_number,
        transfer_invoice_number=transfer_invoice_number,
        new_model_code=new_model_code,
        new_displacement_ml=new_displacement_ml,
    )


def can_prepare(user: Any) -> bool:
    """Staff of a car dealer or of a vehicle-scrapping enterprise (一站式 preparers)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Organisation.objects.filter(
        pk__in=organisations_for(user, *CAR_APPLICATION_PREPARERS),
        kind__in=[OrganisationKind.CAR_DEALER, OrganisationKind.VEHICLE_SCRAPPER],
    ).exists()


def prepare_application(
    *,
    actor: User,
    resident_id: str,
    consent_note: str,
    programme_code: str,
    old_vin: str,
    new_vin: str,
    new_invoice_number: str,
    new_price_fen: int,
    new_energy: str,
    certificate_number: str = "",
    transfer_invoice_number: str = "",
    new_model_code: str = "",
    new_displacement_ml: int = 0,
) -> CarApplication:
    """一站式 (measure 十五): a car dealer's or scrapping enterprise's staff prepare a resident's application with
    the resident's consent; it is submitted only when the resident confirms it on their phone and gives their own
    bank account (a preparer never sets where the money goes)."""
    if not can_prepare(actor):
        raise ForbiddenError("只有汽车销售企业或报废机动车回收拆解企业的人员可以代办申请", code="car_prepare_forbidden")
    if not consent_note.strip():
        raise ValidationFailed.for_field("consent_note", "required", "请说明申请人的授权（如授权书编号）")
    digest = crypto.blind_index(resident_id.strip().upper(), purpose="resident_id")
    person = Person.objects.filter(resident_id_digest=digest, verified_at__isnull=False).first()
    if person is None or person.user_id is None:
        raise ValidationFailed.for_field(
            "resident_id", "resident_not_found", "未找到已实名认证的居民，请申请人先在平台注册并完成实名认证"
        )
    return _file(
        actor=actor,
        person=person,
        prepared=True,
        consent_note=consent_note.strip()[:200],
        programme_code=programme_code,
        old_vin=old_vin,
        new_vin=new_vin,
        new_invoice_number=new_invoice_number,
        new_price_fen=new_price_fen,
        new_energy=new_energy,
        bank_name="",
        account_number="",
        certificate_number=certificate_number,
        transfer_invoice_number=transfer_invoice_number,
        new_model_code=new_model_code,
        new_displacement_ml=new_displacement_ml,
    )


def _file(
    *,
    actor: User,
    person: Person,
    prepared: bool,
    consent_note: str,
    programme_code: str,
    old_vin: str,
    new_vin: str,
    new_invoice_number: str,
    new_price_fen: int,
    new_energy: str,
    bank_name: str,
    account_number: str,
    certificate_number: str,
    transfer_invoice_number: str,
    new_model_code: str,
    new_displacement_ml: int,
) -> CarApplication:
    programme, kind = _car_programme(programme_code)
    errors: list[FieldError] = []
    old = _vin("old_vin", old_vin, errors)
    new = _vin("new_vin", new_vin, errors)
    if old and old == new:
        errors.append(FieldError("new_vin", "same_vin", "新车与旧车的车辆识别代号不能相同"))
    certificate_number = certificate_number.strip()
    transfer_invoice_number = transfer_invoice_number.strip()
    if kind == CarApplication.Kind.SCRAP and not certificate_number:
        errors.append(FieldError("certificate_number", "required", "报废更新须填写报废机动车回收证明编号"))
    if kind == CarApplication.Kind.REPLACE and not transfer_invoice_number:
        errors.append(FieldError("transfer_invoice_number", "required", "置换更新须填写旧车转让发票号码"))
    if not new_invoice_number.strip():
        errors.append(FieldError("new_invoice_number", "required", "请填写新车发票号码"))
    if new_price_fen <= 0 or new_price_fen > 100_000_000_00:
        errors.append(FieldError("new_car_price_fen", "invalid_amount", "新车价格应大于0"))
    if new_energy not in CarApplication.NewEnergy.values:
        errors.append(FieldError("new_energy", "invalid_choice", "新车能源类型应为新能源或燃油"))
    if new_energy == "fuel" and not 0 < new_displacement_ml <= 30_000:
        errors.append(FieldError("new_displacement_ml", "required", "燃油车须填写排量（毫升）"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    today = today_local()
    application = CarApplication(
        number=f"QC{today:%Y%m%d}{secrets.token_hex(4).upper()}",
        programme=programme,
        kind=kind,
        applicant=person,
        filed_by=actor,
        district_id=person.district_id or "",
        old_vin=old,
        new_vin=new,
        certificate_number=certificate_number,
        transfer_invoice_number=transfer_invoice_number,
        new_invoice_number=new_invoice_number.strip(),
        new_price_fen=new_price_fen,
        new_energy=new_energy,
        new_model_code=new_model_code.strip().upper(),
        new_displacement_ml=new_displacement_ml if new_energy == "fuel" else 0,
        submitted_on=today,
        status=CarApplication.Status.PREPARED if prepared else CarApplication.Status.SUBMITTED,
        prepared_by=actor if prepared else None,
        consent_note=consent_note,
    )
    return _store(
        actor,
        application,
        lambda: None if prepared else _payee(actor, person, application.number, bank_name, account_number),
        prepared=prepared,
    )


def _store(
    actor: User, application: CarApplication, payee: Callable[[], Payee | None], *, prepared: bool = False
) -> CarApplication:
    """Save a new application with its checks, step and audit row, or return the same one filed before (a double
    tap, two devices at once): same applicant, same VINs, still open."""
    same = CarApplication.objects.filter(
        applicant_id=application.applicant_id,
        applicant_organisation_id=application.applicant_organisation_id,
        old_vin=application.old_vin,
        new_vin=application.new_vin,
    ).exclude(status__in=CLOSED)
    certificate_number = application.certificate_number
    with transaction.atomic():
        found = same.first()
        if found is not None:
            return found
        if certificate_number and not _certificate_is_applicants(application):
            # Refused at filing, so that nobody can hold another owner's certificate hostage by citing it (the
            # numbers run in sequence); one message whether the vehicle or the owner differs.
            raise ValidationFailed.for_field(
                "certificate_number", "certificate_mismatch", "报废机动车回收证明与旧车或申请人不符，请核对证明编号"
            )
        if (
            certificate_number
            and CarApplication.objects.filter(certificate_number=certificate_number).exclude(status__in=CLOSED).exists()
        ):
            raise ConflictError("该报废机动车回收证明已用于其他申请", code="certificate_already_used")
        application.payee = payee()
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:
            found = same.first()
            if found is not None:
                return found
            raise ConflictError("该车辆或报废证明已有办理中的申请", code="car_application_duplicate") from None
        _refresh_checks(application, application.submitted_on)
        programme_code = application.programme.code
        if prepared:
            consent_note = application.consent_note
            _step(application, "prepared", "企业代办申请，待本人确认", actor, note=consent_note)
            _audit(actor, "prepared", application, {"number": application.number, "programme": programme_code})
            notify_applicant(
                application,
                f"企业已为您代办汽车以旧换新补贴申请{application.number}，请登录平台核对并确认后提交。",
                "car_prepared",
            )
        else:
            _step(application, "submitted", "提交申请", actor)
            _audit(actor, "submitted", application, {"number": application.number, "programme": programme_code})
    return application


def payee_reference(number: str) -> str:
    """Each application is paid to the account given on it: one payee per application, so a later filing (or a
    double tap with another account) never moves an earlier application's money; only correct_account changes
    where an application is paid, with its guards."""
    return f"car-application:{number}"


def _certificate_is_applicants(application: CarApplication) -> bool:
    """A certificate the platform issued names the old vehicle and its owner at intake: they must be this
    application's old VIN and applicant. A number the platform does not know is left to the certificate check
    (which fails it), so a paper certificate can still be filed and looked at by a reviewer."""
    certificate = (
        ScrapCertificate.objects.filter(number=application.certificate_number).select_related("vehicle").first()
    )
    if certificate is None:
        return True
    if certificate.vehicle.vin != application.old_vin:
        return False
    if application.applicant is not None:
        person = application.applicant
        return bool(person.resident_id_digest) and certificate.owner_id_digest == person.resident_id_digest
    organisation = application.applicant_organisation
    return organisation is not None and (
        certificate.owner_kind == "organisation"
        and certificate.owner_id_digest == crypto.blind_index(organisation.uscc, purpose="uscc")
    )


def _payee(actor: User, person: Person, number: str, bank_name: str, account_number: str) -> Payee:
    return register_payee(
        reference=payee_reference(number),
        kind="person",
        name=person.name,
        account_name=person.name,
        bank_name=bank_name,
        account_number=account_number,
        person=person,
        actor=actor,
    )


# ---------------------------------------------------------------- an organisation's truck application


def can_apply_for_trucks(user: Any) -> bool:
    """Declarants of a declaring enterprise (see TRUCK_APPLICANT_KINDS)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Organisation.objects.filter(
        pk__in=organisations_for(user, *TRUCK_APPLICANTS), kind__in=TRUCK_APPLICANT_KINDS
    ).exists()


def _require_truck_applicant(actor: Any, organisation: Organisation) -> None:
    """The actor applies for this organisation: a declarant there (through an API token, only the token's own
    organisation counts), and the organisation is an enterprise that may own operating trucks."""
    if not getattr(actor, "is_authenticated", False) or organisation.pk not in organisations_for(
        actor, *TRUCK_APPLICANTS
    ):
        raise ForbiddenError(
            "只有该单位的设备更新申报人员可以为其申请营运货车更新补贴", code="truck_application_forbidden"
        )
    if organisation.kind not in TRUCK_APPLICANT_KINDS or organisation.status != Organisation.Status.ACTIVE:
        raise ForbiddenError("只有在册的设备更新申报企业可以申请营运货车更新补贴", code="truck_application_forbidden")


def submit_truck_application(
    *,
    actor: User,
    organisation: Organisation,
    old_vin: str,
    certificate_number: str,
    new_vin: str,
    new_energy: str,
    new_weight_class: str,
    new_refrigerated: bool,
    new_invoice_number: str,
    new_price_fen: int,
    bank_name: str,
    account_number: str,
) -> CarApplication:
    """An organisation applies for bj-truck-2024: scrap an old truck (old VIN and its 报废机动车回收证明), buy a
    new one (new VIN, its energy, weight class, whether refrigerated, invoice and price), or both. The old truck's
    emission stage and weight come from the registry; the money goes to the organisation's own account. Filing
    the same one again returns the first."""
    _require_truck_applicant(actor, organisation)
    programme = Programme.objects.filter(code=BJ_TRUCK_PROGRAMME).first()
    if programme is None:
        raise ValidationFailed.for_field("programme", "unknown_programme", "营运货车更新补贴项目尚未设立")
    errors: list[FieldError] = []
    old = _vin("old_vin", old_vin, errors) if old_vin.strip() else ""
    new = _vin("new_vin", new_vin, errors) if new_vin.strip() else ""
    certificate_number = certificate_number.strip()
    new_invoice_number = new_invoice_number.strip()
    if not old_vin.strip() and not new_vin.strip():
        errors.append(FieldError("old_vin", "required", "请填写淘汰的旧车或购置的新车（至少一辆）"))
    if old and old == new:
        errors.append(FieldError("new_vin", "same_vin", "新车与旧车的车辆识别代号不能相同"))
    if old_vin.strip() and not certificate_number:
        errors.append(FieldError("certificate_number", "required", "淘汰旧车须填写报废机动车回收证明编号"))
    if not old_vin.strip() and certificate_number:
        errors.append(FieldError("old_vin", "required", "填写了报废证明编号，请同时填写旧车车辆识别代号"))
    if new_vin.strip():
        if new_energy not in ("guo6", "nev"):
            errors.append(FieldError("new_energy", "invalid_choice", "新车能源类型应为国六排放或新能源"))
        if new_weight_class not in CarApplication.WeightClass.values:
            errors.append(FieldError("new_weight_class", "invalid_choice", "请选择新车重量类别（重型、中型、轻型）"))
        if not new_invoice_number:
            errors.append(FieldError("new_invoice_number", "required", "请填写新车发票号码"))
        if new_price_fen <= 0 or new_price_fen > 100_000_000_00:
            errors.append(FieldError("new_truck_price_fen", "invalid_amount", "新车价格应大于0"))
    # No new truck: nothing about one may be filed, so nothing filed can reach the rules by mistake.
    elif new_energy or new_weight_class or new_refrigerated or new_invoice_number or new_price_fen:
        errors.append(FieldError("new_vin", "required", "填写了新车信息，请同时填写新车车辆识别代号"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    today = today_local()
    buys = bool(new)
    application = CarApplication(
        number=f"HC{today:%Y%m%d}{secrets.token_hex(4).upper()}",
        programme=programme,
        kind=CarApplication.Kind.TRUCK,
        applicant_organisation=organisation,
        filed_by=actor,
        district_id=organisation.district_id,
        old_vin=old,
        new_vin=new,
        certificate_number=certificate_number,
        new_invoice_number=new_invoice_number if buys else "",
        new_price_fen=new_price_fen if buys else 0,
        new_energy=new_energy if buys else "",
        new_weight_class=new_weight_class if buys else "",
        new_refrigerated=new_refrigerated if buys else False,
        submitted_on=today,
        status=CarApplication.Status.SUBMITTED,
    )
    return _store(
        actor,
        application,
        lambda: _organisation_payee(actor, organisation, application.number, bank_name, account_number),
    )


def _organisation_payee(
    actor: User, organisation: Organisation, number: str, bank_name: str, account_number: str
) -> Payee:
    return register_payee(
        reference=payee_reference(number),
        kind="organisation",
        name=organisation.name,
        account_name=organisation.name,
        bank_name=bank_name,
        account_number=account_number,
        organisation=organisation,
        actor=actor,
    )


def confirm_application(
    *, actor: User, application: CarApplication, bank_name: str, account_number: str
) -> CarApplication:
    """The resident confirms an application prepared for them, with their own bank account: it is submitted now
    and the accept clock starts today."""
    if application.applicant_id is None or not is_applicant(actor, application):
        raise ForbiddenError("只有申请人本人可以确认代办的申请", code="car_application_forbidden")
    today = today_local()
    with transaction.atomic():
        application = _locked(application)
        _require_status(application, "prepared")
        person = application.applicant
        assert person is not None  # prepared applications are residents' (checked above)
        application.payee = _payee(actor, person, application.number, bank_name, account_number)
        application.status = CarApplication.Status.SUBMITTED
        application.submitted_on = today
        application.submitted_at = timezone.now()
        application.save(update_fields=["payee", "status", "submitted_on", "submitted_at"])
        _refresh_checks(application, today)
        _step(application, "submitted", "本人确认并提交申请", actor)
        _audit(actor, "confirmed", application, {"status": application.status})
    return application


# ---------------------------------------------------------------- evidence


def add_evidence(
    *, actor: User, application: CarApplication, kind: str, file_name: str, declared_type: str, content: bytes
) -> EvidenceFile:
    """Store one evidence file sealed, with its SHA-256; its type is read from its bytes (JPEG, PNG, PDF), and a
    file that is not what its name or declared type says is refused with nothing stored."""
    if not is_applicant(actor, application) and actor.pk != application.prepared_by_id:
        raise ForbiddenError("只有申请人可以上传申请材料", code="car_evidence_forbidden")
    _require_status(application, *OPEN_FOR_EVIDENCE)
    if kind not in domain.EVIDENCE_KINDS:
        raise ValidationFailed.for_field("kind", "invalid_choice", "请选择材料类型")
    limit = max_evidence_bytes()
    if not content:
        raise ValidationFailed.for_field("file", "empty_file", "文件为空")
    if len(content) > limit:
        raise ValidationFailed.for_field("file", "file_too_large", f"文件不能超过 {limit // (1024 * 1024)} MB")
    actual = domain.sniff_file_type(content)
    if actual is None:
        raise ValidationFailed.for_field("file", "file_type_refused", "只接受 JPEG、PNG 图片或 PDF 文件")
    claimed = domain.claimed_type(file_name, declared_type)
    if claimed is not None and claimed != actual:
        raise ValidationFailed.for_field("file", "file_type_mismatch", "文件内容与文件名或声明的类型不符")
    digest = hashlib.sha256(content).hexdigest()
    name = (file_name or "file").replace("/", "_").replace("\\", "_")[-100:]
    with transaction.atomic():
        if EvidenceFile.objects.filter(application=application, sha256=digest).exists():
            raise ConflictError("该文件已上传过", code="evidence_duplicate")
        evidence = EvidenceFile.objects.create(
            application=application,
            kind=kind,
            file_name=name,
            content_type=actual,
            size=len(content),
            sha256=digest,
            sealed=crypto.encrypt_bytes(content, purpose=EVIDENCE_PURPOSE),
            uploaded_by=actor,
        )
        _step(application, "evidence", f"上传材料：{domain.EVIDENCE_KINDS[kind]}", actor)
        _audit(actor, "evidence_added", application, {"kind": kind, "sha256": digest, "size": len(content)})
    return evidence


def open_evidence(evidence: EvidenceFile) -> bytes:
    """The file's bytes (the caller has checked who reads them); its SHA-256 is checked on the way out."""
    content = crypto.decrypt_bytes(bytes(evidence.sealed), purpose=EVIDENCE_PURPOSE)
    if hashlib.sha256(content).hexdigest() != evidence.sha256:
        raise RuntimeError(f"evidence {evidence.pk}: content does not match its SHA-256")
    return content


# ---------------------------------------------------------------- automatic checks


def _owner_matches(person: Person, *, owner_person_id: int | None, owner_digest: str) -> bool:
    if owner_person_id is not None and owner_person_id == person.pk:
        return True
    return bool(person.resident_id_digest) and owner_digest == person.resident_id_digest


def _applicant_owned_since(vehicle: Vehicle, person: Person) -> datetime.date | None:
    """Since when the applicant held the vehicle in the ownership run that is theirs most recently."""
    since = None
    for event in vehicle.events.filter(kind__in=["registration", "transfer"]).order_by("occurred_on", "pk"):
        mine = _owner_matches(person, owner_person_id=None, owner_digest=event.owner_id_digest)
        if mine and since is None:
            since = event.occurred_on
        elif not mine and since is not None and vehicle.owner_person_id != person.pk:
            # Transferred away after holding it: a replacement's old car.
            return since
    if vehicle.owner_person_id == person.pk and since is None:
        return vehicle.owner_since
    return since


def _transferred_away(vehicle: Vehicle, person: Person) -> bool:
    return not _owner_matches(person, owner_person_id=vehicle.owner_person_id, owner_digest=vehicle.owner_id_digest)


def _history_programmes(application: CarApplication) -> list[dict[str, str]]:
    """The car subsidies the resident applicant has had this year (the one-per-person-per-year rule)."""
    if application.applicant_id is None:
        return []
    others = CarApplication.objects.filter(
        applicant_id=application.applicant_id, status__in=SUBSIDISED, submitted_on__year=application.submitted_on.year
    ).exclude(pk=application.pk)
    return [{"programme": code} for code in others.values_list("programme__code", flat=True)]


def run_checks(application: CarApplication, today: datetime.date) -> list[Check]:
    """Every automatic check the platform can make, each with its result and the reason in Chinese."""
    if application.kind == CarApplication.Kind.TRUCK:
        return _truck_checks(application)
    person = application.applicant
    assert person is not None  # car applications are residents' (vehicles_carapp_one_applicant, filing)
    checks: list[Check] = []
    old = Vehicle.objects.filter(vin=application.old_vin).first()
    scrap = application.kind == CarApplication.Kind.SCRAP
    in_catalogue = NevCatalogueEntry.objects.filter(model_code=application.new_model_code).exists()
    owned_since = _applicant_owned_since(old, person) if old is not None else None

    # The old car's history.
    if old is None:
        checks.append(
            Check("vehicle_history", "旧车登记信息", UNKNOWN, "机动车登记数据中没有该旧车，请人工核对登记证书")
        )
    elif owned_since is None:
        checks.append(Check("vehicle_history", "旧车登记信息", FAIL, "旧车登记信息中所有人不是申请人"))
    else:
        checks.append(
            Check(
                "vehicle_history",
                "旧车登记信息",
                PASS,
                f"旧车燃料{old.get_fuel_display()}，{old.registered_on:%Y-%m-%d} 注册登记，"
                f"{owned_since:%Y-%m-%d} 起登记在申请人名下",
            )
        )

    # The rule engine.
    if old is None or owned_since is None:
        checks.append(Check("rules", "补贴政策条件", UNKNOWN, "缺少旧车登记信息，无法按政策条件核验"))
    elif _nev_catalogue_missing(application):
        # Without the catalogue every new NEV would read as "not in it": say the check cannot be made yet.
        checks.append(Check("rules", "补贴政策条件", UNKNOWN, "尚未导入新能源汽车车型目录，无法按政策条件核验新车车型"))
    else:
        payload = _engine_payload(application, old, owned_since, in_catalogue)
        try:
            decision = rule_set_for(application.programme.code, application.submitted_on).evaluate(payload)
        except Exception as error:
            checks.append(Check("rules", "补贴政策条件", UNKNOWN, f"无法按政策条件核验：{error}"))
        else:
            failed = [r.message for r in decision.reasons if not r.passed]
            if decision.eligible:
                checks.append(
                    Check("rules", "补贴政策条件", PASS, f"符合政策条件，补贴金额 {format_yuan(decision.amount_fen)}")
                )
            else:
                checks.append(Check("rules", "补贴政策条件", FAIL, "；".join(failed) or "不符合政策条件"))

    # The certificate (scrap) or the transfer (replacement).
    if scrap:
        checks.extend(_scrap_checks(application, old, owner_ok=owned_since is not None))
    elif old is None:
        checks.append(Check("transfer", "旧车转让", UNKNOWN, "机动车登记数据中没有该旧车，请人工核对转让发票"))
    elif _transferred_away(old, person):
        checks.append(Check("transfer", "旧车转让", PASS, "旧车已转移登记至他人名下"))
    else:
        checks.append(Check("transfer", "旧车转让", FAIL, "旧车仍登记在申请人名下，尚未转让"))

    # The new car.
    if application.new_energy == "nev":
        if in_catalogue:
            checks.append(
                Check("new_car", "新车车型", PASS, f"车型 {application.new_model_code} 已列入新能源汽车车型目录")
            )
        elif not NevCatalogueEntry.objects.exists():
            checks.append(Check("new_car", "新车车型", UNKNOWN, "尚未导入新能源汽车车型目录，请人工核对"))
        else:
            checks.append(Check("new_car", "新车车型", FAIL, "新车车型未列入新能源汽车车型目录"))
    elif application.new_displacement_ml <= MAX_DISPLACEMENT_ML:
        checks.append(
            Check("new_car", "新车车型", PASS, f"燃油车排量 {application.new_displacement_ml} 毫升，不超过2.0升")
        )
    else:
        checks.append(
            Check("new_car", "新车车型", FAIL, f"燃油车排量 {application.new_displacement_ml} 毫升，超过2.0升")
        )
    new = Vehicle.objects.filter(vin=application.new_vin).first()
    if new is None:
        checks.append(Check("new_registration", "新车登记", UNKNOWN, "机动车登记数据中尚无该新车，请人工核对登记证书"))
    elif _owner_matches(person, owner_person_id=new.owner_person_id, owner_digest=new.owner_id_digest):
        checks.append(
            Check("new_registration", "新车登记", PASS, f"新车已于 {new.owner_since:%Y-%m-%d} 登记在申请人名下")
        )
    else:
        checks.append(Check("new_registration", "新车登记", FAIL, "新车未登记在申请人名下"))

    # One car subsidy per person per year, across both programmes.
    if _history_programmes(application):
        checks.append(
            Check("one_per_year", "每人每年一次", FAIL, f"申请人 {application.submitted_on.year} 年已享受过汽车补贴")
        )
    else:
        checks.append(
            Check("one_per_year", "每人每年一次", PASS, f"申请人 {application.submitted_on.year} 年未享受过汽车补贴")
        )

    checks.append(_vin_once_check(application))
    return checks


def _scrap_checks(application: CarApplication, old: Vehicle | None, *, owner_ok: bool) -> list[Check]:
    """The scrapped vehicle's 报废机动车回收证明 (it exists, names this VIN, the applicant owned the vehicle) and
    its deregistration."""
    checks: list[Check] = []
    event = (
        VehicleEvent.objects.filter(kind="scrapping", reference=application.certificate_number)
        .select_related("vehicle")
        .first()
    )
    if event is None:
        checks.append(Check("certificate", "报废机动车回收证明", FAIL, "未查到该编号的报废机动车回收证明"))
    elif ScrapCertificate.objects.filter(number=application.certificate_number, status="revoked").exists():
        checks.append(Check("certificate", "报废机动车回收证明", FAIL, "该报废机动车回收证明已由开具企业作废"))
    elif event.vehicle.vin != application.old_vin:
        checks.append(Check("certificate", "报废机动车回收证明", FAIL, "报废证明所载车辆与旧车车辆识别代号不符"))
    elif not owner_ok:
        checks.append(Check("certificate", "报废机动车回收证明", FAIL, "报废车辆的所有人不是申请人"))
    else:
        checks.append(
            Check(
                "certificate",
                "报废机动车回收证明",
                PASS,
                f"证明有效：{event.occurred_on:%Y-%m-%d} 回收，车辆与所有人一致",
            )
        )
    if old is None:
        checks.append(Check("deregistered", "注销登记", UNKNOWN, "机动车登记数据中没有该旧车"))
    elif old.deregistered_on is None:
        checks.append(Check("deregistered", "注销登记", FAIL, "旧车尚未办理注销登记"))
    else:
        checks.append(Check("deregistered", "注销登记", PASS, f"旧车已于 {old.deregistered_on:%Y-%m-%d} 注销登记"))
    return checks


def _vin_once_check(application: CarApplication) -> Check:
    """Neither VIN (of those named) ever subsidised, old or new, whoever applied."""
    vins = [vin for vin in (application.old_vin, application.new_vin) if vin]
    reused = (
        CarApplication.objects.filter(status__in=SUBSIDISED)
        .exclude(pk=application.pk)
        .filter(old_vin__in=vins)
        .exists()
        or CarApplication.objects.filter(status__in=SUBSIDISED)
        .exclude(pk=application.pk)
        .filter(new_vin__in=vins)
        .exists()
    )
    if reused:
        return Check("vin_once", "车辆未重复补贴", FAIL, "旧车或新车已享受过补贴")
    return Check("vin_once", "车辆未重复补贴", PASS, "申请所列车辆均未享受过补贴")


# ---------------------------------------------------------------- the truck checks (bj-truck-2024)


def _organisation_owns(vehicle: Vehicle, organisation: Organisation) -> bool:
    """Whether the registry has the vehicle in the organisation's name: linked to it, or (when the import could
    not link it) its credit code's blind index as the traffic import seals it (purpose "uscc")."""
    if vehicle.owner_organisation_id == organisation.pk:
        return True
    digest = crypto.blind_index(organisation.uscc, purpose="uscc")
    return vehicle.owner_kind == "organisation" and bool(vehicle.owner_id_digest) and vehicle.owner_id_digest == digest


def _old_truck(vehicle: Vehicle) -> dict[str, str] | None:
    """The old truck as the truck rules read it, from the registry only; None when the registry does not say
    its emission stage or weight class."""
    weight_class = TRUCK_WEIGHT_CLASSES.get(vehicle.vehicle_type)
    if not vehicle.emission_standard or weight_class is None:
        return None
    return {"emission_standard": vehicle.emission_standard, "weight_class": weight_class}


def _truck_payload(application: CarApplication, old: Vehicle | None) -> dict[str, Any] | None:
    """The rule engine's input (POLICY.md, truck): the old truck from the registry, the new truck as filed; None
    when an old truck is named but the registry cannot tell its facts (or it is not the organisation's)."""
    old_truck = None
    if application.old_vin:
        organisation = application.applicant_organisation
        if old is None or organisation is None or not _organisation_owns(old, organisation):
            return None
        old_truck = _old_truck(old)
        if old_truck is None:
            return None
    new_truck = None
    if application.new_vin:
        # The registry's weight class wins over the one filed (a mismatch also fails the new-registration check).
        new = Vehicle.objects.filter(vin=application.new_vin).only("vehicle_type").first()
        registered_class = TRUCK_WEIGHT_CLASSES.get(new.vehicle_type) if new is not None else None
        new_truck = {
            "energy": application.new_energy,
            "weight_class": registered_class or application.new_weight_class,
            "refrigerated": application.new_refrigerated,
        }
    return {"old_truck": old_truck, "new_truck": new_truck}


def _truck_checks(application: CarApplication) -> list[Check]:
    """An organisation's truck application: the old truck (in the registry, the organisation's, covered by
    bj-truck-2024, scrapped with a certificate and deregistered), the rules, the new truck (registered to the
    organisation as filed), and neither VIN subsidised before."""
    organisation = application.applicant_organisation
    assert organisation is not None  # truck applications are organisations'
    checks: list[Check] = []
    old = Vehicle.objects.filter(vin=application.old_vin).first() if application.old_vin else None
    owns_old = old is not None and _organisation_owns(old, organisation)

    if not application.old_vin:
        checks.append(Check("vehicle_history", "旧车登记信息", NOT_APPLICABLE, "不淘汰旧车（仅购置新车）"))
    elif old is None:
        checks.append(
            Check("vehicle_history", "旧车登记信息", UNKNOWN, "机动车登记数据中没有该旧车，请人工核对登记证书")
        )
    elif not owns_old:
        checks.append(Check("vehicle_history", "旧车登记信息", FAIL, "旧车登记信息中所有人不是申请单位"))
    elif not covered_by_bj_truck_2024(
        vehicle_type=old.vehicle_type, use=old.use, emission_standard=old.emission_standard
    ):
        checks.append(
            Check(
                "vehicle_history",
                "旧车登记信息",
                FAIL,
                f"旧车为{old.vehicle_type_name}、{old.get_use_display()}、"
                f"排放标准{old.get_emission_standard_display() or '未登记'}，不是国四营运重型货车",
            )
        )
    else:
        checks.append(
            Check(
                "vehicle_history",
                "旧车登记信息",
                PASS,
                f"旧车为{old.vehicle_type_name}、{old.get_use_display()}、排放标准{old.get_emission_standard_display()}，"
                f"{old.owner_since:%Y-%m-%d} 起登记在申请单位名下",
            )
        )

    payload = _truck_payload(application, old)
    if payload is None:
        checks.append(
            Check("rules", "补贴政策条件", UNKNOWN, "缺少旧车登记信息（排放标准、重量类别），无法按政策条件核验")
        )
    else:
        checks.append(_rules_check(application, payload))

    if application.old_vin:
        checks.extend(_scrap_checks(application, old, owner_ok=owns_old))

    if application.new_vin:
        checks.append(_new_truck_check(application, organisation))
    else:
        checks.append(Check("new_registration", "新车登记", NOT_APPLICABLE, "不购置新车（仅淘汰旧车）"))

    checks.append(
        Check(
            "one_per_year",
            "每人每年一次",
            NOT_APPLICABLE,
            "“每人每年一次汽车补贴”只限居民个人；单位申请营运货车更新补贴按车辆计，不受此限",
        )
    )
    checks.append(_vin_once_check(application))
    return checks


def _nev_catalogue_missing(application: CarApplication) -> bool:
    """An NEV passenger car cannot be priced without the MIIT catalogue (trucks are not in it)."""
    return (
        application.kind != CarApplication.Kind.TRUCK
        and application.new_energy == "nev"
        and not NevCatalogueEntry.objects.exists()
    )


def _new_truck_check(application: CarApplication, organisation: Organisation) -> Check:
    """The new truck is registered to the organisation, and the registry agrees with the energy filed."""
    new = Vehicle.objects.filter(vin=application.new_vin).first()
    if new is None:
        return Check("new_registration", "新车登记", UNKNOWN, "机动车登记数据中尚无该新车，请人工核对登记证书")
    if not _organisation_owns(new, organisation):
        return Check("new_registration", "新车登记", FAIL, "新车未登记在申请单位名下")
    if application.new_energy == "nev" and not is_nev(new.fuel):
        return Check("new_registration", "新车登记", FAIL, f"新车登记燃料为{new.get_fuel_display()}，不是新能源汽车")
    if application.new_energy == "guo6" and new.emission_standard and new.emission_standard != "guo6":
        return Check(
            "new_registration", "新车登记", FAIL, f"新车登记排放标准为{new.get_emission_standard_display()}，不是国六"
        )
    registered_class = TRUCK_WEIGHT_CLASSES.get(new.vehicle_type)
    options = TRUCK_WEIGHT_OPTIONS.get(new.vehicle_type)
    if options is not None and application.new_weight_class not in options:
        return Check(
            "new_registration",
            "新车登记",
            FAIL,
            f"新车登记车型为{new.vehicle_type_name}，与申报的重量类别（{application.get_new_weight_class_display()}）不符",
        )
    # What the registry cannot say is left for a person to check against the evidence, never taken as filed.
    open_points = []
    if options is None:
        open_points.append(f"登记车型{new.vehicle_type_name}不是载货汽车或无法确定重量类别")
    elif registered_class is None:
        open_points.append(f"登记车型{new.vehicle_type_name}无法区分轻型与中型，请核对行驶证")
    if application.new_energy == "guo6" and not new.emission_standard:
        open_points.append("登记数据未载明排放标准")
    if application.new_refrigerated:
        open_points.append("登记数据不含冷藏车信息，请核对行驶证或道路运输证")
    if open_points:
        return Check("new_registration", "新车登记", UNKNOWN, "新车已登记在申请单位名下；" + "；".join(open_points))
    return Check("new_registration", "新车登记", PASS, f"新车已于 {new.owner_since:%Y-%m-%d} 登记在申请单位名下")


def _rules_check(application: CarApplication, payload: dict[str, Any]) -> Check:
    """The rule engine's answer for the application, as a check."""
    try:
        decision = rule_set_for(application.programme.code, application.submitted_on).evaluate(payload)
    except Exception as error:
        return Check("rules", "补贴政策条件", UNKNOWN, f"无法按政策条件核验：{error}")
    if decision.eligible:
        return Check("rules", "补贴政策条件", PASS, f"符合政策条件，补贴金额 {format_yuan(decision.amount_fen)}")
    failed = [r.message for r in decision.reasons if not r.passed]
    return Check("rules", "补贴政策条件", FAIL, "；".join(failed) or "不符合政策条件")


def _refresh_checks(application: CarApplication, today: datetime.date) -> list[Check]:
    checks = run_checks(application, today)
    application.checks = [c.as_dict() for c in checks]
    application.checks_at = timezone.now()
    application.save(update_fields=["checks", "checks_at"])
    return checks


def _engine_payload(
    application: CarApplication, old: Vehicle, owned_since: datetime.date, in_catalogue: bool
) -> dict[str, Any]:
    """The rule engine's input (POLICY.md, car): the old car from the registry, the new car as filed."""
    new_vehicle: dict[str, Any] = {
        "energy": application.new_energy,
        "price_fen": application.new_price_fen,
        "in_nev_catalogue": in_catalogue,
    }
    if application.new_energy == "fuel":
        new_vehicle["displacement_l"] = application.new_displacement_ml / 1000
    return {
        "old_vehicle": {
            "fuel": policy_fuel(old.fuel),
            "registered_on": old.registered_on.isoformat(),
            "owned_since": owned_since.isoformat(),
        },
        "new_vehicle": new_vehicle,
        "applied_on": application.submitted_on.isoformat(),
        "history": _history_programmes(application),
    }


def engine_payload(application: CarApplication) -> dict[str, Any] | None:
    """What the rule engine is asked for the application (car or truck, POLICY.md), from the registry and what
    was filed; None when the registry cannot tell what the rules need (no amount is then granted)."""
    if application.kind == CarApplication.Kind.TRUCK:
        old_truck = Vehicle.objects.filter(vin=application.old_vin).first() if application.old_vin else None
        return _truck_payload(application, old_truck)
    old = Vehicle.objects.filter(vin=application.old_vin).first()
    person = application.applicant
    owned_since = _applicant_owned_since(old, person) if old is not None and person is not None else None
    if old is None or owned_since is None:
        return None
    in_catalogue = NevCatalogueEntry.objects.filter(model_code=application.new_model_code).exists()
    return _engine_payload(application, old, owned_since, in_catalogue)


def _amount(application: CarApplication) -> int:
    """The subsidy the rule engine grants now (0 when it does not)."""
    payload = engine_payload(application)
    if payload is None:
        return 0
    decision = rule_set_for(application.programme.code, application.submitted_on).evaluate(payload)
    return decision.amount_fen if decision.eligible else 0


def refresh_checks(*, actor: User, application: CarApplication) -> CarApplication:
    """Run the automatic checks again (a reviewer, after new data arrived)."""
    _require_reviewer(actor, application)
    with transaction.atomic():
        _refresh_checks(application, today_local())
        _audit(actor, "checked", application, {"checks": application.checks})
    return application


# ---------------------------------------------------------------- review


def _locked(application: CarApplication) -> CarApplication:
    return (
        # Only the application's row is locked: the applicant (person or organisation) is an outer join.
        CarApplication.objects.select_for_update(of=("self",))
        .select_related("applicant", "applicant_organisation", "programme")
        .get(pk=application.pk)
    )


def _close_pause(application: CarApplication, today: datetime.date) -> None:
    for pause in application.pauses:
        if pause.get("end") is None:
            pause["end"] = today.isoformat()


def accept(*, actor: User, application: CarApplication) -> CarApplication:
    """受理: the decide clock starts."""
    _require_reviewer(actor, application)
    with transaction.atomic():
        application = _locked(application)
        _require_reviewer(actor, application)
        _require_status(application, "submitted")
        application.status = CarApplication.Status.ACCEPTED
        application.accepted_on = today_local()
        application.accepted_by = actor
        application.save(update_fields=["status", "accepted_on", "accepted_by"])
        _refresh_checks(application, application.accepted_on)
        _step(application, "accepted", "已受理", actor)
        _audit(actor, "accepted", application, {"status": application.status})
    return application


def request_supplement(*, actor: User, application: CarApplication, note: str, due_on: datetime.date) -> CarApplication:
    """补正: ask the applicant for more material by a day; the running clock stops until it comes."""
    _require_reviewer(actor, application)
    today = today_local()
    errors = []
    if not note.strip():
        errors.append(FieldError("note", "required", "请说明需要补正的材料"))
    if due_on <= today:
        errors.append(FieldError("due_on", "invalid_date", "补正截止日期应晚于今天"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    with transaction.atomic():
        application = _locked(application)
        _require_reviewer(actor, application)
        _require_status(application, "submitted", "accepted")
        stage = "accept" if application.status == "submitted" else "decide"
        application.pauses = [*application.pauses, {"stage": stage, "start": today.isoformat(), "end": None}]
        application.status = CarApplication.Status.SUPPLEMENT
        application.supplement_due_on = due_on
        application.supplement_note = note.strip()
        application.save(update_fields=["pauses", "status", "supplement_due_on", "supplement_note"])
        _step(application, "supplement_requested", f"要求补正材料（截止 {due_on:%Y-%m-%d}）", actor, note=note.strip())
        _audit(actor, "supplement_requested", application, {"due_on": due_on.isoformat(), "stage": stage})
        notify_applicant(
            application,
            f"您的{_subject(application)}{application.number}需补正材料：{note.strip()[:60]}。"
            f"请于{due_on:%Y年%m月%d日}前补正，逾期将不予补贴。",
            "car_supplement",
        )
    return application


def supply(*, actor: User, application: CarApplication) -> CarApplication:
    """The applicant has given the material asked for: the clock runs again where it stopped."""
    if not is_applicant(actor, application) and actor.pk != application.prepared_by_id:
        raise ForbiddenError("只有申请人可以提交补正材料", code="car_application_forbidden")
    today = today_local()
    with transaction.atomic():
        application = _locked(application)
        _require_status(application, "supplement")
        if application.supplement_due_on is not None and today > application.supplement_due_on:
            raise ConflictError("补正期限已过", code="supplement_overdue")
        stage = application.pauses[-1]["stage"] if application.pauses else "decide"
        _close_pause(application, today)
        application.status = CarApplication.Status.SUBMITTED if stage == "accept" else CarApplication.Status.ACCEPTED
        application.save(update_fields=["pauses", "status"])
        _refresh_checks(application, today)
        _step(application, "supplement_given", "已补正材料", actor)
        _audit(actor, "supplement_given", application, {"status": application.status})
    return application


def decide(
    *, actor: User, application: CarApplication, approve: bool, reason_code: str, note: str = ""
) -> CarApplication:
    """Approve (spend the subsidy through the budget ledger and ask settlement to pay) or refuse, with a reason
    code. A reconsideration (复核) is decided the same way by another reviewer."""
    reasons = domain.APPROVAL_REASONS if approve else domain.REFUSAL_REASONS
    if reason_code not in reasons:
        raise ValidationFailed.for_field("reason_code", "invalid_choice", "请选择决定理由")
    _require_reviewer(actor, application, deciding=True)
    today = today_local()
    with transaction.atomic():
        if application.certificate_number:
            # Before the application, in the order a revocation takes them: a certificate revoked meanwhile is
            # either seen revoked by the checks below, or waits for this decision and then refuses to revoke.
            ScrapCertificate.objects.select_for_update().filter(number=application.certificate_number).first()
        application = _locked(application)
        _require_reviewer(actor, application, deciding=True)
        # A 补正 whose deadline passed may be refused (材料不全或补正逾期).
        overdue = (
            application.status == "supplement"
            and application.supplement_due_on is not None
            and today > application.supplement_due_on
        )
        if overdue and not approve:
            _close_pause(application, today)
        else:
            _require_status(application, "accepted", "reconsideration")
        was_reconsideration = application.status == "reconsideration"
        _refresh_checks(application, today)
        if approve:
            failed = [c["title"] for c in application.checks if c["result"] == FAIL]
            if failed:
                raise ConflictError(f"以下核验未通过，不能批准：{'、'.join(failed)}", code="checks_failed")
            untold = [c["title"] for c in application.checks if c["result"] == UNKNOWN]
            if untold and reason_code == "all_checks_passed":
                # "各项核验通过" is what the reason says: a check the platform could not make was made by a person.
                raise ValidationFailed.for_field(
                    "reason_code",
                    "checks_not_all_passed",
                    f"以下核验无法自动完成，请人工核对材料后选择“经人工核验符合条件”：{'、'.join(untold)}",
                )
            if _nev_catalogue_missing(application):
                raise ConflictError(
                    "尚未导入新能源汽车车型目录，不能核定新能源汽车的补贴，请先由目录管理人员导入",
                    code="nev_catalogue_missing",
                )
            amount = _amount(application)
            if amount <= 0:
                raise ConflictError("按政策条件补贴金额为零，不能批准", code="checks_failed")
            ledger.lock_programme(application.programme_id)
            pools = ledger.slice_ids(application.programme_id, application.district_id)
            pool = ledger.hold(pools, 0, amount, slow=True) if pools else None
            if pool is None:
                raise ConflictError("该区补贴资金不足，暂不能批准", code="budget_exhausted")
            ledger.spend(pool, held=amount, spent=amount)
            application.amount_fen = amount
            application.pool_id = pool
            application.status = CarApplication.Status.APPROVED
        else:
            application.status = CarApplication.Status.REFUSED
        if not was_reconsideration:
            application.first_decided_by = actor
        application.decided_on = today
        application.decided_by = actor
        application.reason_code = reason_code
        application.decision_note = note.strip()
        try:
            with transaction.atomic():
                application.save()
        except IntegrityError:
            raise ConflictError("该车辆已享受过补贴", code="vin_already_subsidised") from None
        if approve:
            if application.payee is None:
                raise ConflictError("申请人尚未确认收款账户", code="payee_missing")
            request_payment(
                payee=application.payee,
                programme=application.programme,
                source_kind=SOURCE_KIND,
                source_ref=str(application.pk),
                amount_fen=application.amount_fen,
                actor=actor,
            )
        verb = "复核" if was_reconsideration else "审核"
        title = (
            f"{verb}通过，补贴 {format_yuan(application.amount_fen)}"
            if approve
            else f"{verb}未通过：{reasons[reason_code]}"
        )
        _step(application, "decided", title, actor, reason=reason_code, note=note.strip())
        _audit(
            actor,
            "approved" if approve else "refused",
            application,
            {"reason_code": reason_code, "amount_fen": application.amount_fen, "reconsideration": was_reconsideration},
        )
        notify_applicant(application, f"您的{_subject(application)}{application.number}{title}。", "car_decided")
    return application


def request_reconsideration(*, actor: User, application: CarApplication, note: str) -> CarApplication:
    """复核: the applicant asks once for a refusal to be looked at again, by another reviewer."""
    if not is_applicant(actor, application):
        raise ForbiddenError("只有申请人可以申请复核", code="car_application_forbidden")
    if not note.strip():
        raise ValidationFailed.for_field("note", "required", "请说明申请复核的理由")
    with transaction.atomic():
        application = _locked(application)
        _require_status(application, "refused")
        if application.reconsideration_requested:
            raise ConflictError("每件申请只能申请一次复核", code="reconsideration_once")
        application.reconsideration_requested = True
        application.status = CarApplication.Status.RECONSIDERATION
        try:
            with transaction.atomic():
                application.save(update_fields=["reconsideration_requested", "status"])
        except IntegrityError:
            raise ConflictError("该车辆已有其他办理中的申请", code="car_application_duplicate") from None
        _step(application, "reconsideration", "申请复核", actor, note=note.strip())
        _audit(actor, "reconsideration_requested", application, {"note": note.strip()})
    return application


# ---------------------------------------------------------------- the bank's answer (settlement callbacks)


def _application_of(result: PaymentResult) -> CarApplication:
    application = CarApplication.objects.select_for_update().filter(pk=int(result.source_ref)).first()
    if application is None:
        raise NotFoundError(f"汽车补贴申请 {result.source_ref} 不存在", code="car_application_not_found")
    return application


def mark_paid(result: PaymentResult) -> None:
    """Settlement's on_paid: the money arrived (在导入银行结果的事务中)."""
    application = _application_of(result)
    if application.status == "paid":
        return
    application.status = CarApplication.Status.PAID
    application.paid_on = timezone.localdate(result.at)
    application.bank_reference = result.bank_reference[:60]
    application.payment_failure = ""
    application.save(update_fields=["status", "paid_on", "bank_reference", "payment_failure"])
    _step(application, "paid", f"补贴 {format_yuan(result.amount_fen)} 已到账", None)
    _audit(None, "paid", application, {"bank_reference": result.bank_reference, "amount_fen": result.amount_fen})
    notify_applicant(
        application,
        f"您的{_subject(application)}{application.number}的补贴{format_yuan(result.amount_fen)}已拨付到账。",
        "car_paid",
    )


def mark_failed(result: PaymentResult) -> None:
    """Settlement's on_failed: the bank refused the payment (wrong account...)."""
    application = _application_of(result)
    application.status = CarApplication.Status.PAYMENT_FAILED
    application.payment_failure = result.failure_reason[:200]
    application.save(update_fields=["status", "payment_failure"])
    _step(application, "payment_failed", f"拨付失败：{result.failure_reason[:100]}", None)
    _audit(None, "payment_failed", application, {"failure_reason": result.failure_reason})
    notify_applicant(
        application,
        f"您的{_subject(application)}{application.number}拨付失败（{result.failure_reason[:40]}），请登录平台更正收款账户，更正后将重新拨付。",
        "car_payment_failed",
    )


def correct_account(*, actor: User, application: CarApplication, bank_name: str, account_number: str) -> CarApplication:
    """After the bank refused the payment (wrong account, name mismatch...), the applicant gives the account to pay
    instead. Settlement already put the payment back in the queue (``PaymentResult.requeued``); the next batch
    reads the payee's account as it stands then, so correcting the payee is all it takes: nothing is requested
    again and the budget is not touched. The same account again is refused: the bank has just turned it down."""
    if not is_applicant(actor, application):
        raise ForbiddenError("只有申请人本人可以更正收款账户", code="car_application_forbidden")
    with transaction.atomic():
        application = _locked(application)
        _require_status(application, "payment_failed")
        payable = (
            Payable.objects.select_for_update().filter(source_kind=SOURCE_KIND, source_ref=str(application.pk)).first()
        )
        if payable is not None and payable.status == Payable.Status.IN_BATCH:
            # The batch copied the account when it was built: a correction now would not reach it.
            raise ConflictError("补贴款已进入新的支付批次，请待银行结果返回后再更正收款账户", code="payment_in_batch")
        # A failed payment went to a payee (the status requires one).
        payee = Payee.objects.select_for_update().get(pk=application.payee_id or 0)
        account = "".join(unicodedata.normalize("NFKC", account_number).split())
        refused = (
            PaymentLine.objects.filter(payable=payable, status=PaymentLine.Status.FAILED).order_by("-pk").first()
            if payable is not None
            else None
        )
        if (
            account
            and refused is not None
            and account == crypto.decrypt(refused.account_cipher, purpose="bank_account")
        ):
            raise ValidationFailed.for_field(
                "account_number", "same_account", "该账户刚被银行退回，请填写其他可以入账的银行账户"
            )
        before = payee.account_masked
        payee = register_payee(
            reference=payee.reference,
            kind=payee.kind,
            name=payee.name,
            account_name=payee.account_name,
            bank_name=bank_name,
            account_number=account_number,
            person=payee.person,
            organisation=payee.organisation,
            actor=actor,
        )
        application.status = CarApplication.Status.APPROVED
        application.save(update_fields=["status"])
        _step(application, "account_corrected", f"已更正收款账户（{payee.account_masked}），待下一批次重新拨付", actor)
        _audit(
            actor,
            "account_corrected",
            application,
            {"account_before": before, "account": payee.account_masked, "failure": application.payment_failure},
        )
    return application


# ---------------------------------------------------------------- NEV catalogue import


def import_nev_catalogue(*, actor: User, rows: list[dict[str, str]], batch: str = "") -> int:
    """Add the catalogue's models (车辆型号, 生产企业, 品牌); known models are left as they are. Catalogue keepers."""
    if districts_for(actor, *CATALOGUE_KEEPERS) is not None:
        raise ForbiddenError("只有全市范围的目录管理人员可以导入新能源汽车车型目录", code="nev_catalogue_forbidden")
    entries = []
    for row in rows:
        code = (row.get("model_code") or "").strip().upper()
        if code:
            entries.append(
                NevCatalogueEntry(
                    model_code=code[:40],
                    manufacturer=(row.get("manufacturer") or "")[:120],
                    brand=(row.get("brand") or "")[:60],
                    batch=batch[:20],
                )
            )
    with transaction.atomic():
        before = NevCatalogueEntry.objects.count()
        NevCatalogueEntry.objects.bulk_create(entries, ignore_conflicts=True)
        added = NevCatalogueEntry.objects.count() - before
        last = NevCatalogueEntry.objects.order_by("-pk").first()
        if added and last is not None:
            audit.record(
                actor=actor,
                action="vehicles.nev_catalogue.imported",
                target=last,
                after={"rows": len(entries), "added": added, "batch": batch},
            )
    return added


NEV_COLUMNS = {
    "车辆型号": "model_code",
    "型号": "model_code",
    "生产企业": "manufacturer",
    "企业名称": "manufacturer",
    "品牌": "brand",
    "通用名称": "brand",
}


def import_nev_catalogue_file(*, actor: User, file_name: str, content: bytes, batch: str = "") -> int:
    """Import the NEV catalogue from a CSV/XLSX file with a 车辆型号 column (生产企业, 品牌 optional)."""
    from huanxin.catalogue.domain.products import ImportFileError
    from huanxin.catalogue.domain.tabular import read_table

    if districts_for(actor, *CATALOGUE_KEEPERS) is not None:
        raise ForbiddenError("只有全市范围的目录管理人员可以导入新能源汽车车型目录", code="nev_catalogue_forbidden")
    try:
        table = read_table(file_name, content)
    except ImportFileError as error:
        raise ValidationFailed.for_field("file", error.code, error.message) from None
    columns = {index: NEV_COLUMNS.get(name.strip()) for index, name in enumerate(table.header)}
    if "model_code" not in columns.values():
        raise ValidationFailed.for_field("file", "missing_column", "文件缺少“车辆型号”列")
    rows = [
        {field: cells[index] for index, field in columns.items() if field and index < len(cells)}
        for _, cells in table.rows
    ]
    return import_nev_catalogue(actor=actor, rows=rows, batch=batch)
