"""The read side of reverse invoicing: who may issue, an issuer's invoices, a seller's own invoices and headroom,
and the monthly summary an issuer files VAT from."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, Person
from huanxin.accounts.roles import REVERSE_INVOICE_ISSUERS
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import in_person, organisations_for
from huanxin.policy.services import rule_set_for
from huanxin.recycling.domain import invoices as domain
from huanxin.recycling.models import ReverseInvoice

ISSUER_KINDS = (OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER)
ISSUER_REFUSED = "只有资源回收企业（回收、拆解或报废机动车回收拆解企业）的人员可以办理反向开票"
SELLER_REFUSED = "请以已实名认证的本人身份登录后查看自己的反向发票"


def issuers_of(user: Any) -> QuerySet[Organisation]:
    """The recycling organisations the user works for and may reverse-invoice for (qualification aside), by id."""
    ids = organisations_for(user, *REVERSE_INVOICE_ISSUERS)
    return Organisation.objects.filter(pk__in=ids, kind__in=ISSUER_KINDS).order_by("pk")


def valid_invoices() -> QuerySet[ReverseInvoice]:
    """Invoices that count: a void one is as if it had not been issued."""
    return ReverseInvoice.objects.filter(status=ReverseInvoice.Status.ISSUED)


def invoices_of(issuer: Organisation) -> QuerySet[ReverseInvoice]:
    """The invoices an issuer issued (void ones included), newest first."""
    return ReverseInvoice.objects.filter(issuer=issuer).select_related("issuer").order_by("-issued_at", "-pk")


def get_invoice_of(issuer: Organisation, invoice_id: int) -> ReverseInvoice:
    invoice = invoices_of(issuer).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError("没有这张反向发票", code="reverse_invoice_not_found")
    return invoice


def seller_person(user: Any) -> Person | None:
    """The signed-in resident's verified profile (never through an organisation's token), or None."""
    if not getattr(user, "is_authenticated", False) or not in_person(user):
        return None
    person = Person.objects.filter(user_id=user.pk).first()
    if person is None or not person.is_verified or not person.resident_id_digest:
        return None
    return person


def invoices_of_seller(person: Person) -> QuerySet[ReverseInvoice]:
    """Every invoice issued to the resident, by any recycler, newest first."""
    return (
        ReverseInvoice.objects.filter(seller_id_digest=person.resident_id_digest)
        .select_related("issuer")
        .order_by("-purchased_on", "-pk")
    )


def get_invoice_of_seller(person: Person, invoice_id: int) -> ReverseInvoice:
    invoice = invoices_of_seller(person).filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError("没有这张反向发票", code="reverse_invoice_not_found")
    return invoice


@dataclass(frozen=True)
class Headroom:
    """How much more the seller may be reverse-invoiced today, under the rule version in force."""

    ceiling_fen: int
    used_fen: int
    remaining_fen: int
    window_start: datetime.date
    window_end: datetime.date
    rule_version: str


def headroom_of(digest: str, day: datetime.date | None = None) -> Headroom:
    from huanxin.recycling.services import seller_totals

    on = day or timezone.localdate()
    rule_set = rule_set_for(domain.PROGRAMME, on)
    ceiling = rule_set.max_amount_fen()
    used = seller_totals(digest, on).heaviest_12m_fen
    return Headroom(ceiling, used, max(ceiling - used, 0), domain.earliest_window_start(on), on, rule_set.rule_version)


@dataclass(frozen=True)
class MonthSummary:
    """An issuer's reverse invoices of one month, for its VAT filing: valid invoices only, void ones counted apart."""

    month: datetime.date
    count: int
    sale_fen: int
    vat_fen: int
    pit_fen: int
    weight_g: int
    exempt_count: int
    taxed_count: int
    voided_count: int
    tax_numbers_missing: int


def month_summary(issuer: Organisation, month: datetime.date) -> MonthSummary:
    first, last = domain.month_bounds(month)
    rows = ReverseInvoice.objects.filter(issuer=issuer, purchased_on__range=(first, last))
    valid = rows.filter(status=ReverseInvoice.Status.ISSUED)
    sums = valid.aggregate(
        count=Count("pk"), sale=Sum("sale_fen"), vat=Sum("vat_fen"), pit=Sum("pit_fen"), weight=Sum("weight_g")
    )
    return MonthSummary(
        month=first,
        count=sums["count"] or 0,
        sale_fen=sums["sale"] or 0,
        vat_fen=sums["vat"] or 0,
        pit_fen=sums["pit"] or 0,
        weight_g=sums["weight"] or 0,
        exempt_count=valid.filter(vat_fen=0).count(),
        taxed_count=valid.filter(vat_fen__gt=0).count(),
        voided_count=rows.filter(status=ReverseInvoice.Status.VOIDED).count(),
        tax_numbers_missing=valid.filter(tax_number__isnull=True).count(),
    )
