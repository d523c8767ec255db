"""Checkout: the till's quote and the sale that spends a qualification, and the review of sales held for a
price check (暂扣)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts.models import Organisation, User
from huanxin.accounts.roles import MERCHANT_STAFF, REVIEWERS
from huanxin.core import audit
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, ValidationFailed
from huanxin.core.permissions import districts_for, has_role, organisations_for
from huanxin.policy import ledger
from huanxin.policy.domain import Decision, InputError
from huanxin.policy.models import Programme, RuleSetVersion
from huanxin.subsidies.domain import codes
from huanxin.subsidies.domain.checkout import product_refusal, rule_refusal, sale_subsidy
from huanxin.subsidies.domain.pricing import HOLD, REFUSE, PriceCheck, check_price, price_problem
from huanxin.subsidies.domain.serials import SerialError, normalise_serial
from huanxin.subsidies.models import (
    Enrolment,
    Qualification,
    Redemption,
    RedemptionHold,
    Store,
    TakeBack,
)
from huanxin.subsidies.services.common import (
    Lost,
    current_rules,
    engine_input,
    is_member,
)


@dataclass(frozen=True)
class TakeBackInput:
    """The old item a store takes back with the sale (以旧换新): its category, its condition, whether it goes
    on to a recycler, and a free description."""

    category: str
    condition: str
    to_recycler: bool = True
    description: str = ""


def find_qualification(code: str) -> Qualification:
    """The qualification a code typed or scanned at the till names; a malformed or unknown code is refused on
    the code field."""
    normalised = codes.normalise(code or "")
    if not codes.is_valid(normalised):
        raise ValidationFailed.for_field("code", "invalid_code", "资格码格式不正确，请核对后重新输入")
    qualification = Qualification.objects.select_related("programme", "person").filter(code=normalised).first()
    if qualification is None:
        raise ValidationFailed.for_field("code", "unknown_code", "资格码不存在")
    return qualification


@dataclass(frozen=True)
class Redeemed:
    """A checkout's sale, and whether this call made it (False when the same sale was resubmitted)."""

    redemption: Redemption
    created: bool


@dataclass(frozen=True)
class Quote:
    """What the till shows before the sale is committed: the subsidy, what the customer pays, and whether
    the merchant's reimbursement will be held for review (with the reason). ``reasons`` are the engine's
    reasons as the quote contract renders them, for the page and the API."""

    qualification: Qualification
    product: Any
    price_fen: int
    subsidy_fen: int
    paid_fen: int
    filed_price_fen: int | None
    hold_reason: str
    hold_message: str
    rule_version: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class _Sale:
    """Everything checked before a sale is written; what quote and redeem share."""

    actor: User
    merchant: Organisation
    qualification: Qualification
    store: Store
    product: Any
    serial: str
    price_fen: int
    take_back: TakeBackInput | None
    decision: Decision
    subsidy_fen: int
    rule_version: str
    filed_price_fen: int | None
    price_check: PriceCheck

    @property
    def held(self) -> bool:
        """Whether the price checks hold the merchant's reimbursement for review."""
        return self.price_check.outcome == HOLD

    def stored_decision(self) -> dict[str, Any]:
        """What ``Redemption.decision`` keeps: the engine's decision as the quote contract renders it, and
        the filed price the sale was checked against."""
        return {**self.decision.to_dict(), "filed_price_fen": self.filed_price_fen}


def _check_sale(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None,
) -> _Sale | Redemption:
    """Run every check of a sale without writing anything: the existing sale when this one was already
    made (the natural key), else what to write. Raises the first refusal; the order of the steps decides
    which refusal wins when several apply."""
    if not is_member(actor, merchant):
        raise ForbiddenError("只有本商户的收银员可以核销", code="clerk_required")
    qualification = find_qualification(code)
    enrolment, store = _enrolled_store(merchant, qualification.programme, store_id)
    existing = _sale_already_made(
        qualification, merchant=merchant, store_id=store_id, product_id=product_id, serial=serial, price_fen=price_fen
    )
    if existing is not None:
        return existing
    now = timezone.now()
    _check_usable(qualification, now)
    product, clean_serial = _check_fields(
        qualification, enrolment, product_id=product_id, price_fen=price_fen, serial=serial, take_back=take_back
    )
    today = timezone.localdate(now)
    filed_price_fen, price_check = _check_price(merchant, product, price_fen, today)
    _check_serial_unused(qualification.programme, clean_serial)
    version, decision = _decide(qualification, product, price_fen, today)
    return _Sale(
        actor=actor,
        merchant=merchant,
        qualification=qualification,
        store=store,
        product=product,
        serial=clean_serial,
        price_fen=price_fen,
        take_back=take_back,
        decision=decision,
        subsidy_fen=sale_subsidy(amount_fen=decision.amount_fen, held_fen=qualification.held_fen),
        rule_version=version.label,
        filed_price_fen=filed_price_fen,
        price_check=price_check,
    )


