"""Vehicles API: the traffic police import, the VIN search with the full history, the mandatory-scrapping list,
and scrapping (certificates, five major assemblies, traction batteries; the public certificate check)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import File, Form, Query, Router, Status, UploadedFile

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import VEHICLE_SCRAPPING_STAFF
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES
from huanxin.core import ratelimit
from huanxin.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.schemas import QueryInt
from huanxin.vehicles import queries, scrapping, services
from huanxin.vehicles.domain.certificates import AssemblyInput
from huanxin.vehicles.models import ScrapCertificate, Vehicle, VehicleEvent
from huanxin.vehicles.schemas import (
    ScrapAssembliesIn,
    ScrapAssemblyOut,
    ScrapBatteryIn,
    ScrapBatteryOut,
    ScrapCertificateCheckOut,
    ScrapCertificateFilter,
    ScrapCertificateIn,
    ScrapCertificateListOut,
    ScrapCertificateOut,
    ScrapCertificateRevokeIn,
    ScrapListFilter,
    ScrapListItemOut,
    ScrapListOut,
    ScrapReasonOut,
    ScrapSummaryOut,
    VehicleEventOut,
    VehicleImportReportOut,
    VehicleOut,
    VehicleSearchIn,
)

router = Router(tags=["机动车登记与报废"])

READ_REFUSED = "只有政府监管人员可以查询机动车登记信息"


def _require_reader(request: HttpRequest) -> None:
    if not queries.can_read_registry(request.user):
        raise ForbiddenError(READ_REFUSED, code="vehicle_registry_forbidden")


@router.post(
    "/imports",
    response={201: VehicleImportReportOut},
    summary="导入公安交管机动车登记数据（CSV 或 XLSX，multipart 字段 file；全市范围的系统管理员、审核人员）",
    description=(
        "有任何一行有误时整份文件都不导入（返回每一行的行号、字段和原因），除非 good_rows_only=true；"
        "已记录过的相同业务不会重复记录，重复导入同一文件不产生变化。"
    ),
)
def import_registrations(request: HttpRequest, file: File[UploadedFile], good_rows_only: Form[bool] = False) -> Any:
    if not queries.can_import(request.user):
        raise ForbiddenError(queries.IMPORT_REFUSED, code="vehicle_import_forbidden")
    if file.size is not None and file.size > MAX_FILE_BYTES:
        raise ValidationFailed.for_field(
            "file", "file_too_large", f"文件大小超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分为多个文件分批导入"
        )
    report = services.import_registrations(
        actor=current_user(request), file_name=file.name or "", content=file.read(), good_rows_only=good_rows_only
    )
    return Status(201, report)


@router.get("/imports/{int:import_id}", response=VehicleImportReportOut, summary="登记数据导入报告")
def get_import(request: HttpRequest, import_id: QueryInt) -> Any:
    return services.ImportReport.of(queries.get_import_for_user(request.user, import_id))


def _event_out(event: VehicleEvent) -> VehicleEventOut:
    return VehicleEventOut(
        id=event.pk,
        kind=event.kind,
        kind_name=event.kind_name,
        occurred_on=event.occurred_on,
        owner_kind=event.owner_kind,
        owner_name=event.owner_display_name,
        owner_id_masked=event.owner_id_masked,
        district=event.district_id,
        use=event.use,
        details=event.details,
        source=event.source,
        reference=event.reference,
        recorded_at=event.recorded_at,
    )


def vehicle_out(vehicle: Vehicle) -> VehicleOut:
    return VehicleOut(
        id=vehicle.pk,
        vin=vehicle.vin,
        vehicle_type=vehicle.vehicle_type,
        vehicle_type_name=vehicle.vehicle_type_name,
        use=vehicle.use,
        fuel=vehicle.fuel,
        is_nev=vehicle.is_nev,
        displacement_ml=vehicle.displacement_ml,
        emission_standard=vehicle.emission_standard,
        registered_on=vehicle.registered_on,
        status=vehicle.status,
        owner_kind=vehicle.owner_kind,
        owner_name=vehicle.owner_display_name,
        owner_id_masked=vehicle.owner_id_masked,
        owner_since=vehicle.owner_since,
        district=vehicle.district_id,
        district_name=vehicle.district.name,
        last_inspection_on=vehicle.last_inspection_on,
        mileage_km=vehicle.mileage_km,
        scrapped_on=vehicle.scrapped_on,
        deregistered_on=vehicle.deregistered_on,
        events=[_event_out(event) for event in queries.history(vehicle)],
    )


@router.post(
    "/search",
    response=VehicleOut,
    summary="按车辆识别代号查询车辆及其全部生命周期记录（政府监管人员；VIN 在请求体中发送）",
)
def search_vehicle(request: HttpRequest, payload: VehicleSearchIn) -> Any:
    _require_reader(request)
    return vehicle_out(queries.get_vehicle_by_vin_for_user(request.user, payload.vin))


@router.get(
    "/scrapping-list",
    response=ScrapListOut,
    summary="强制报废清单：已达到或一年内达到强制报废标准的车辆，及 bj-truck-2024 覆盖的国四营运重型货车",
)
def scrapping_list(request: HttpRequest, filters: Query[ScrapListFilter]) -> Any:
    _require_reader(request)
    as_of = filters.as_of or timezone.localdate(timezone=services.BEIJING)
    entries = list(
        queries.scrap_list_for_user(
            request.user,
            as_of=as_of,
            district=filters.district or "",
            vehicle_type=filters.vehicle_type or "",
            bj_truck_only=filters.bj_truck_only,
        )
    )
    page = entries[filters.offset : filters.offset + filters.limit]
    return ScrapListOut(
        as_of=as_of,
        count=len(entries),
        summary=[ScrapSummaryOut(**row.__dict__) for row in queries.summarise(entries)],
        items=[
            ScrapListItemOut(
                vin=entry.vehicle.vin,
                vehicle_type=entry.vehicle.vehicle_type,
                vehicle_type_name=entry.vehicle.vehicle_type_name,
                use=entry.vehicle.use,
                emission_standard=entry.vehicle.emission_standard,
                district=entry.vehicle.district_id,
                registered_on=entry.vehicle.registered_on,
                owner_kind=entry.vehicle.owner_kind,
                owner_name=entry.vehicle.owner_display_name,
                status=entry.status,
                status_name=entry.status_name,
                must_scrap=entry.outlook.must_scrap,
                service_life_ends_on=entry.outlook.service_life_ends_on,
                guide_mileage_reached=entry.outlook.guide_mileage_reached,
                bj_truck_2024=entry.outlook.bj_truck_2024,
                reasons=[ScrapReasonOut(**reason) for reason in entry.outlook.reasons],
            )
            for entry in page
        ],
    )


# ---------------------------------------------------------------- scrapping


def _enterprise(request: HttpRequest, organisation_id: int | None) -> Organisation:
    return acting_organisation(
        request,
        roles=VEHICLE_SCRAPPING_STAFF,
        kinds=[OrganisationKind.VEHICLE_SCRAPPER],
        requested=organisation_id,
        refusal=ForbiddenError(queries.SCRAPPING_REFUSED, code="scrapping_forbidden"),
    )


def certificate_out(certificate: ScrapCertificate) -> ScrapCertificateOut:
    vehicle = certificate.vehicle
    return ScrapCertificateOut(
        id=certificate.pk,
        number=certificate.number,
        vin=vehicle.vin,
        vehicle_type=vehicle.vehicle_type,
        vehicle_type_name=vehicle.vehicle_type_name,
        fuel=vehicle.fuel,
        is_nev=vehicle.is_nev,
        enterprise_id=certificate.enterprise_id,
        enterprise_name=certificate.enterprise.name,
        licence_number=certificate.licence_number,
        intake_on=certificate.intake_on,
        status=certificate.status,
        owner_kind=certificate.owner_kind,
        owner_name=certificate.owner_display_name,
        owner_id_masked=certificate.owner_id_masked,
        issued_at=certificate.issued_at,
        owner_checked_at=certificate.owner_checked_at,
        revoked_at=certificate.revoked_at,
        revocation_reason=certificate.revocation_reason,
        revocation_reason_name=certificate.get_revocation_reason_display() if certificate.revocation_reason else "",
        check_url=queries.check_url(certificate.number),
        assemblies=[
            ScrapAssemblyOut(
                assembly=a.assembly,
                assembly_name=a.get_assembly_display(),
                destination=a.destination,
                destination_name=a.get_destination_display(),
                receiver_name=a.receiver_name,
                recorded_at=a.recorded_at,
            )
            for a in queries.assemblies_of(certificate)
        ],
        batteries=[
            ScrapBatteryOut(
                id=b.pk,
                battery_code=b.code,
                trace_code=b.trace_code,
                recycler_id=b.recycler_id,
                recycler_name=b.recycler.name,
                handed_over_at=b.handed_over_at,
            )
            for b in queries.batteries_of(certificate)
        ],
    )


@router.post(
    "/certificates",
    response={201: ScrapCertificateOut},
    summary="报废机动车回收：登记车辆回收并开具报废机动车回收证明（报废机动车回收拆解企业人员）",
    description=(
        "企业资质须在回收日期有效；车辆须在机动车登记信息中且未报废、未注销；交车人须出示登记所有人的证件，"
        "证件号码与机动车登记不符的被拒绝（每人每小时不符次数有上限，超过返回429）；一辆车只能报废一次。"
    ),
    openapi_extra={"x-problems": [429]},
)
def issue_certificate(request: HttpRequest, payload: ScrapCertificateIn) -> Any:
    enterprise = _enterprise(request, payload.organisation_id)
    certificate = scrapping.issue_certificate(
        actor=current_user(request),
        enterprise=enterprise,
        vin=payload.vin,
        owner_id_number=payload.owner_id_number,
        intake_on=payload.intake_on,
    )
    return Status(201, certificate_out(certificate))


@router.post(
    "/certificates/{int:certificate_id}/revoke",
    response=ScrapCertificateOut,
    summary="作废本企业开具有误的报废机动车回收证明（车辆恢复在用，可重新办理回收）",
    description="车辆已凭证明注销登记，或已凭证明批准汽车补贴的，不能作废。",
)
def revoke_certificate(request: HttpRequest, certificate_id: QueryInt, payload: ScrapCertificateRevokeIn) -> Any:
    enterprise = _enterprise(request, payload.organisation_id)
    scrapping.revoke_certificate(
        actor=current_user(request),
        enterprise=enterprise,
        certificate_id=certificate_id,
        reason=payload.reason,
        note=payload.note,
    )
    return certificate_out(queries.get_certificate_of(enterprise, certificate_id))


@router.get("/certificates", response=ScrapCertificateListOut, summary="本企业开具的报废机动车回收证明（最新在前）")
def list_certificates(request: HttpRequest, filters: Query[ScrapCertificateFilter]) -> Any:
    enterprise = _enterprise(request, filters.organisation_id)
    found = queries.certificates_of(enterprise).select_related("enterprise")
    page = found[filters.offset : filters.offset + filters.limit]
    return ScrapCertificateListOut(count=found.count(), items=[certificate_out(c) for c in page])


@router.get("/certificates/{int:certificate_id}", response=ScrapCertificateOut, summary="报废机动车回收证明（本企业）")
def get_certificate(request: HttpRequest, certificate_id: QueryInt, organisation_id: QueryInt | None = None) -> Any:
    enterprise = _enterprise(request, organisation_id)
    return certificate_out(queries.get_certificate_of(enterprise, certificate_id))


@router.post(
    "/certificates/{int:certificate_id}/assemblies",
    response={201: ScrapCertificateOut},
    summary="记录五大总成（发动机、方向机、变速器、前后桥、车架）的去向，每证一次",
)
def record_assemblies(request: HttpRequest, certificate_id: QueryInt, payload: ScrapAssembliesIn) -> Any:
    enterprise = _enterprise(request, payload.organisation_id)
    scrapping.record_assemblies(
        actor=current_user(request),
        enterprise=enterprise,
        certificate_id=certificate_id,
        assemblies=[AssemblyInput(a.assembly, a.destination, a.receiver_name) for a in payload.assemblies],
    )
    return Status(201, certificate_out(queries.get_certificate_of(enterprise, certificate_id)))


@router.post(
    "/certificates/{int:certificate_id}/batteries",
    response={201: ScrapCertificateOut},
    summary="新能源汽车动力蓄电池：按 GB/T 34014 编码登记并经追溯链移交梯次利用或再生利用企业",
)
def hand_over_battery(request: HttpRequest, certificate_id: QueryInt, payload: ScrapBatteryIn) -> Any:
    enterprise = _enterprise(request, payload.organisation_id)
    scrapping.hand_over_battery(
        actor=current_user(request),
        enterprise=enterprise,
        certificate_id=certificate_id,
        battery_code=payload.battery_code,
        recycler_id=payload.recycler_id,
    )
    return Status(201, certificate_out(queries.get_certificate_of(enterprise, certificate_id)))


def certificate_check_out(certificate: ScrapCertificate) -> ScrapCertificateCheckOut:
    return ScrapCertificateCheckOut(
        number=certificate.number,
        valid=certificate.status == ScrapCertificate.Status.VALID,
        status=certificate.status,
        status_name=certificate.get_status_display(),
        vin_masked=certificate.masked_vin,
        vehicle_type_name=certificate.vehicle.vehicle_type_name,
        enterprise_name=certificate.enterprise.name,
        intake_on=certificate.intake_on,
    )


@router.get(
    "/certificates/check/{number}",
    response=ScrapCertificateCheckOut,
    auth=None,
    summary="核验报废机动车回收证明（公开；不含所有人信息）",
    openapi_extra={"x-problems": [429]},
)
def check_certificate(request: HttpRequest, number: str) -> Any:
    scrapping.count_public_check(ratelimit.client_ip(request))
    certificate = queries.public_certificate(number)
    if certificate is None:
        raise NotFoundError("未找到该编号的报废机动车回收证明", code="certificate_not_found")
    return certificate_check_out(certificate)


# Car subsidy applications (/api/v1/vehicles/applications…), in their own module.
from huanxin.vehicles.application_api import router as applications_router  # noqa: E402

router.add_router("/applications", applications_router)

# Retroactive top-ups of car subsidies (/api/v1/vehicles/top-ups…).
from huanxin.vehicles.topup_api import router as top_ups_router  # noqa: E402

router.add_router("/top-ups", top_ups_router)
