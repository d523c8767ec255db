"""Policy API: programmes and the quote contract, budgets, rule-set versions, the plan's measures."""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Status

from huanxin.accounts.http import current_user
from huanxin.accounts.models import User
from huanxin.core.errors import (
    PROBLEM_CONTENT_TYPE,
    DomainError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    ValidationFailed,
)
from huanxin.core.parsing import UnsupportedMediaType, is_json_content_type, load_json
from huanxin.core.schemas import QueryInt
from huanxin.policy import queries, services
from huanxin.policy.domain import InputError
from huanxin.policy.models import Programme, ResponsibleUnit, RuleSetVersion
from huanxin.policy.schemas import (
    BudgetIn,
    BudgetOut,
    DecideIn,
    MeasureOut,
    PoolOut,
    ProgrammeOut,
    ReportIn,
    ReportOut,
    RuleSetIn,
    RuleSetOut,
    StatusIn,
    TermOut,
)

router = Router(tags=["政策与规则"])

QUOTE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "additionalProperties": True},
                "example": {"category": "fridge", "price_fen": 400000, "energy_grade": 1, "water_grade": None},
            }
        },
    }
}


def programme_out(programme: Programme, version: RuleSetVersion | None) -> ProgrammeOut:
    """A programme as the API shows it; ``version`` is its published version (from published_versions)."""
    categories: dict[str, str] = {}
    description = programme.description
    terms: list[TermOut] = []
    if version is not None:
        rule_set = services.compiled(version.content)
        categories = dict(rule_set.category_names)
        # The published version's own text: the programme row keeps the first version's description.
        description = rule_set.description
        terms = [TermOut(subject=term.subject, text=term.text) for term in rule_set.terms]
    return ProgrammeOut(
        code=programme.code,
        name=programme.name,
        family=programme.family,
        status=programme.status,
        starts_on=programme.starts_on,
        ends_on=programme.ends_on,
        measure=programme.measure.number if programme.measure else None,
        description=description,
        terms=terms,
        categories=categories,
        rule_version=version.label if version else None,
        source=version.source if version else None,
    )


@router.get("/programmes", response=list[ProgrammeOut], auth=None, summary="补贴项目（公开）")
def list_programmes(request: HttpRequest) -> Any:
    programmes = list(queries.public_programmes())
    versions = services.published_versions(programmes)
    return [programme_out(p, versions.get(p.pk)) for p in programmes]


def _programme_out(programme: Programme) -> ProgrammeOut:
    return programme_out(programme, services.published_versions([programme]).get(programme.pk))


@router.get("/programmes/{code}", response=ProgrammeOut, auth=None, summary="补贴项目详情（公开）")
def get_programme(request: HttpRequest, code: str) -> Any:
    return _programme_out(queries.get_programme(code, public=True))


@router.post(
    "/programmes/{code}/quote",
    auth=None,
    openapi_extra=QUOTE_BODY,
    summary="按规则判定资格和金额（quote 合同，见 POLICY.md）",
    response={200: dict[str, Any]},
)
def quote(request: HttpRequest, code: str) -> Any:
    """Malformed input answers 422 with both problem details and the contract's ``error`` object."""
    if not is_json_content_type(request.META.get("CONTENT_TYPE", "")):
        return _quote_error(request, "unsupported_media_type", "input", "请以 application/json（UTF-8）提交", 415)
    try:
        payload = load_json(request.body or b"null")
    except ValidationFailed as exc:
        error = exc.errors[0]
        field = "input" if error.field == "body" else error.field
        return _quote_error(request, error.code, field, error.message, 422)
    try:
        return services.quote(programme_code=code, payload=payload, source="api")
    except NotFoundError as exc:
        return _quote_error(request, "unknown_programme", "programme", exc.detail, 404)
    except InputError as exc:
        error = exc.to_dict()["error"]
        return _quote_error(request, error["code"], error["field"], error["message"], 422)


def _quote_error(request: HttpRequest, code: str, field: str, message: str, status: int) -> HttpResponse:
    problem: DomainError = (
        NotFoundError(message, code=code)
        if status == 404
        else UnsupportedMediaType(message, code=code, errors=[FieldError(field, code, message)])
        if status == 415
        else ValidationFailed.for_field(field, code, message)
    )
    # The problem details body (as core's problem_response writes it) plus the quote contract's error object.
    body = problem.problem(instance=request.path, request_id=getattr(request, "request_id", ""))
    body["error"] = {"code": code, "field": field, "message": message}
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=problem.status, content_type=PROBLEM_CONTENT_TYPE)


def _staff(request: HttpRequest) -> User:
    if not queries.is_policy_staff(request.user):
        raise ForbiddenError("仅限政府工作人员", code="staff_only")
    return request.user  # type: ignore[return-value]


def _budget(programme: Programme) -> BudgetOut:
    return BudgetOut(
        programme=programme.code,
        total_budget_fen=programme.total_budget_fen,
        pools=[
            PoolOut(
                district=p.district_id,
                district_name=p.district_name,
                allocated_fen=p.allocated_fen,
                held_fen=p.held_fen,
                spent_fen=p.spent_fen,
                available_fen=p.available_fen,
            )
            for p in queries.pools_of(programme)
        ],
    )


