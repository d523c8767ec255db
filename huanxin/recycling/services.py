"""The write side of reverse invoicing: issue an invoice for a purchase of scrap from a natural person, void it,
and record the tax system's own invoice numbers.

Every verb checks who acts, owns its transaction and writes its audit row in it. A refusal changes nothing: no
invoice, no number taken, no audit row.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts.identity import get_identity_verifier
from huanxin.accounts.models import Organisation, User
from huanxin.core import audit, crypto
from huanxin.core.domain.identifiers import IdentifierError, validate_resident_id, validate_resident_name
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.policy.domain import InputError
from huanxin.policy.services import rule_set_for
from huanxin.recycling import queries
from huanxin.recycling.domain import invoices as domain
from huanxin.recycling.models import InvoiceSequence, ReverseInvoice, SellerLock

MAX_VOID_REASON = 200


def today() -> datetime.date:
    return timezone.localdate()


def _require_issuer(actor: Any, issuer: Organisation) -> None:
    if not queries.issuers_of(actor).filter(pk=issuer.pk).exists():
        raise ForbiddenError(queries.ISSUER_REFUSED, code="reverse_invoice_forbidden")


def _qualification_on(issuer: Organisation, day: datetime.date) -> tuple[str, str]:
    """The qualification the issuer holds on the purchase date and its licence numbers, or a refusal."""
    licences = list(
        issuer.licences.filter(valid_from__lte=day)
        .exclude(valid_until__lt=day)
        .order_by("kind", "valid_from", "pk")
        .values_list("kind", "number")
    )
    name = domain.qualification_met(kind for kind, _ in licences)
    if name is None:
        raise ForbiddenError(
            f"本企业在 {day:%Y-%m-%d} 没有有效的反向开票资格（危险废物经营许可证、报废机动车回收拆解企业资质认定证书，"
            "或营业执照及再生资源回收经营者备案，三者须有其一），不能反向开票",
            code="recycler_not_qualified",
        )
    needed = next(kinds for label, kinds in domain.QUALIFICATIONS if label == name)
    numbers = "、".join(number for kind, number in licences if kind in needed)
    return name, numbers[:200]


def _next_sequence(issuer: Organisation, year: int) -> int:
    """The next number of the issuer's invoices of the year: one guarded increment (its row lock queues
    concurrent issuers of the same organisation), the row created by the first invoice of the year."""
    counter = InvoiceSequence.objects.filter(issuer=issuer, year=year)
    if not counter.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                InvoiceSequence.objects.create(issuer=issuer, year=year, last=1)
                return 1
        except IntegrityError:
            # Another first invoice of the year created the row between our update and our insert.
            counter.update(last=F("last") + 1)
    return int(counter.values_list("last", flat=True).get())


def _lock_seller(digest: str) -> None:
    """Queue behind any other invoice to the same seller until this transaction ends (see SellerLock)."""
    try:
        with transaction.atomic():
            SellerLock.objects.get_or_create(seller_id_digest=digest)
    except IntegrityError:
        pass  # created by a concurrent invoice to the same seller; the lock below waits for it
    SellerLock.objects.select_for_update().get(seller_id_digest=digest)


def _seller(name: str, resident_id: str, day: datetime.date) -> tuple[str, str, crypto.Sealed]:
    errors: list[FieldError] = []
    clean_name = clean_id = ""
    try:
        clean_name = validate_resident_name(name)
    except IdentifierError as exc:
        errors.append(FieldError("seller_name", exc.code, exc.message))
    try:
        clean_id = validate_resident_id(resident_id, today=day)
    except IdentifierError as exc:
        errors.append(FieldError("seller_id_number", exc.code, exc.message))
    if errors:
        raise ValidationFailed.from_errors(errors)
    result = get_identity_verifier().verify(name=clean_name, resident_id=clean_id)
    if not result.verified:
        raise ValidationFailed.for_field(
            "seller_id_number", "seller_not_verified", result.message or "出售者姓名与身份证号码未通过实名核验"
        )
    return clean_name, clean_id, crypto.seal(clean_id, purpose="resident_id")


@dataclass(frozen=True)
class Totals:
    """What the seller has been reverse-invoiced, by every recycler, around one day (void invoices excluded)."""

    heaviest_12m_fen: int
    month_fen: int


def seller_totals(digest: str, day: datetime.date) -> Totals:
    start = domain.earliest_window_start(day)
    end = domain.window_containing(day)
    sales = list(
        queries.valid_invoices()
        .filter(seller_id_digest=digest, purchased_on__range=(start, end))
        .values_list("purchased_on", "sale_fen")
    )
    first, last = domain.month_bounds(day)
    month = sum(fen for d, fen in sales if first <= d <= last)
    return Totals(domain.heaviest_window_fen(sales, day), month)


def issue_invoice(
    *,
    actor: User,
    issuer: Organisation,
    seller_name: str,
    seller_id_number: str,
    items: Sequence[Mapping[str, Any]],
    purchased_on: datetime.date | None = None,
) -> ReverseInvoice:
    """Record a purchase of scrap from a natural person and issue its reverse invoice under
    ``cn-reverse-invoice-2024``: refused when the seller's sales to every recycler on the platform over any 12
    consecutive months including this one would pass the ceiling; VAT by the seller's monthly sales to every
    recycler; the income tax prepaid; a gap-free number of the issuer's year."""
    _require_issuer(actor, issuer)
    day = purchased_on or today()
    if day > today():
        raise ValidationFailed.for_field("purchased_on", "purchase_in_future", "收购日期不能晚于今天")
    rule_set = rule_set_for(domain.PROGRAMME, day)
    if day < rule_set.effective_from:
        raise ValidationFailed.for_field(
            "purchased_on",
            "before_reverse_invoicing",
            f"反向开票自 {rule_set.effective_from:%Y-%m-%d} 起施行，收购日期不能早于该日",
        )
    lines, problems = domain.validate_items(items)
    line_errors = [FieldError(p.field, p.code, p.message) for p in problems]
    seller_errors: list[FieldError] = []
    try:
        name, _, sealed = _seller(seller_name, seller_id_number, day)
    except ValidationFailed as refused:
        seller_errors = refused.errors
    if seller_errors or line_errors:
        raise ValidationFailed.from_errors(seller_errors + line_errors)
    qualification, licence_numbers = _qualification_on(issuer, day)
    sale = sum(line.price_fen for line in lines)
    with transaction.atomic():
        _lock_seller(sealed.digest)
        totals = seller_totals(sealed.digest, day)
        payload = {
            "sale_fen": sale,
            "seller_prior_12m_fen": totals.heaviest_12m_fen,
            "seller_month_fen": totals.month_fen + sale,
        }
        try:
            decision = rule_set.evaluate(payload)
        except InputError as error:
            raise ValidationFailed.for_field("items", error.code, error.message) from None
        if not decision.eligible:
            ceiling = rule_set.max_amount_fen()
            headroom = max(ceiling - totals.heaviest_12m_fen, 0)
            raise ConflictError(
                f"出售者连续12个月内反向开票销售额将超过 {format_yuan(ceiling)}（尚可开票 {format_yuan(headroom)}），"
                "应拒绝反向开票；出售者可办理个体工商户登记后自行开具发票",
                code="reverse_invoice_cap",
            )
        sequence = _next_sequence(issuer, day.year)
        invoice = ReverseInvoice.objects.create(
            number=domain.invoice_number(issuer.uscc, day.year, sequence),
            issuer=issuer,
            year=day.year,
            sequence=sequence,
            purchased_on=day,
            qualification=qualification,
            licence_numbers=licence_numbers,
            seller_name=name,
            seller_id_cipher=sealed.cipher,
            seller_id_digest=sealed.digest,
            seller_id_masked=sealed.masked,
            items=[line.as_dict() for line in lines],
            weight_g=sum(line.weight_g for line in lines),
            sale_fen=sale,
            vat_fen=int(decision.details["vat_fen"]),
            pit_fen=int(decision.details["pit_fen"]),
            rule_version=decision.rule_version,
            reasons=[{"code": r.code, "passed": r.passed, "message": r.message} for r in decision.reasons],
            issued_by=actor,
        )
        audit.record(
            actor=actor,
            action="recycling.reverse_invoice.issue",
            target=invoice,
            after={
                "number": invoice.number,
                "purchased_on": day.isoformat(),
                "seller_id_masked": invoice.seller_id_masked,
                "sale_fen": sale,
                "vat_fen": invoice.vat_fen,
                "pit_fen": invoice.pit_fen,
                "rule_version": invoice.rule_version,
            },
            organisation_id=issuer.pk,
            district_code=issuer.district_id,
        )
    return invoice


