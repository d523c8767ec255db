"""Returns: whole-order and partial returns with the refund, the subsidy reversed to the budget and the
clawback from the merchant."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from huanxin.accounts.models import User
from huanxin.core import audit
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, ValidationFailed
from huanxin.policy import ledger
from huanxin.policy.models import RuleSetVersion
from huanxin.policy.services import compiled
from huanxin.subsidies.domain.returns import (
    ReturnQuote,
    ReturnRefused,
    check_new_price,
    partial_return,
    whole_return,
)
from huanxin.subsidies.models import (
    Clawback,
    Qualification,
    Redemption,
    RedemptionHold,
    Return,
)
from huanxin.subsidies.services.common import (
    Lost,
    engine_input,
    is_member,
)


def _subsidy_at(redemption: Redemption, price_fen: int) -> int:
    """The subsidy the rule version that priced the sale gives on ``price_fen`` (0 when not eligible)."""
    version = RuleSetVersion.objects.get(
        programme=redemption.programme, version=int(redemption.rule_version.rsplit("@", 1)[1])
    )
    payload = engine_input(
        redemption.qualification, redemption.product, price_fen, timezone.localdate(redemption.redeemed_at)
    )
    # The sale itself is in the person's history now; it must not count against its own quota.
    payload["history"] = [
        h
        for h in payload["history"]
        if not (h["programme"] == redemption.programme.code and h["category"] == redemption.category)
    ]
    decision = compiled(version.content).evaluate(payload)
    return decision.amount_fen if decision.eligible else 0


def quote_return(*, actor: User, redemption: Redemption, kind: str, new_price_fen: int | None = None) -> ReturnQuote:
    """What a return would do, without doing it: for a whole-order return everything the customer still
    pays comes back to them and the whole remaining subsidy to the budget; for a partial return the rule
    version that priced the sale recomputes the subsidy on the new final price. Nothing is written."""
    if not is_member(actor, redemption.merchant):
        raise ForbiddenError("只有本商户人员可以办理退货", code="clerk_required")
    if redemption.status == Redemption.Status.RETURNED:
        raise ConflictError("该笔已整单退货，不能再次退货", code="already_returned")
    if kind not in Return.Kind.values:
        raise ValidationFailed.for_field("kind", "invalid_choice", "请选择整单退货或部分退货")
    # What the budget still carries for the sale (a rejected hold or an earlier return reversed the rest);
    # the customer's own figures never depend on it: they keep the discount they got at the till.
    subsidy_now = redemption.subsidy_fen - redemption.returned_fen
    if kind == Return.Kind.FULL:
        refunded = redemption.returns.aggregate(total=Sum("refund_fen"))["total"] or 0
        return whole_return(
            still_paid_fen=redemption.paid_fen - refunded,
            subsidy_now_fen=subsidy_now,
            quota_restored_on_return=redemption.programme.quota_restored_on_return,
        )
    if redemption.status == Redemption.Status.PARTIALLY_RETURNED:
        raise ConflictError("该笔已部分退货，如需再退请办理整单退货", code="already_partially_returned")
    if new_price_fen is None:
        raise ValidationFailed.for_field("new_price_fen", "required", "部分退货请填写新的最终成交价")
    try:
        # The new price is checked before the rules price it. A partial return is always the sale's first
        # return: the customer still pays price less subsidy.
        new_price = check_new_price(price_fen=redemption.price_fen, new_price_fen=new_price_fen)
        return partial_return(
            price_fen=redemption.price_fen,
            subsidy_fen=redemption.subsidy_fen,
            subsidy_now_fen=subsidy_now,
            new_price_fen=new_price,
            subsidy_at_new_price=_subsidy_at(redemption, new_price),
        )
    except ReturnRefused as exc:
        raise ValidationFailed.for_field("new_price_fen", exc.code, exc.message) from None


def record_return(
    *, actor: User, redemption: Redemption, kind: str, reason: str, new_price_fen: int | None = None
) -> Return:
    """Record a whole-order or partial return with the figures ``quote_return`` shows: the customer's refund,
    the subsidy reversed to the budget and owed back by the merchant (a clawback netted in settlement), and
    for a whole-order return the quota given back when the programme restores it. A sale is returned whole
    once; a partial return happens once and may be followed by a whole-order return."""
    errors: list[FieldError] = []
    clean_reason = reason.strip() if isinstance(reason, str) else ""
    if not 2 <= len(clean_reason) <= 200:
        errors.append(FieldError("reason", "required", "请填写退货原因（2至200字）"))
    try:
        quote = quote_return(actor=actor, redemption=redemption, kind=kind, new_price_fen=new_price_fen)
    except ValidationFailed as exc:
        raise ValidationFailed.from_errors([*exc.errors, *errors]) from None
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        record = _write_return(actor=actor, redemption=redemption, quote=quote, reason=clean_reason)
    except (Lost, IntegrityError):
        raise ConflictError("该笔退货正在被他人处理，请刷新后重试", code="return_conflict") from None
    redemption.refresh_from_db()
    return record


def _write_return(*, actor: User, redemption: Redemption, quote: ReturnQuote, reason: str) -> Return:
    """Write a quoted return in one transaction: the sale's returned subsidy and status (compare-and-set on
    what the quote was computed from, else ``Lost``), the budget given back, the return, the merchant's
    clawback, the quota given back on a whole-order return, and the audit row."""
    qualification = redemption.qualification
    new_status = Redemption.Status.RETURNED if quote.kind == Return.Kind.FULL else Redemption.Status.PARTIALLY_RETURNED
    with transaction.atomic(durable=True):
        # A concurrent return changed the figures the quote was computed from: this one loses.
        if not Redemption.objects.filter(
            pk=redemption.pk, returned_fen=redemption.returned_fen, status=redemption.status
        ).update(returned_fen=F("returned_fen") + quote.clawback_fen, status=new_status):
            raise Lost
        if quote.clawback_fen:
            ledger.give_back(qualification.pool_id, quote.clawback_fen)
        record = Return.objects.create(
            redemption=redemption,
            kind=quote.kind,
            new_price_fen=quote.new_price_fen or None,
            new_subsidy_fen=quote.new_subsidy_fen,
            refund_fen=quote.refund_fen,
            reversed_fen=quote.clawback_fen,
            quota_released=quote.quota_released,
            reason=reason,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        # The merchant is owed back only what it was (or will be) paid: a sale still held has paid it
        # nothing, and its reviewer's decision releases the subsidy left after this return.
        still_held = (
            redemption.withheld
            and RedemptionHold.objects.filter(redemption=redemption, status=RedemptionHold.Status.HELD).exists()
        )
        if quote.clawback_fen and not still_held:
            Clawback.objects.create(
                merchant=redemption.merchant,
                programme=redemption.programme,
                return_record=record,
                amount_fen=quote.clawback_fen,
            )
        if quote.kind == Return.Kind.FULL:
            Qualification.objects.filter(pk=qualification.pk).update(
                status=Qualification.Status.RETURNED, quota_released=quote.quota_released
            )
        _audit_return(actor=actor, redemption=redemption, quote=quote, new_status=new_status, still_held=still_held)
    return record


def _audit_return(
    *, actor: User, redemption: Redemption, quote: ReturnQuote, new_status: str, still_held: bool
) -> None:
    """The audit row of a return: the sale before it (as read, not yet refreshed) and the return's figures."""
    audit.record(
        actor=actor,
        action="subsidies.redemption.return",
        target=redemption,
        before={"status": redemption.status, "returned_fen": redemption.returned_fen},
        after={
            "status": new_status,
            "kind": quote.kind,
            "returned_fen": redemption.returned_fen + quote.clawback_fen,
            "new_price_fen": quote.new_price_fen,
            "new_subsidy_fen": quote.new_subsidy_fen,
            "refund_fen": quote.refund_fen,
            "reversed_fen": quote.clawback_fen,
            "quota_released": quote.quota_released,
            "clawback_fen": 0 if still_held else quote.clawback_fen,
        },
        organisation_id=redemption.merchant_id,
        district_code=redemption.store.district_id,
    )
