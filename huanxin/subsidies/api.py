"""Consumer trade-in API: residents claim and cancel, merchants' tills redeem and return, staff watch."""

import datetime
from typing import Any

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from ninja import Router, Status

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import BUDGET_WATCHERS, MERCHANT_MANAGERS, MERCHANT_STAFF, Roles
from huanxin.core import idempotency
from huanxin.core.domain.masking import mask_name
from huanxin.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import districts_for, has_role, require_in_person
from huanxin.core.schemas import QueryInt
from huanxin.policy import queries as policy_queries
from huanxin.policy.models import Programme
from huanxin.subsidies import queries, services
from huanxin.subsidies.domain import codes
from huanxin.subsidies.models import (
    ClaimRefusal,
    ClaimRound,
    Enrolment,
    Qualification,
    Redemption,
    RedemptionHold,
    Return,
    RoundSlice,
    Store,
)
from huanxin.subsidies.schemas import (
    ClaimIn,
    EnrolmentDecisionIn,
    EnrolmentIn,
    EnrolmentOut,
    HoldDecisionIn,
    HoldOut,
    QualificationLookupOut,
    QualificationOut,
    QuoteOut,
    RedeemConfirmIn,
    RedeemIn,
    RedemptionOut,
    RefusalOut,
    ReturnIn,
    ReturnOut,
    ReturnPreviewIn,
    ReturnQuoteOut,
    RoundIn,
    RoundOut,
    StoreIn,
    StoreOut,
)

router = Router(tags=["消费品以旧换新"])

CLAIM_PATH = "/api/v1/subsidies/qualifications"
# The claim writes its own Idempotency-Key record: reserved in its read, answered in its write.
idempotency.defer_to_view("POST", CLAIM_PATH)


def qualification_out(q: Qualification) -> QualificationOut:
    return QualificationOut(
        id=q.pk,
        code=q.code,
        code_display=codes.display(q.code),
        programme=q.programme.code,
        programme_name=q.programme.name,
        category=q.category,
        district=q.district_id,
        held_fen=q.held_fen,
        status=q.status,
        status_label=q.get_status_display(),
        issued_at=q.issued_at,
        expires_at=q.expires_at,
        rule_version=q.rule_version,
    )


def redemption_out(r: Redemption) -> RedemptionOut:
    return RedemptionOut(
        id=r.pk,
        qualification_code=r.qualification.code,
        programme=r.programme.code,
        merchant_id=r.merchant_id,
        store_id=r.store_id,
        product_id=r.product_id,
        category=r.category,
        serial=r.serial,
        price_fen=r.price_fen,
        subsidy_fen=r.subsidy_fen,
        returned_fen=r.returned_fen,
        status=r.status,
        rule_version=r.rule_version,
        redeemed_at=r.redeemed_at,
        reasons=r.decision.get("reasons", []),
        withheld=r.withheld,
        hold_status=_hold_status(r),
    )


def _hold_status(r: Redemption) -> str:
    """The hold's status, read only for sales that were held (the others have none)."""
    if not r.withheld:
        return ""
    try:
        return r.hold.status
    except RedemptionHold.DoesNotExist:
        return ""


@router.get("/qualifications", response=list[QualificationOut], summary="我的资格（工作人员：辖区内资格）")
def list_qualifications(request: HttpRequest, status: str | None = None) -> Any:
    queryset = queries.qualifications_visible_to(request.user).order_by("-issued_at")
    if status:
        queryset = queryset.filter(status=status)
    return [qualification_out(q) for q in queryset[:200]]


@router.post(
    "/qualifications",
    response={201: QualificationOut},
    summary="申领补贴资格",
    description="资格计入申领人登记居住区的预算（实名认证时登记：POST /api/v1/accounts/me/identity；"
    "每个项目年度可变更一次：POST /api/v1/accounts/me/district）。"
    "请求中的 district 与登记居住区不同时返回 422，字段 district，代码 district_mismatch。"
    "因已持有同品类资格被拒时（代码 already_holding），问题详情带 held_qualification_id。",
)
def claim(request: HttpRequest, payload: ClaimIn) -> Any:
    actor = current_user(request)
    services.check_stated_district(actor=actor, district=payload.district)
    rendered: dict[int, HttpResponse] = {}

    def respond(qualification: Qualification) -> HttpResponse:
        # Rendered as ninja renders the response schema, once per qualification: the claim may store this
        # very response with its Idempotency-Key before it commits, and then it is the one sent.
        if qualification.pk not in rendered:
            from huanxin.api import api  # the one NinjaAPI, which mounts this router (loaded by now)

            rendered[qualification.pk] = api.create_response(
                request, qualification_out(qualification).model_dump(), status=201
            )
        return rendered[qualification.pk]

    qualification = services.claim_qualification(
        actor=actor, programme_code=payload.programme, category=payload.category, respond=respond
    )
    return respond(qualification)