def void_invoice(*, actor: User, issuer: Organisation, invoice_id: int, reason: str) -> ReverseInvoice:
    """Void an invoice the issuer issued in error: it keeps its number and stays on record, and from now on counts
    for nothing (as if not issued) toward the seller's ceiling and monthly total or the VAT summary."""
    _require_issuer(actor, issuer)
    queries.get_invoice_of(issuer, invoice_id)  # another issuer's invoice is not found, whatever the reason says
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed.for_field("reason", "void_reason_required", "请填写作废原因")
    if len(text) > MAX_VOID_REASON:
        raise ValidationFailed.for_field("reason", "void_reason_too_long", f"作废原因不超过 {MAX_VOID_REASON} 字")
    with transaction.atomic():
        invoice = queries.invoices_of(issuer).select_for_update().filter(pk=invoice_id).first()
        if invoice is None:
            raise NotFoundError("没有这张反向发票", code="reverse_invoice_not_found")
        if invoice.is_void:
            raise ConflictError(f"发票 {invoice.number} 已作废", code="reverse_invoice_voided")
        invoice.status = ReverseInvoice.Status.VOIDED
        invoice.void_reason = text
        invoice.voided_by = actor
        invoice.voided_at = timezone.now()
        invoice.save(update_fields=["status", "void_reason", "voided_by", "voided_at"])
        audit.record(
            actor=actor,
            action="recycling.reverse_invoice.void",
            target=invoice,
            before={"status": "issued"},
            after={"status": "voided", "reason": text, "number": invoice.number},
            organisation_id=issuer.pk,
            district_code=issuer.district_id,
        )
    return invoice


