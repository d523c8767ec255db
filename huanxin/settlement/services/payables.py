"""Payment orders from any source: what a car subsidy, a top-up or a grant hands settlement to pay.

A source calls ``request_payment`` inside its own transaction (the decision that makes the money due and the
order to pay it commit together). Each source is paid once: the payable is unique per (source kind, source
reference), so a second request for the same source — a retry, a double click, a concurrent worker —
returns the first payable and never creates another. The payable then goes into the programme's next
maker-checker batch like any merchant's, and the bank's answer comes back to the source through the
callbacks it registered (``settlement.sources``).

Money in budget pools moves only through ``policy.ledger``, in the source's own transaction: settlement pays
out what the source hands it and holds no budget of its own.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from huanxin.core import audit
from huanxin.core.domain.money import TOO_LARGE, positive_fen_problem
from huanxin.core.errors import ConflictError, FieldError, ValidationFailed
from huanxin.policy.models import Programme
from huanxin.settlement import sources
from huanxin.settlement.models import Payable, Payee
from huanxin.settlement.sources import CONSUMER_SUBSIDY


def _problems(*, source_kind: str, source_ref: str, amount_fen: int) -> list[FieldError]:
    errors: list[FieldError] = []
    if sources.get(source_kind) is None:
        errors.append(FieldError("source_kind", "unknown_source", "未登记的支付来源"))
    elif source_kind == CONSUMER_SUBSIDY:
        errors.append(FieldError("source_kind", "source_not_requestable", "消费品清算款由清算周期生成，不能单独申请"))
    if not source_ref or len(source_ref) > 100 or source_ref != source_ref.strip():
        errors.append(FieldError("source_ref", "invalid_source_ref", "来源编号应为1至100个字符，且首尾无空格"))
    problem = positive_fen_problem(amount_fen)
    if problem == TOO_LARGE:
        errors.append(FieldError("amount_fen", "amount_out_of_range", "金额超出可支付范围"))
    elif problem is not None:
        errors.append(FieldError("amount_fen", "invalid_amount", "支付金额应为大于零的整数（分）"))
    return errors


def _same_order(payable: Payable, *, payee: Payee, programme: Programme, amount_fen: int) -> Payable:
    """The earlier payable of the same source, when it orders the same payment; a different one is refused
    (the source asked twice for different things: a bug, not a retry)."""
    if (payable.payee_id, payable.programme_id, payable.amount_fen) != (payee.pk, programme.pk, amount_fen):
        raise ConflictError(
            f"该来源已申请支付（应付款 {payable.pk}），收款人或金额不同，不能再次申请", code="source_already_requested"
        )
    return payable


def request_payment(
    *,
    payee: Payee,
    programme: Programme,
    source_kind: str,
    source_ref: str,
    amount_fen: int,
    actor: Any,
) -> Payable:
    """Queue ``amount_fen`` to be paid to ``payee`` for the source ``(source_kind, source_ref)`` of
    ``programme``; returns the payable. Idempotent per source: asking again for the same payment returns
    the first payable (asking for a different payee or amount is refused with ``source_already_requested``).

    Runs in the caller's transaction when there is one (a savepoint around the insert, so a concurrent
    request that won the race is found instead of failing the caller)."""
    errors = _problems(source_kind=source_kind, source_ref=source_ref, amount_fen=amount_fen)
    if errors:
        raise ValidationFailed.from_errors(errors)
    existing = Payable.objects.filter(source_kind=source_kind, source_ref=source_ref).first()
    if existing is not None:
        return _same_order(existing, payee=payee, programme=programme, amount_fen=amount_fen)
    try:
        with transaction.atomic():
            payable = Payable.objects.create(
                programme=programme,
                source_kind=source_kind,
                source_ref=source_ref,
                payee=payee,
                amount_fen=amount_fen,
                status=Payable.Status.QUEUED,
            )
            audit.record(
                actor=actor,
                action="settlement.payable.request",
                target=payable,
                after={
                    "programme": programme.code,
                    "source_kind": source_kind,
                    "source_ref": source_ref,
                    "payee": payee.pk,
                    "account": payee.account_masked,
                    "amount_fen": amount_fen,
                },
            )
    except IntegrityError:
        # A concurrent request for the same source committed first: that one is the payment.
        existing = Payable.objects.filter(source_kind=source_kind, source_ref=source_ref).first()
        if existing is None:
            raise
        return _same_order(existing, payee=payee, programme=programme, amount_fen=amount_fen)
    return payable
