"""Vehicle subsidy applications API (/api/v1/vehicles/applications…): residents file car applications, and
enterprises' declarants file their organisation's operating-truck (bj-truck-2024) applications, upload and follow;
reviewers accept, ask for 补正, decide; evidence is downloaded as an attachment only by the applicant and the
reviewers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status, UploadedFile

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import TRUCK_APPLICANTS
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.schemas import QueryInt
from huanxin.vehicles import application_queries as queries
from huanxin.vehicles import application_services as services
from huanxin.vehicles.application_models import CarApplication
from huanxin.vehicles.application_schemas import (
    CarAppConfirmIn,
    CarAppDecisionIn,
    CarAppEvidenceOut,
    CarAppIn,
    CarAppNevImportOut,
    CarAppOut,
    CarAppPrepareIn,
    CarAppReconsiderationIn,
    CarAppSummaryOut,
    CarAppSupplementIn,
    CarAppTruckIn,
)
from huanxin.vehicles.domain.applications import EVIDENCE_KINDS

router = Router(tags=["汽车以旧换新补贴申请"])


def detail(application: CarApplication) -> dict[str, Any]:
    clock = queries.clock(application)
    return {
        "id": application.pk,
        "number": application.number,
        "programme": application.programme.code,
        "kind": application.kind,
        "status": application.status,
        "status_name": application.get_status_display(),
        "applicant": application.applicant_display,
        "applicant_kind": "organisation" if application.applicant_organisation_id is not None else "person",
        "applicant_organisation_id": application.applicant_organisation_id,
        "old_vin": application.old_vin,
        "new_vin": application.new_vin,
        "certificate_number": application.certificate_number,
        "transfer_invoice_number": application.transfer_invoice_number,
        "new_invoice_number": application.new_invoice_number,
        "new_price_fen": application.new_price_fen,
        "new_energy": application.new_energy,
        "new_model_code": application.new_model_code,
        "new_displacement_ml": application.new_displacement_ml,
        "new_weight_class": application.new_weight_class,
        "new_refrigerated": application.new_refrigerated,
        "account_masked": application.payee.account_masked if application.payee else "",
        "prepared": application.prepared_by_id is not None,
        "submitted_on": application.submitted_on,
        "accepted_on": application.accepted_on,
        "decided_on": application.decided_on,
        "paid_on": application.paid_on,
        "reason_code": application.reason_code,
        "amount_fen": application.amount_fen,
        "supplement_due_on": application.supplement_due_on,
        "supplement_note": application.supplement_note,
        "reconsideration_requested": application.reconsideration_requested,
        "checks": application.checks,
        "steps": list(application.steps.all()),
        "clock": {
            "stages": [s.__dict__ for s in clock.stages],
            "expected_payment_on": clock.expected_payment_on,
            "calendar_missing_years": list(clock.uncovered_years),
        },
        "evidence": [evidence_out(e) for e in application.evidence.all()],
    }


def evidence_out(evidence: Any) -> dict[str, Any]:
    return {
        "id": evidence.pk,
        "kind": evidence.kind,
        "kind_name": EVIDENCE_KINDS.get(evidence.kind, evidence.kind),
        "file_name": evidence.file_name,
        "content_type": evidence.content_type,
        "size": evidence.size,
        "sha256": evidence.sha256,
        "uploaded_at": evidence.uploaded_at,
    }


def summary(application: CarApplication, clock: Any = None) -> dict[str, Any]:
    clock = clock or queries.clock(application)
    current = clock.current
    return {
        "id": application.pk,
        "number": application.number,
        "programme": application.programme.code,
        "status": application.status,
        "status_name": application.get_status_display(),
        "submitted_on": application.submitted_on,
        "due_on": current.due_on if current else None,
        "stage": current.code if current else None,
        "expected_payment_on": clock.expected_payment_on,
    }


def _get(request: HttpRequest, application_id: QueryInt) -> CarApplication:
    return queries.get_application_for_user(request.user, application_id)


@router.get("", response=list[CarAppSummaryOut], summary="我的汽车补贴申请（居民本人）")
def my_applications(request: HttpRequest) -> Any:
    user = current_user(request)
    return [summary(a) for a in queries.own_applications(user)]


@router.post("", response={201: CarAppOut}, summary="提交汽车以旧换新补贴申请（已实名认证的居民）")
def submit(request: HttpRequest, payload: CarAppIn) -> Any:
    data = payload.dict()
    data["new_price_fen"] = data.pop("new_car_price_fen")
    application = services.submit_application(actor=current_user(request), **data)
    return Status(201, detail(queries.get_application_for_user(request.user, application.pk)))


@router.post(
    "/prepared",
    response={201: CarAppOut},
    summary="一站式代办：为居民准备申请，经本人确认后提交（汽车销售企业、报废机动车回收拆解企业人员）",
)
def prepare(request: HttpRequest, payload: CarAppPrepareIn) -> Any:
    data = payload.dict()
    data["new_price_fen"] = data.pop("new_car_price_fen")
    application = services.prepare_application(actor=current_user(request), **data)
    return Status(201, detail(queries.get_application_for_user(request.user, application.pk)))


def truck_organisation(request: HttpRequest, organisation_id: int | None) -> Organisation:
    """The enterprise a truck application request acts for (an API token: its own organisation only)."""
    return acting_organisation(
        request,
        roles=TRUCK_APPLICANTS,
        kinds=services.TRUCK_APPLICANT_KINDS,
        requested=organisation_id,
        refusal=ForbiddenError(
            "只有设备更新申报企业的申报人员可以申请营运货车更新补贴", code="truck_application_forbidden"
        ),
    )


@router.get(
    "/trucks",
    response=list[CarAppSummaryOut],
    summary="本单位的营运货车更新补贴申请（bj-truck-2024；设备更新申报企业的申报人员）",
)
def truck_applications(request: HttpRequest, organisation_id: QueryInt | None = None) -> Any:
    current_user(request)
    organisation = truck_organisation(request, organisation_id)
    return [summary(a) for a in queries.organisation_applications(organisation.pk)]


@router.post(
    "/trucks",
    response={201: CarAppOut},
    summary="单位申请营运货车更新补贴（bj-truck-2024：淘汰国四重型营运货车、购置国六重型货车或新能源冷藏车）",
)
def submit_truck(request: HttpRequest, payload: CarAppTruckIn) -> Any:
    user = current_user(request)
    organisation = truck_organisation(request, payload.organisation_id)
    data = payload.dict()
    data.pop("organisation_id")
    data["new_price_fen"] = data.pop("new_truck_price_fen")
    application = services.submit_truck_application(actor=user, organisation=organisation, **data)
    return Status(201, detail(queries.get_application_for_user(request.user, application.pk)))


@router.get("/queue", response=list[CarAppSummaryOut], summary="待办申请，按截止日期排序（审核人员）")
def queue(request: HttpRequest) -> Any:
    if not queries.is_reviewer(current_user(request)):
        raise ForbiddenError("只有审核人员可以查看待办申请", code="car_review_forbidden")
    return [summary(a, c) for a, c in queries.review_queue(request.user)]


@router.get("/{int:application_id}", response=CarAppOut, summary="申请详情：核验结果、办理步骤、时限与预计到账日期")
def get_application(request: HttpRequest, application_id: QueryInt) -> Any:
    current_user(request)
    return detail(_get(request, application_id))


@router.post(
    "/{int:application_id}/evidence",
    response={201: CarAppEvidenceOut},
    summary="上传申请材料（JPEG、PNG 或 PDF；按文件内容判断类型；申请人本人）",
)
def upload_evidence(request: HttpRequest, application_id: QueryInt, kind: Form[str], file: File[UploadedFile]) -> Any:
    user = current_user(request)
    application = _get(request, application_id)
    limit = services.max_evidence_bytes()
    if file.size is not None and file.size > limit:
        raise ValidationFailed.for_field("file", "file_too_large", f"文件不能超过 {limit // (1024 * 1024)} MB")
    evidence = services.add_evidence(
        actor=user,
        application=application,
        kind=kind,
        file_name=file.name or "",
        declared_type=file.content_type or "",
        content=file.read(limit + 1),
    )
    return Status(201, evidence_out(evidence))


def evidence_response(evidence: Any) -> HttpResponse:
    """The file as an attachment of its sniffed type; never rendered inline, never sniffed by the browser."""
    from django.utils.http import content_disposition_header

    content = services.open_evidence(evidence)
    response = HttpResponse(content, content_type=evidence.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=evidence.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/{int:application_id}/evidence/{int:evidence_id}", summary="下载申请材料（申请人本人和审核人员；作为附件下载）"
)
def download_evidence(request: HttpRequest, application_id: QueryInt, evidence_id: QueryInt) -> HttpResponse:
    current_user(request)
    return evidence_response(queries.get_evidence_for_user(request.user, application_id, evidence_id))


@router.post(
    "/{int:application_id}/confirm", response=CarAppOut, summary="确认企业代办的申请并填写本人收款账户（申请人本人）"
)
def confirm(request: HttpRequest, application_id: QueryInt, payload: CarAppConfirmIn) -> Any:
    application = services.confirm_application(
        actor=current_user(request),
        application=_get(request, application_id),
        bank_name=payload.bank_name,
        account_number=payload.account_number,
    )
    return detail(application)


@router.post(
    "/{int:application_id}/account",
    response=CarAppOut,
    summary="拨付失败后更正收款账户，下一批次重新拨付（申请人本人）",
    description="仅在“拨付失败”状态可用；与被银行退回的账户相同的被拒绝。补贴资格和金额不变，不会重复拨付。",
)
def correct_account(request: HttpRequest, application_id: QueryInt, payload: CarAppConfirmIn) -> Any:
    application = services.correct_account(
        actor=current_user(request),
        application=_get(request, application_id),
        bank_name=payload.bank_name,
        account_number=payload.account_number,
    )
    return detail(application)


@router.post("/{int:application_id}/accept", response=CarAppOut, summary="受理（审核人员）")
def accept(request: HttpRequest, application_id: QueryInt) -> Any:
    return detail(services.accept(actor=current_user(request), application=_get(request, application_id)))


@router.post("/{int:application_id}/supplement", response=CarAppOut, summary="要求补正材料，时限暂停（审核人员）")
def supplement(request: HttpRequest, application_id: QueryInt, payload: CarAppSupplementIn) -> Any:
    application = services.request_supplement(
        actor=current_user(request), application=_get(request, application_id), note=payload.note, due_on=payload.due_on
    )
    return detail(application)


@router.post("/{int:application_id}/supplied", response=CarAppOut, summary="补正材料已提交，时限继续（申请人本人）")
def supplied(request: HttpRequest, application_id: QueryInt) -> Any:
    return detail(services.supply(actor=current_user(request), application=_get(request, application_id)))


@router.post("/{int:application_id}/checks", response=CarAppOut, summary="重新运行自动核验（审核人员）")
def recheck(request: HttpRequest, application_id: QueryInt) -> Any:
    return detail(services.refresh_checks(actor=current_user(request), application=_get(request, application_id)))


@router.post("/{int:application_id}/decision", response=CarAppOut, summary="审核决定或复核决定，附理由代码（审核人员）")
def decision(request: HttpRequest, application_id: QueryInt, payload: CarAppDecisionIn) -> Any:
    application = services.decide(
        actor=current_user(request),
        application=_get(request, application_id),
        approve=payload.approve,
        reason_code=payload.reason_code,
        note=payload.note,
    )
    return detail(application)


@router.post(
    "/{int:application_id}/reconsideration",
    response=CarAppOut,
    summary="对不予补贴的决定申请复核，限一次（申请人本人）",
)
def reconsideration(request: HttpRequest, application_id: QueryInt, payload: CarAppReconsiderationIn) -> Any:
    application = services.request_reconsideration(
        actor=current_user(request), application=_get(request, application_id), note=payload.note
    )
    return detail(application)


@router.post(
    "/nev-catalogue",
    response={201: CarAppNevImportOut},
    summary="导入《减免车辆购置税的新能源汽车车型目录》（CSV 或 XLSX，含“车辆型号”列；全市范围的目录管理人员）",
)
def import_nev_catalogue(request: HttpRequest, file: File[UploadedFile], batch: Form[str] = "") -> Any:
    added = services.import_nev_catalogue_file(
        actor=current_user(request), file_name=file.name or "", content=file.read(), batch=batch[:20]
    )
    return Status(201, {"added": added})


# Legal-clock flags (/api/v1/vehicles/applications/clock-flags), in their own module.
from huanxin.vehicles.clock_flag_api import router as clock_flags_router  # noqa: E402

router.add_router("/clock-flags", clock_flags_router)