@dataclass(frozen=True)
class TaxImportReport:
    recorded: int
    unchanged: int
    errors: list[domain.TaxAnswerError]

    @property
    def ok(self) -> bool:
        return not self.errors


def import_tax_numbers(*, actor: User, issuer: Organisation, content: bytes) -> TaxImportReport:
    """Record the tax system's 数电发票 numbers from its answer (our number → its number). Any bad row refuses the
    whole file; a row already recorded with the same number changes nothing."""
    _require_issuer(actor, issuer)
    rows, errors = domain.parse_tax_answer(content)
    if errors:
        return TaxImportReport(0, 0, errors)
    with transaction.atomic():
        found = {
            invoice.number: invoice
            for invoice in queries.invoices_of(issuer)
            .select_for_update()
            .filter(number__in=[row.number for row in rows])
        }
        taken = dict(
            ReverseInvoice.objects.filter(tax_number__in=[row.tax_number for row in rows]).values_list(
                "tax_number", "number"
            )
        )
        changes: list[tuple[ReverseInvoice, str]] = []
        unchanged = 0
        for row in rows:
            invoice = found.get(row.number)
            if invoice is None:
                errors.append(domain.TaxAnswerError(row.line, "number", "unknown_invoice", "本企业没有这个发票号码"))
            elif invoice.tax_number == row.tax_number:
                unchanged += 1
            elif invoice.tax_number:
                errors.append(
                    domain.TaxAnswerError(
                        row.line, "tax_number", "tax_number_recorded", f"该发票已记录数电发票号码 {invoice.tax_number}"
                    )
                )
            elif invoice.is_void:
                errors.append(domain.TaxAnswerError(row.line, "number", "invoice_voided", "该发票已作废"))
            elif row.tax_number in taken:
                errors.append(
                    domain.TaxAnswerError(
                        row.line,
                        "tax_number",
                        "tax_number_taken",
                        f"该数电发票号码已记录在发票 {taken[row.tax_number]} 上",
                    )
                )
            else:
                changes.append((invoice, row.tax_number))
        if errors:
            return TaxImportReport(0, 0, errors)
        now = timezone.now()
        for invoice, tax_number in changes:
            invoice.tax_number, invoice.tax_recorded_at = tax_number, now
            invoice.save(update_fields=["tax_number", "tax_recorded_at"])
            audit.record(
                actor=actor,
                action="recycling.reverse_invoice.tax_number",
                target=invoice,
                before={"tax_number": None},
                after={"tax_number": tax_number, "number": invoice.number},
                organisation_id=issuer.pk,
                district_code=issuer.district_id,
            )
    return TaxImportReport(len(changes), unchanged, [])