def _enrolled_store(merchant: Organisation, programme: Programme, store_id: int) -> tuple[Enrolment, Store]:
    """The merchant's approved enrolment in the programme and the enrolled, open store the sale is made in."""
    enrolment = Enrolment.objects.filter(organisation=merchant, programme=programme).first()
    if enrolment is None or enrolment.status != Enrolment.Status.APPROVED:
        state = "未报名" if enrolment is None else enrolment.get_status_display()
        raise ForbiddenError(f"本商户在该项目的状态为“{state}”，不能核销", code="merchant_not_enrolled")
    store = enrolment.stores.filter(pk=store_id, is_active=True).first()
    if store is None:
        raise ValidationFailed.for_field("store_id", "store_not_enrolled", "该门店未参加本项目或已停业")
    return enrolment, store


class SaleAlreadyMade(ConflictError):
    """The qualification was spent on a different sale of the same merchant: the refusal names that sale so the
    till can show it instead of guessing."""

    def __init__(self, detail: str, *, redemption_id: int) -> None:
        super().__init__(detail, code="qualification_redeemed")
        self.redemption_id = redemption_id

    def problem(self, instance: str = "", request_id: str = "") -> dict[str, Any]:
        """The problem details plus the id of the sale already made."""
        return {**super().problem(instance, request_id), "redemption_id": self.redemption_id}


def _sale_already_made(
    qualification: Qualification, *, merchant: Organisation, store_id: int, product_id: int, serial: str, price_fen: int
) -> Redemption | None:
    """The natural key: resubmitting the same sale (merchant, store, product, serial, price) returns it; any
    other sale on a spent qualification is a conflict, which names the earlier sale to its own merchant."""
    existing = Redemption.objects.filter(qualification=qualification).first()
    if existing is None:
        return None
    if existing.merchant_id != merchant.pk:
        raise ConflictError("该资格已核销", code="qualification_redeemed")
    try:
        same_serial = normalise_serial(serial, category=qualification.category) == existing.serial
    except SerialError:
        same_serial = False
    if (existing.store_id, existing.product_id, existing.price_fen) == (
        store_id,
        product_id,
        price_fen,
    ) and same_serial:
        return existing
    raise SaleAlreadyMade(
        f"该资格已于本商户第 {existing.pk} 号销售核销，与本次提交的商品、门店、序列号或成交价不同",
        redemption_id=existing.pk,
    )


def _check_usable(qualification: Qualification, now: datetime.datetime) -> None:
    """Only an issued qualification that has not expired can be spent."""
    if qualification.status != Qualification.Status.ISSUED:
        raise ConflictError(f"该资格{qualification.get_status_display()}，不能核销", code="qualification_not_issued")
    if qualification.expires_at <= now:
        raise ConflictError("该资格已过有效期", code="qualification_expired")