@router.get("/qualifications/{qualification_id}", response=QualificationOut, summary="资格详情")
def get_qualification(request: HttpRequest, qualification_id: QueryInt) -> Any:
    return qualification_out(queries.get_qualification_for_user(request.user, qualification_id))


@router.post("/qualifications/{qualification_id}/cancel", response=QualificationOut, summary="取消未使用的资格")
def cancel(request: HttpRequest, qualification_id: QueryInt) -> Any:
    qualification = queries.get_qualification_for_user(request.user, qualification_id)
    return qualification_out(services.cancel_qualification(actor=current_user(request), qualification=qualification))


@router.get("/refusals", response=list[RefusalOut], summary="我的申领被拒记录及理由")
def list_refusals(request: HttpRequest) -> Any:
    require_in_person(request.user)
    rows = (
        ClaimRefusal.objects.filter(person__user=current_user(request))
        .select_related("programme")
        .order_by("-created_at")[:100]
    )
    return [
        RefusalOut(
            programme=r.programme.code,
            category=r.category,
            code=r.code,
            message=r.message,
            reasons=r.reasons,
            created_at=r.created_at,
        )
        for r in rows
    ]


def _manager_required() -> ForbiddenError:
    """Stores and enrolments speak for the merchant: a clerk, a member of the merchant, is told who may."""
    return ForbiddenError("只有商户负责人可以办理门店与报名", code="manager_required")


def _merchant_for(
    request: HttpRequest, merchant_id: int | None, roles: Roles = MERCHANT_STAFF, refusal: ForbiddenError | None = None
) -> Organisation:
    """The till's merchant: the API token's organisation only, or the signed-in clerk's (one, or the one named)."""
    return acting_organisation(
        request,
        roles=roles,
        kinds=(OrganisationKind.MERCHANT,),
        requested=merchant_id,
        field="merchant_id",
        refusal=refusal,
    )


@router.get("/lookup", response=QualificationLookupOut, summary="收银台查询资格码（品类、状态、最高补贴）")
def lookup(request: HttpRequest, code: str, merchant_id: QueryInt | None = None) -> Any:
    _merchant_for(request, merchant_id)
    q = services.find_qualification(code)
    return QualificationLookupOut(
        code=codes.display(q.code),
        programme=q.programme.code,
        programme_name=q.programme.name,
        category=q.category,
        status=q.status,
        status_label=q.get_status_display(),
        max_subsidy_fen=q.held_fen,
        expires_at=q.expires_at,
        holder=mask_name(q.person.name),
    )


def _sale(request: HttpRequest, payload: RedeemIn) -> dict[str, Any]:
    merchant = _merchant_for(request, payload.merchant_id)
    take_back = services.TakeBackInput(**payload.take_back.model_dump()) if payload.take_back else None
    return {
        "actor": current_user(request),
        "merchant": merchant,
        "store_id": payload.store_id,
        "code": payload.code,
        "product_id": payload.product_id,
        "serial": payload.serial,
        "price_fen": payload.price_fen,
        "take_back": take_back,
    }


@router.post("/redemptions/quote", response=QuoteOut, summary="核销预览：补贴金额与顾客实付（不核销）")
def quote(request: HttpRequest, payload: RedeemIn) -> Any:
    result = services.quote_redemption(**_sale(request, payload))
    return QuoteOut(
        qualification_code=result.qualification.code,
        product_id=result.product.pk,
        category=result.product.category,
        price_fen=result.price_fen,
        subsidy_fen=result.subsidy_fen,
        paid_fen=result.paid_fen,
        filed_price_fen=result.filed_price_fen,
        held=bool(result.hold_reason),
        hold_reason=result.hold_reason,
        hold_message=result.hold_message,
        rule_version=result.rule_version,
        reasons=result.reasons,
    )


@router.post("/redemptions", response={201: RedemptionOut, 200: RedemptionOut}, summary="结账核销（立减）")
def redeem(request: HttpRequest, payload: RedeemConfirmIn) -> Any:
    """Commits a sale the customer confirmed: ``confirmed_subsidy_fen`` is the subsidy the quote showed."""
    redeemed = services.redeem(**_sale(request, payload), confirmed_subsidy_fen=payload.confirmed_subsidy_fen)
    # 201 for a new sale; the same sale resubmitted (a till retrying without a key) gets it back with 200.
    return Status(201 if redeemed.created else 200, redemption_out(redeemed.redemption))


