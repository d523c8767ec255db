"""Traceability API: batch and single events, pickups and take-back codes, labels, public verification,
checkpoints and the public key."""

import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from ninja import Router, Status
from pydantic import BaseModel

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import TRACE_RECORDERS
from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.core.errors import NotFoundError, ValidationFailed
from huanxin.core.schemas import Int64, QueryInt
from huanxin.trace import integrity, labels, queries, services
from huanxin.trace.models import TraceItem
from huanxin.trace.schemas import (
    CheckpointOut,
    EventIn,
    HistoryEventOut,
    ItemOut,
    PickupIn,
    ResultOut,
    TraceBatchIn,
    TraceBatchOut,
    VerifyOut,
)

router = Router(tags=["一机一码追溯"])


def _organisation(request: HttpRequest, organisation_id: int | None) -> Organisation:
    """The organisation that records: the API token's only, or the signed-in member's (one, or the one named)."""
    return acting_organisation(request, roles=TRACE_RECORDERS, requested=organisation_id)


def _inputs(events: list[EventIn]) -> list[services.EventInput]:
    # A credit code is 18 letters and digits: anything else names no organisation and is not sent to the
    # database (PostgreSQL refuses a NUL byte in text with an error rather than no match).
    destinations = queries.organisations_by_uscc(
        e.destination_uscc for e in events if e.destination_uscc and e.destination_uscc.isalnum()
    )
    return [
        services.EventInput(
            kind=e.kind,
            # As sent: record_events brings every form of a code to the stored one, or refuses the event.
            codes=list(e.codes),
            # A time without an offset is read as Beijing time, the only zone the programme runs in.
            event_time=timezone.make_aware(e.event_time) if timezone.is_naive(e.event_time) else e.event_time,
            destination=destinations.get(e.destination_uscc or ""),
            parent=e.parent,
            outputs_g=dict(e.outputs_g),
            category=e.category,
        )
        for e in events
    ]