def _check_fields(
    qualification: Qualification,
    enrolment: Enrolment,
    *,
    product_id: int,
    price_fen: int,
    serial: str,
    take_back: TakeBackInput | None,
) -> tuple[Any, str]:
    """The product, the price, the serial and the old item's condition, every problem reported at once;
    the product and the normalised serial when there is none."""
    from huanxin.catalogue.models import ProductModel

    errors: list[FieldError] = []
    product = ProductModel.objects.filter(pk=product_id).first()
    if product is None:
        errors.append(FieldError("product_id", "unknown_product", "产品型号不在目录中"))
    else:
        refusal = product_refusal(
            product_category=product.category,
            qualification_category=qualification.category,
            enrolled_categories=enrolment.categories,
        )
        if refusal is not None:
            errors.append(FieldError(refusal.field, refusal.code, refusal.message))
    problem = price_problem(price_fen)
    if problem is not None:
        errors.append(FieldError("price_fen", *problem))
    clean_serial = ""
    try:
        clean_serial = normalise_serial(serial, category=qualification.category)
    except SerialError as exc:
        errors.append(FieldError("serial", exc.code, exc.message))
    if take_back is not None and take_back.condition not in TakeBack.Condition.values:
        errors.append(FieldError("take_back.condition", "invalid_choice", "旧机状况无效"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    return product, clean_serial


def _check_price(
    merchant: Organisation, product: Any, price_fen: int, today: datetime.date
) -> tuple[int | None, PriceCheck]:
    """The city's ceiling and the merchant's filed price for the product: the filed price (None when never
    filed) and the outcome when the sale may go on (accepted or held); a refused price raises."""
    from huanxin.catalogue.queries import filed_price, price_rule

    # Two reads on unique or covering indexes: the city's rule for the category and the merchant's filing.
    rule = price_rule(product.category)
    filing = filed_price(merchant.pk, product.pk, today)
    filed_price_fen = filing.price_fen if filing is not None else None
    check = check_price(
        price_fen=price_fen,
        category_label=product.category_name,
        ceiling_fen=rule.ceiling_fen if rule is not None else None,
        filed_price_fen=filed_price_fen,
        above_filed_price=rule.above_filed_price if rule is not None else REFUSE,
    )
    if check.outcome == REFUSE:
        raise ValidationFailed.for_field("price_fen", check.code, check.message)
    return filed_price_fen, check


def _check_serial_unused(programme: Programme, serial: str) -> None:
    """A serial/IMEI earns the programme's subsidy once, unless the sale was returned whole."""
    if Redemption.objects.filter(programme=programme, serial=serial, status__in=["completed", "partial"]).exists():
        raise ValidationFailed.for_field("serial", "serial_used", "该序列号/IMEI已享受过本项目补贴")


def _decide(
    qualification: Qualification, product: Any, price_fen: int, today: datetime.date
) -> tuple[RuleSetVersion, Decision]:
    """The published rules' decision on the sale; a refusal raises on the field the failed rule concerns."""
    version, rule_set = current_rules(qualification.programme)
    try:
        decision = rule_set.evaluate(engine_input(qualification, product, price_fen, today))
    except InputError as exc:
        raise ValidationFailed.for_field(exc.field, exc.code, str(exc)) from None
    refusal = rule_refusal(decision)
    if refusal is not None:
        raise ValidationFailed(
            refusal.message, code=refusal.code, errors=[FieldError(refusal.field, refusal.code, refusal.message)]
        )
    return version, decision


def quote_redemption(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None = None,
) -> Quote:
    """What the sale would be, for the till to show before the clerk commits it: the same checks as
    ``redeem`` and nothing written. A sale already made is quoted as it was made."""
    sale = _check_sale(
        actor=actor,
        merchant=merchant,
        store_id=store_id,
        code=code,
        product_id=product_id,
        serial=serial,
        price_fen=price_fen,
        take_back=take_back,
    )
    if isinstance(sale, Redemption):
        return _quote_made(sale)
    return Quote(
        qualification=sale.qualification,
        product=sale.product,
        price_fen=price_fen,
        subsidy_fen=sale.subsidy_fen,
        paid_fen=price_fen - sale.subsidy_fen,
        filed_price_fen=sale.filed_price_fen,
        hold_reason=sale.price_check.code if sale.held else "",
        hold_message=sale.price_check.message if sale.held else "",
        rule_version=sale.rule_version,
        reasons=[reason.to_dict() for reason in sale.decision.reasons],
    )


def _quote_made(redemption: Redemption) -> Quote:
    """A sale already made, quoted from what was stored when it was made."""
    hold = RedemptionHold.objects.filter(redemption=redemption).first()
    return Quote(
        qualification=redemption.qualification,
        product=redemption.product,
        price_fen=redemption.price_fen,
        subsidy_fen=redemption.subsidy_fen,
        paid_fen=redemption.paid_fen,
        filed_price_fen=redemption.decision.get("filed_price_fen"),
        hold_reason=hold.reason if hold else "",
        hold_message=hold.reasons[0]["message"] if hold and hold.reasons else "",
        rule_version=redemption.rule_version,
        reasons=redemption.decision.get("reasons", []),
    )


def redeem(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None = None,
    confirmed_subsidy_fen: int | None = None,
) -> Redeemed:
    """A clerk applies a qualification at checkout: the price is checked against the city's ceiling and the
    filed price, the engine computes the exact subsidy, the hold becomes spend and the rest is released, the
    old item taken back is recorded — in one transaction. A sale the price checks hold goes through with
    its reimbursement withheld for review. ``confirmed_subsidy_fen`` is the subsidy the till showed the
    customer (the till and the API pass it); a different figure now refuses the sale, so nobody is charged
    what they did not confirm. The same sale resubmitted is returned as it is, and the result says so (the
    API answers 200, not 201)."""
    sale = _check_sale(
        actor=actor,
        merchant=merchant,
        store_id=store_id,
        code=code,
        product_id=product_id,
        serial=serial,
        price_fen=price_fen,
        take_back=take_back,
    )
    if isinstance(sale, Redemption):
        return Redeemed(sale, created=False)
    if confirmed_subsidy_fen is not None and confirmed_subsidy_fen != sale.subsidy_fen:
        raise ConflictError(
            f"补贴金额已变为 {format_yuan(sale.subsidy_fen, symbol=False)} 元，与确认的金额不同，请重新确认",
            code="quote_changed",
        )
    try:
        redemption = _write_sale(sale)
    except Lost:
        raise ConflictError("该资格刚刚被使用或已过期", code="qualification_not_issued") from None
    except IntegrityError:
        raise ValidationFailed.for_field("serial", "serial_used", "该序列号/IMEI已享受过本项目补贴") from None
    return Redeemed(redemption, created=True)


def _write_sale(sale: _Sale) -> Redemption:
    """Spend the qualification on a checked sale in one transaction: the qualification still issued and
    unexpired becomes redeemed (compare-and-set, else ``Lost``), its hold becomes spend, the sale, the old
    item, the audit row and the price-check hold are written."""
    qualification = sale.qualification
    now = timezone.now()
    with transaction.atomic(durable=True):
        if not Qualification.objects.filter(
            pk=qualification.pk, status=Qualification.Status.ISSUED, expires_at__gt=now
        ).update(status=Qualification.Status.REDEEMED, closed_at=now):
            raise Lost
        ledger.spend(qualification.pool_id, held=qualification.held_fen, spent=sale.subsidy_fen)
        redemption = Redemption.objects.create(
            qualification=qualification,
            programme=qualification.programme,
            merchant=sale.merchant,
            store=sale.store,
            clerk=sale.actor,
            product=sale.product,
            category=sale.product.category,
            serial=sale.serial,
            price_fen=sale.price_fen,
            subsidy_fen=sale.subsidy_fen,
            rule_version=sale.rule_version,
            decision=sale.stored_decision(),
            redeemed_at=now,
            withheld=sale.held,
        )
        if sale.take_back is not None:
            TakeBack.objects.create(
                redemption=redemption,
                category=sale.take_back.category[:30],
                condition=sale.take_back.condition,
                to_recycler=sale.take_back.to_recycler,
                description=sale.take_back.description[:200],
            )
        _audit_sale(sale, redemption)
        if sale.held:
            _place_hold(
                redemption=redemption,
                actor=sale.actor,
                reason=sale.price_check.code,
                message=sale.price_check.message,
                details={"price_fen": sale.price_fen, "filed_price_fen": sale.filed_price_fen},
                now=now,
            )
    return redemption


def _audit_sale(sale: _Sale, redemption: Redemption) -> None:
    """The audit row of a sale: the qualification as it was issued and the sale it became."""
    audit.record(
        actor=sale.actor,
        action="subsidies.redemption.create",
        target=redemption,
        before={
            "qualification": sale.qualification.code,
            "status": "issued",
            "held_fen": sale.qualification.held_fen,
        },
        after={
            "status": "redeemed",
            "subsidy_fen": sale.subsidy_fen,
            "price_fen": sale.price_fen,
            "serial": sale.serial,
            "store": sale.store.pk,
            "withheld": sale.held,
        },
        organisation_id=sale.merchant.pk,
        district_code=sale.store.district_id,
    )


# ---------------------------------------------------------------- holds (暂扣) and their review


def _place_hold(
    *,
    redemption: Redemption,
    actor: User,
    reason: str,
    message: str,
    details: dict[str, Any],
    now: datetime.datetime,
) -> RedemptionHold:
    """Hold a sale being written (inside its transaction, so it has no hold yet) for review. Every risk rule
    that holds a sale at checkout comes through here; ``reasons`` has room for several."""
    entry = {"code": reason, "message": message, **details}
    hold = RedemptionHold.objects.create(
        redemption=redemption,
        programme_id=redemption.programme_id,
        merchant_id=redemption.merchant_id,
        district_id=redemption.store.district_id,
        reason=reason,
        reasons=[entry],
        placed_by=actor,
        placed_at=now,
    )
    audit.record(
        actor=actor,
        action="subsidies.redemption.hold",
        target=hold,
        before=None,
        after={
            "redemption": redemption.pk,
            "status": hold.status,
            "reason": reason,
            "subsidy_fen": redemption.subsidy_fen,
        },
        organisation_id=redemption.merchant_id,
        district_code=hold.district_id,
    )
    return hold


def _authorise_decision(actor: User, hold: RedemptionHold) -> None:
    """A reviewer of the hold's district (or the whole city) who is not of the merchant that made the sale."""
    districts = districts_for(actor, *REVIEWERS)
    if not has_role(actor, *REVIEWERS) or (districts is not None and hold.district_id not in districts):
        raise ForbiddenError("只有该区的审核人员可以复核暂扣的核销", code="reviewer_required")
    if hold.merchant_id in organisations_for(actor, *MERCHANT_STAFF) or hold.placed_by_id == actor.pk:
        raise ForbiddenError("不能复核本商户的核销", code="own_sale")


def clear_hold(*, actor: User, hold: RedemptionHold, note: str = "") -> RedemptionHold:
    """A reviewer clears a held sale: the subsidy still standing (less what returns reversed while it was
    held) is paid in the settlement period in which the decision falls."""
    return _decide_hold(actor=actor, hold=hold, to=RedemptionHold.Status.CLEARED, note=note)


def reject_hold(*, actor: User, hold: RedemptionHold, note: str) -> RedemptionHold:
    """A reviewer rejects a held sale: the subsidy still standing goes back to the budget and the merchant
    is never paid it (it was withheld), so nothing has to be clawed back. The customer keeps the discount."""
    return _decide_hold(actor=actor, hold=hold, to=RedemptionHold.Status.REJECTED, note=note)


def _decide_hold(*, actor: User, hold: RedemptionHold, to: str, note: str) -> RedemptionHold:
    _authorise_decision(actor, hold)
    note = " ".join((note or "").split())
    if to == RedemptionHold.Status.REJECTED and len(note) < 2:
        raise ValidationFailed.for_field("note", "required", "驳回时请填写复核意见")
    if len(note) > 200:
        raise ValidationFailed.for_field("note", "too_long", "复核意见不能超过200个字符")
    if hold.status != RedemptionHold.Status.HELD:
        raise ConflictError(f"该笔已{hold.get_status_display()}，不能重复复核", code="hold_decided")
    redemption = hold.redemption
    now = timezone.now()
    with transaction.atomic(durable=True):
        # Touch the sale's row first: a return of the same sale updates that row too, so the two run one
        # after the other, and whichever comes second sees what the first did (record_return reads the
        # hold's status after its own update of the row; this reads the returned subsidy after this one).
        Redemption.objects.filter(pk=redemption.pk).update(returned_fen=F("returned_fen"))
        subsidy, returned = Redemption.objects.filter(pk=redemption.pk).values_list("subsidy_fen", "returned_fen").get()
        standing = subsidy - returned
        released = standing if to == RedemptionHold.Status.CLEARED else 0
        if not RedemptionHold.objects.filter(pk=hold.pk, status=RedemptionHold.Status.HELD).update(
            status=to, decided_by=actor, decided_at=now, note=note, released_fen=released
        ):
            raise ConflictError("该笔刚刚被他人复核，请刷新后查看", code="hold_decided")
        if to == RedemptionHold.Status.REJECTED and standing:
            Redemption.objects.filter(pk=redemption.pk).update(returned_fen=subsidy)
            ledger.give_back(redemption.qualification.pool_id, standing)
        audit.record(
            actor=actor,
            action=f"subsidies.hold.{'clear' if to == RedemptionHold.Status.CLEARED else 'reject'}",
            target=hold,
            before={"status": RedemptionHold.Status.HELD},
            after={
                "status": to,
                "note": note,
                "released_fen": released,
                "returned_to_budget_fen": standing - released,
                "redemption": redemption.pk,
            },
            organisation_id=hold.merchant_id,
            district_code=hold.district_id,
        )
    hold.refresh_from_db()
    return hold
