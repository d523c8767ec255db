"""Pages of reverse invoicing: for recyclers, recording a purchase and issuing its invoice, the invoices, voiding,
the monthly VAT summary and the tax system's answer; for residents, their own invoices and remaining headroom."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.policy.services import rule_set_for
from huanxin.recycling import documents, queries, services
from huanxin.recycling.domain import invoices as domain
from huanxin.recycling.forms import PurchaseForm, TaxAnswerForm, VoidForm, rename_item_field
from huanxin.recycling.models import ReverseInvoice

PER_PAGE = 30


def _issuer(request: AuthenticatedRequest) -> Organisation:
    """The organisation the page acts for: the one chosen (``org``), else the user's first; others are refused."""
    mine = list(queries.issuers_of(request.user))
    if not mine:
        raise PermissionDenied
    wanted = request.POST.get("org") or request.GET.get("org") or ""
    return next((o for o in mine if str(o.pk) == wanted), mine[0])


def _rules_context() -> dict[str, object]:
    """What the pages say about the rule comes from the rule version in force, never from template text."""
    rule_set = rule_set_for(domain.PROGRAMME, timezone.localdate())
    return {"rule_set": rule_set, "ceiling_fen": rule_set.max_amount_fen(), "qualifications": domain.QUALIFICATIONS}


@login_required
def invoices(request: AuthenticatedRequest) -> HttpResponse:
    """Record a purchase of scrap from a natural person and issue its reverse invoice; the invoices so far."""
    issuer = _issuer(request)
    form = PurchaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invoice = services.issue_invoice(
                actor=request.user,
                issuer=issuer,
                seller_name=form.cleaned_data["seller_name"],
                seller_id_number=form.cleaned_data["seller_id_number"],
                items=form.items(),
                purchased_on=form.cleaned_data["purchased_on"],
            )
        except DomainError as error:
            apply_domain_error(form, error, rename=rename_item_field)
        else:
            messages.success(request, f"已反向开具发票 {invoice.number}")
            return redirect(f"{reverse('recycling:invoice', args=[invoice.pk])}?org={issuer.pk}")
    page = Paginator(queries.invoices_of(issuer), PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "recycling/invoices.html",
        {"form": form, "issuer": issuer, "issuers": queries.issuers_of(request.user), "page": page, **_rules_context()},
        status=422 if form.errors else 200,
    )


def _invoice_page(
    request: AuthenticatedRequest,
    issuer: Organisation,
    pk: int,
    *,
    void_form: VoidForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        invoice = queries.get_invoice_of(issuer, pk)
    except NotFoundError:
        raise Http404 from None
    return render(
        request,
        "recycling/invoice.html",
        {"invoice": invoice, "issuer": issuer, "void_form": void_form or VoidForm()},
        status=status,
    )


@login_required
def invoice(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _invoice_page(request, _issuer(request), pk)


@login_required
@require_POST
def void(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Void an invoice issued in error: it keeps its number and no longer counts toward the seller's totals."""
    issuer = _issuer(request)
    form = VoidForm(request.POST)
    if form.is_valid():
        try:
            voided = services.void_invoice(
                actor=request.user, issuer=issuer, invoice_id=pk, reason=form.cleaned_data["reason"]
            )
        except NotFoundError:
            raise Http404 from None
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"发票 {voided.number} 已作废")
            return redirect(f"{reverse('recycling:invoice', args=[pk])}?org={issuer.pk}")
    return _invoice_page(request, issuer, pk, void_form=form, status=422)


def _pdf_response(invoice: ReverseInvoice) -> HttpResponse:
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@login_required
def invoice_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        return _pdf_response(queries.get_invoice_of(_issuer(request), pk))
    except NotFoundError:
        raise Http404 from None


@login_required
def invoice_export(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The record for the tax system, as XML (``?format=xml``) or JSON."""
    try:
        found = queries.get_invoice_of(_issuer(request), pk)
    except NotFoundError:
        raise Http404 from None
    document = documents.tax_document(found)
    if request.GET.get("format") == "xml":
        response = HttpResponse(documents.tax_document_xml(document), content_type="application/xml; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{found.number}.xml"'
    else:
        response = HttpResponse(json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{found.number}.json"'
    return response


@login_required
def summary(request: AuthenticatedRequest) -> HttpResponse:
    """One month's valid invoices of the issuer, for its VAT filing."""
    issuer = _issuer(request)
    today = timezone.localdate()
    month = domain.parse_month(request.GET.get("month", "")) or today.replace(day=1)
    return render(
        request,
        "recycling/summary.html",
        {"issuer": issuer, "summary": queries.month_summary(issuer, month), "month_text": f"{month:%Y-%m}"},
    )


@login_required
def tax_numbers(request: AuthenticatedRequest) -> HttpResponse:
    """Import the tax system's answer: our invoice number → its 数电发票 number."""
    issuer = _issuer(request)
    form = TaxAnswerForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = services.import_tax_numbers(
                actor=request.user, issuer=issuer, content=form.cleaned_data["file"].read()
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if report.ok:
                messages.success(request, f"已记录 {report.recorded} 个数电发票号码，{report.unchanged} 个此前已记录")
                return redirect(f"{reverse('recycling:tax_numbers')}?org={issuer.pk}")
    failed = bool(form.errors or (report and not report.ok))
    return render(
        request,
        "recycling/tax_numbers.html",
        {"issuer": issuer, "form": form, "report": report},
        status=422 if failed else 200,
    )


# ---------------------------------------------------------------- residents


@login_required
def mine(request: AuthenticatedRequest) -> HttpResponse:
    """The resident's own reverse invoices, from every recycler, and how much more may be invoiced to them."""
    person = queries.seller_person(request.user)
    if person is None:
        raise PermissionDenied
    return render(
        request,
        "recycling/mine.html",
        {
            "invoices": queries.invoices_of_seller(person)[:200],
            "headroom": queries.headroom_of(person.resident_id_digest or ""),
            **_rules_context(),
        },
    )


@login_required
def my_invoice_pdf(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    person = queries.seller_person(request.user)
    if person is None:
        raise PermissionDenied
    try:
        return _pdf_response(queries.get_invoice_of_seller(person, pk))
    except NotFoundError:
        raise Http404 from None