def _batch_out(results: list[services.EventResult]) -> TraceBatchOut:
    return TraceBatchOut(
        results=[ResultOut(**r.as_dict()) for r in results],
        recorded=sum(r.status == "recorded" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        refused=sum(r.status == "refused" for r in results),
    )


@router.post("/events/batch", response=TraceBatchOut, summary="批量记录事件（每批最多1000个，逐个返回结果，可重试）")
def record_batch(request: HttpRequest, payload: TraceBatchIn) -> Any:
    organisation = _organisation(request, payload.organisation_id)
    return _batch_out(
        services.record_events(actor=current_user(request), organisation=organisation, events=_inputs(payload.events))
    )


class SingleIn(EventIn):
    organisation_id: Int64 | None = None


@router.post("/events", response={201: ResultOut}, summary="记录一个事件")
def record_single(request: HttpRequest, payload: SingleIn) -> Any:
    organisation = _organisation(request, payload.organisation_id)
    [data] = _inputs([payload])
    result = services.record_one(actor=current_user(request), organisation=organisation, data=data)
    return Status(201, ResultOut(**result.as_dict()))


def item_out(item: TraceItem) -> ItemOut:
    return ItemOut(
        code=item.code,
        digital_link=services.digital_link(item.code),
        category=item.category,
        state=item.state,
        holder=item.holder.name if item.holder else None,
        destination=item.destination.name if item.destination else None,
        event_count=item.event_count,
        updated_at=item.updated_at,
    )


@router.post("/pickups", response={201: ItemOut}, summary="回收企业登记上门回收（赋码并记录回收）")
def pickup(request: HttpRequest, payload: PickupIn) -> Any:
    if payload.category not in CATEGORIES:
        raise ValidationFailed.for_field("category", "unknown_category", "品类无效")
    organisation = _organisation(request, payload.organisation_id)
    return Status(
        201,
        item_out(
            services.commission_pickup(
                actor=current_user(request), organisation=organisation, category=payload.category
            )
        ),
    )


@router.post("/take-backs/{take_back_id}/commission", response=ItemOut, summary="为结账时回收的旧机赋码")
def commission_take_back(request: HttpRequest, take_back_id: QueryInt) -> Any:
    take_back = queries.get_take_back_for_user(current_user(request), take_back_id)
    return item_out(services.commission_take_back(actor=current_user(request), take_back=take_back))


@router.get("/items", response=list[ItemOut], summary="本企业持有或在途的旧机")
def holdings(request: HttpRequest, organisation_id: QueryInt | None = None, state: str | None = None) -> Any:
    organisation = _organisation(request, organisation_id)
    return [item_out(i) for i in queries.items_held_by(organisation, state)]


def _verify(code: str) -> VerifyOut:
    item = queries.get_item(code)
    check = integrity.verify_item(item)
    events = []
    for link, proof in check.entries:
        events.append(
            HistoryEventOut(
                sequence=link.sequence,
                kind=link.event.kind,
                event_time=link.event.event_time,
                organisation=link.event.organisation.name,
                event_hash=link.event.hash,
                link=link.link,
                implausible=link.event.implausible,
                document=link.event.document,
                proof=None
                if proof is None
                else {
                    "day": proof.day.isoformat(),
                    "index": proof.index,
                    "leaf": proof.leaf,
                    "path": proof.path,
                    "root": proof.root,
                    "signature": proof.signature,
                    "key_id": proof.key_id,
                },
            )
        )
    return VerifyOut(
        item=item_out(item),
        chain_ok=check.ok,
        problems=check.problems,
        events=events,
        public_key_pem=integrity.public_key_pem(),
    )


@router.get("/verify/{code}", response=VerifyOut, auth=None, summary="公开核验：旧机去向、链条状态与签名检查点证明")
def verify(request: HttpRequest, code: str) -> Any:
    return _verify(code)


@router.get("/items/{code}/label.{file_format}", auth=None, summary="追溯标签二维码（png 或 svg）")
def label(request: HttpRequest, code: str, file_format: str) -> HttpResponse:
    item = queries.get_item(code)
    if file_format == "png":
        return HttpResponse(labels.label_png(item), content_type="image/png")
    if file_format == "svg":
        return HttpResponse(labels.label_svg(item), content_type="image/svg+xml")
    raise NotFoundError("仅支持 png 或 svg", code="unknown_format")


class SheetIn(BaseModel):
    codes: list[str]


@router.post("/labels.pdf", summary="标签打印页（PDF，A4 每页24枚）")
def label_sheet(request: HttpRequest, payload: SheetIn) -> HttpResponse:
    current_user(request)
    if not 1 <= len(payload.codes) <= 2400:
        raise ValidationFailed.for_field("codes", "invalid_count", "每次可打印1至2400枚标签")
    wanted = {services.canonical_code(code, field_name="codes") for code in payload.codes}
    items = queries.items_by_codes(wanted)
    if len(items) != len(wanted):
        raise ValidationFailed.for_field("codes", "unknown_code", "部分追溯码不存在")
    response = HttpResponse(labels.label_sheet_pdf(items), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="labels.pdf"'
    return response


@router.get("/checkpoints", response=list[CheckpointOut], auth=None, summary="每日签名检查点（公开）")
def checkpoints(request: HttpRequest) -> Any:
    return [
        CheckpointOut(day=c.day, event_count=c.event_count, root=c.root, signature=c.signature, key_id=c.key_id)
        for c in queries.recent_checkpoints(366)
    ]


@router.get("/public-key", auth=None, summary="检查点签名公钥（Ed25519，PEM）")
def public_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(integrity.public_key_pem(), content_type="application/x-pem-file")


EPCIS_CONTENT_TYPE = "application/ld+json"


@router.get("/epcis/items/{code}", auth=None, summary="导出单台旧机的 EPCIS 2.0 文档（JSON-LD，公开）")
def export_item(request: HttpRequest, code: str) -> StreamingHttpResponse:
    from huanxin.trace import epcis

    item = queries.get_item(code)
    return StreamingHttpResponse(
        epcis.stream_document(queries.events_for_item(item.code).iterator()), content_type=EPCIS_CONTENT_TYPE
    )


@router.get("/epcis/events", summary="导出 EPCIS 2.0 文档：本企业（或工作人员指定企业/全部）在时间窗口内的事件")
def export_events(
    request: HttpRequest,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    organisation_id: QueryInt | None = None,
) -> StreamingHttpResponse:
    from huanxin.trace import epcis

    user = current_user(request)
    # Staff export any one organisation's events or everyone's; others the organisation they act for.
    organisation = organisation_id if queries.is_staff(user) else _organisation(request, organisation_id)
    events = queries.events_for_export(user, organisation, since, until)
    response = StreamingHttpResponse(epcis.stream_document(events.iterator()), content_type=EPCIS_CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="epcis.jsonld"'
    return response


@router.post(
    "/epcis/import",
    summary="导入 EPCIS 2.0 文档（逐个事件校验，可重复导入）",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
def import_events(request: HttpRequest, organisation_id: QueryInt | None = None) -> Any:
    import json

    from huanxin.core.parsing import load_json
    from huanxin.trace import epcis

    organisation = _organisation(request, organisation_id)
    # The boundary's own reading (UTF-8 without BOM, bounded depth, no NUL): a refusal, never a server error.
    document = load_json(request.body or b"null")
    report = epcis.import_document(actor=current_user(request), organisation=organisation, document=document)
    if not report.accepted:
        problem = ValidationFailed(report.message, code=report.code)
        body = problem.problem(instance=request.path) | {"report": report.as_dict()}
        return HttpResponse(json.dumps(body, ensure_ascii=False), status=422, content_type="application/problem+json")
    return report.as_dict()