@router.get("/redemptions", response=list[RedemptionOut], summary="核销记录（商户：本商户；工作人员：辖区）")
def list_redemptions(
    request: HttpRequest,
    merchant_id: QueryInt | None = None,
    today: bool = False,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Any:
    """The newest 200 visible sales; ``start``/``end`` are Beijing days, both included."""
    queryset = queries.redemptions_visible_to(request.user).select_related("hold").order_by("-redeemed_at")
    if merchant_id is not None:
        queryset = queryset.filter(merchant_id=merchant_id)
    if today:
        day_start, day_end = queries.beijing_day()
        queryset = queryset.filter(redeemed_at__gte=day_start, redeemed_at__lt=day_end)
    if start is not None and end is not None and start > end:
        raise ValidationFailed.for_field("end", "end_before_start", "截止日期不能早于起始日期")
    if start is not None:
        queryset = queryset.filter(redeemed_at__gte=queries.beijing_day(start)[0])
    if end is not None:
        queryset = queryset.filter(redeemed_at__lt=queries.beijing_day(end)[1])
    return [redemption_out(r) for r in queryset[:200]]


@router.post(
    "/redemptions/{redemption_id}/returns/preview",
    response=ReturnQuoteOut,
    summary="退货试算：重算补贴、退还顾客金额、冲回金额与名额（不落库）",
)
def preview_return(request: HttpRequest, redemption_id: QueryInt, payload: ReturnPreviewIn) -> Any:
    redemption = queries.get_redemption_for_user(request.user, redemption_id)
    quote = services.quote_return(
        actor=current_user(request), redemption=redemption, kind=payload.kind, new_price_fen=payload.new_price_fen
    )
    return quote


@router.post("/redemptions/{redemption_id}/returns", response={201: ReturnOut}, summary="退货退补（整单或部分）")
def create_return(request: HttpRequest, redemption_id: QueryInt, payload: ReturnIn) -> Any:
    redemption = queries.get_redemption_for_user(request.user, redemption_id)
    record = services.record_return(
        actor=current_user(request),
        redemption=redemption,
        kind=payload.kind,
        new_price_fen=payload.new_price_fen,
        reason=payload.reason,
    )
    return Status(201, _return_out(record))


def _return_out(r: Return) -> ReturnOut:
    return ReturnOut(
        id=r.pk,
        redemption_id=r.redemption_id,
        kind=r.kind,
        new_price_fen=r.new_price_fen,
        new_subsidy_fen=r.new_subsidy_fen,
        refund_fen=r.refund_fen,
        reversed_fen=r.reversed_fen,
        quota_released=r.quota_released,
        reason=r.reason,
        recorded_at=r.recorded_at,
    )


@router.get("/stores", response=list[StoreOut], summary="本商户门店")
def list_stores(request: HttpRequest, merchant_id: QueryInt | None = None) -> Any:
    merchant = _merchant_for(request, merchant_id)
    return [_store_out(s) for s in queries.merchant_stores(merchant.pk)]


def _store_out(s: Store) -> StoreOut:
    return StoreOut(
        id=s.pk,
        merchant_id=s.organisation_id,
        name=s.name,
        address=s.address,
        district=s.district_id,
        is_active=s.is_active,
    )


@router.post("/stores", response={201: StoreOut}, summary="登记门店（商户负责人）")
def create_store(request: HttpRequest, payload: StoreIn) -> Any:
    merchant = _merchant_for(request, payload.merchant_id, MERCHANT_MANAGERS, refusal=_manager_required())
    store = services.create_store(
        actor=current_user(request),
        merchant=merchant,
        name=payload.name,
        address=payload.address,
        district=payload.district,
    )
    return Status(201, _store_out(store))


def enrolment_out(e: Enrolment) -> EnrolmentOut:
    return EnrolmentOut(
        id=e.pk,
        merchant_id=e.organisation_id,
        merchant_name=e.organisation.name,
        programme=e.programme.code,
        status=e.status,
        status_label=e.get_status_display(),
        categories=e.categories,
        # Through .all(), so a list that prefetched the stores reads them from memory, not once per enrolment.
        store_ids=[s.pk for s in e.stores.all()],
        bank_name=e.bank_name,
        bank_account_masked=e.bank_account_masked,
        contact_name=e.contact_name,
        contact_phone_masked=e.contact_phone_masked,
        decision_note=e.decision_note,
    )


@router.get("/enrolments", response=list[EnrolmentOut], summary="商户报名（按权限范围）")
def list_enrolments(request: HttpRequest, status: str | None = None) -> Any:
    queryset = queries.enrolments_visible_to(request.user).prefetch_related("stores").order_by("-submitted_at")
    if status:
        queryset = queryset.filter(status=status)
    return [enrolment_out(e) for e in queryset[:200]]


@router.post("/enrolments", response={201: EnrolmentOut}, summary="商户报名参加项目")
def apply_enrolment(request: HttpRequest, payload: EnrolmentIn) -> Any:
    merchant = _merchant_for(request, payload.merchant_id, MERCHANT_MANAGERS, refusal=_manager_required())
    programme = Programme.objects.filter(code=payload.programme).first()
    if programme is None:
        raise NotFoundError("项目不存在", code="programme_not_found")
    data = services.EnrolmentInput(**payload.model_dump(exclude={"merchant_id", "programme"}))
    enrolment = services.apply_enrolment(actor=current_user(request), merchant=merchant, programme=programme, data=data)
    return Status(201, enrolment_out(enrolment))


@router.post("/enrolments/{enrolment_id}/decision", response=EnrolmentOut, summary="审核、暂停或恢复商户报名")
def decide_enrolment(request: HttpRequest, enrolment_id: QueryInt, payload: EnrolmentDecisionIn) -> Any:
    enrolment = queries.get_enrolment_for_user(request.user, enrolment_id)
    return enrolment_out(
        services.decide_enrolment(
            actor=current_user(request),
            enrolment=enrolment,
            action=payload.action,
            note=payload.note,
        )
    )


def rounds_out(rounds: list[ClaimRound]) -> list[RoundOut]:
    """The rounds with their limits and issues per category, summed over slices in one grouped query."""
    limits: dict[int, dict[str, int]] = {r.pk: {} for r in rounds}
    issued: dict[int, dict[str, int]] = {r.pk: {} for r in rounds}
    totals = (
        RoundSlice.objects.filter(round_id__in=limits)
        .values("round_id", "category")
        .annotate(limit=Sum("limit"), issued=Sum("issued"))
        .order_by("round_id", "category")
    )
    for row in totals:
        limits[row["round_id"]][row["category"]] = row["limit"]
        issued[row["round_id"]][row["category"]] = row["issued"]
    return [
        RoundOut(
            id=r.pk,
            programme=r.programme.code,
            name=r.name,
            opens_at=r.opens_at,
            closes_at=r.closes_at,
            limits=limits[r.pk],
            issued=issued[r.pk],
        )
        for r in rounds
    ]


@router.post("/rounds", response={201: RoundOut}, summary="设置发放批次及各品类名额")
def create_round(request: HttpRequest, payload: RoundIn) -> Any:
    programme = policy_queries.get_programme(payload.programme)
    claim_round = services.create_round(
        actor=current_user(request),
        programme=programme,
        name=payload.name,
        opens_at=payload.opens_at,
        closes_at=payload.closes_at,
        limits=payload.limits,
    )
    return Status(201, rounds_out([claim_round])[0])


@router.get("/rounds", response=list[RoundOut], auth=None, summary="发放批次（公开）")
def list_rounds(request: HttpRequest, programme: str) -> Any:
    return rounds_out(list(ClaimRound.objects.filter(programme__code=programme).select_related("programme")))


@router.get("/burn", response=list[queries.CategoryBurn], summary="各品类资金冻结和使用情况（工作人员）")
def burn(request: HttpRequest) -> Any:
    if not has_role(request.user, *BUDGET_WATCHERS):
        raise ForbiddenError("仅限政府工作人员", code="staff_only")
    return queries.burn_by_category(districts_for(request.user, *BUDGET_WATCHERS))


def _hold_out(h: RedemptionHold) -> HoldOut:
    return HoldOut(
        id=h.pk,
        redemption_id=h.redemption_id,
        merchant_id=h.merchant_id,
        district=h.district_id,
        reason=h.reason,
        reasons=h.reasons,
        status=h.status,
        status_label=h.get_status_display(),
        price_fen=h.redemption.price_fen,
        subsidy_fen=h.redemption.subsidy_fen,
        placed_at=h.placed_at,
        decided_at=h.decided_at,
        note=h.note,
    )


@router.get("/holds", response=list[HoldOut], summary="暂扣核销（工作人员：辖区；商户：本商户）")
def list_holds(request: HttpRequest, status: str = "held") -> Any:
    queryset = queries.holds_visible_to(request.user).order_by("placed_at", "pk")
    if status in RedemptionHold.Status.values:
        queryset = queryset.filter(status=status)
    return [_hold_out(h) for h in queryset[:200]]


@router.post("/holds/{hold_id}/clear", response=HoldOut, summary="放行暂扣的核销（尚存补贴在复核所在周期支付）")
def clear_hold(request: HttpRequest, hold_id: QueryInt, payload: HoldDecisionIn) -> Any:
    hold = queries.get_hold_for_user(request.user, hold_id)
    return _hold_out(services.clear_hold(actor=current_user(request), hold=hold, note=payload.note))


@router.post("/holds/{hold_id}/reject", response=HoldOut, summary="驳回暂扣的核销（补贴退回预算，商户不获支付）")
def reject_hold(request: HttpRequest, hold_id: QueryInt, payload: HoldDecisionIn) -> Any:
    hold = queries.get_hold_for_user(request.user, hold_id)
    return _hold_out(services.reject_hold(actor=current_user(request), hold=hold, note=payload.note))