@router.get("/programmes/{code}/budget", response=BudgetOut, summary="预算及分区额度")
def get_budget(request: HttpRequest, code: str) -> Any:
    _staff(request)
    return _budget(queries.get_programme(code))


@router.put("/programmes/{code}/budget", response=BudgetOut, summary="设置总预算和分区额度（合计须等于总预算）")
def put_budget(request: HttpRequest, code: str, payload: BudgetIn) -> Any:
    actor = _staff(request)
    programme = services.set_budget(
        actor=actor, programme=queries.get_programme(code), total_fen=payload.total_fen, allocations=payload.allocations
    )
    return _budget(programme)


@router.post("/programmes/{code}/status", response=ProgrammeOut, summary="开启或结束项目")
def set_status(request: HttpRequest, code: str, payload: StatusIn) -> Any:
    actor = _staff(request)
    return _programme_out(
        services.set_programme_status(actor=actor, programme=queries.get_programme(code), status=payload.status)
    )


def rule_set_out(version: RuleSetVersion) -> RuleSetOut:
    return RuleSetOut(
        id=version.pk,
        programme=version.programme.code,
        version=version.version,
        status=version.status,
        digest=version.digest,
        source=version.source,
        effective_from=version.effective_from,
        prepared_by=str(version.prepared_by) if version.prepared_by else None,
        approved_by=str(version.approved_by) if version.approved_by else None,
        prepared_at=version.prepared_at,
        decided_at=version.decided_at,
        note=version.note,
    )


@router.get("/programmes/{code}/rule-sets", response=list[RuleSetOut], summary="规则版本")
def list_rule_sets(request: HttpRequest, code: str) -> Any:
    _staff(request)
    return [rule_set_out(v) for v in queries.versions_of(queries.get_programme(code))]


@router.post("/programmes/{code}/rule-sets", response={201: RuleSetOut}, summary="提交规则修改（待另一人审批）")
def prepare_rule_set(request: HttpRequest, code: str, payload: RuleSetIn) -> Any:
    actor = _staff(request)
    version = services.prepare_rule_set(
        actor=actor, programme=queries.get_programme(code), content=payload.content, note=payload.note
    )
    return Status(201, rule_set_out(version))


@router.get(
    "/programmes/{code}/rule-sets/{number}/preview", response=list[services.PreviewRow], summary="新旧规则对比预览"
)
def preview_rule_set(request: HttpRequest, code: str, number: QueryInt) -> Any:
    _staff(request)
    version = queries.get_version(queries.get_programme(code), number)
    return services.preview(version)


@router.post(
    "/programmes/{code}/rule-sets/{number}/approve", response=RuleSetOut, summary="审批发布（不能审批自己提交的）"
)
def approve_rule_set(request: HttpRequest, code: str, number: QueryInt, payload: DecideIn) -> Any:
    actor = _staff(request)
    version = queries.get_version(queries.get_programme(code), number)
    return rule_set_out(services.decide_rule_set(actor=actor, version=version, approve=True, note=payload.note))


@router.post("/programmes/{code}/rule-sets/{number}/reject", response=RuleSetOut, summary="驳回规则修改")
def reject_rule_set(request: HttpRequest, code: str, number: QueryInt, payload: DecideIn) -> Any:
    actor = _staff(request)
    version = queries.get_version(queries.get_programme(code), number)
    return rule_set_out(services.decide_rule_set(actor=actor, version=version, approve=False, note=payload.note))


@router.get("/measures", response=list[MeasureOut], auth=None, summary="行动方案23项措施及进展状态")
def list_measures(request: HttpRequest) -> Any:
    return [
        MeasureOut(
            number=s.measure.number,
            numeral=s.measure.numeral,
            area=s.measure.area,
            title=s.measure.title,
            summary=s.measure.summary,
            targets=s.measure.targets,
            lead_unit=s.lead_unit,
            other_units=s.other_units,
            period=s.period.label,
            state=s.state,
            state_label=s.state_label,
        )
        for s in queries.measure_statuses(timezone.localdate())
    ]


@router.get("/measures/{number}/reports", response=list[ReportOut], summary="措施的进展报告")
def list_reports(request: HttpRequest, number: QueryInt) -> Any:
    _staff(request)
    measure = queries.get_measure(number)
    return [_report_out(r) for r in measure.reports.select_related("unit")]


def _report_out(report: Any) -> ReportOut:
    return ReportOut(
        id=report.pk,
        measure=report.measure.number,
        unit=report.unit.short_name,
        period=report.period,
        narrative=report.narrative,
        indicators=report.indicators,
        submitted_at=report.submitted_at,
    )


@router.post("/measures/{number}/reports", response={201: ReportOut}, summary="填报进展（仅责任单位）")
def submit_report(request: HttpRequest, number: QueryInt, payload: ReportIn) -> Any:
    measure = queries.get_measure(number)
    unit = ResponsibleUnit.objects.filter(short_name=payload.unit).first()
    if unit is None:
        raise ValidationFailed.for_field("unit", "unknown_unit", "责任单位不存在")
    report = services.submit_progress_report(
        actor=current_user(request),
        measure=measure,
        unit=unit,
        period=payload.period,
        narrative=payload.narrative,
        indicators=payload.indicators,
    )
    return Status(201, _report_out(report))
