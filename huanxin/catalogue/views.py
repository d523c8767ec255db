"""Catalogue pages: public product search and detail, the product-list import with its report, price filing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.catalogue import queries, services
from huanxin.catalogue.domain.categories import CATEGORY_CHOICES
from huanxin.catalogue.domain.products import FIELD_LABELS
from huanxin.catalogue.exports import import_report_xlsx, import_template_xlsx
from huanxin.catalogue.forms import ImportForm, PriceFilingForm, PriceRuleForm
from huanxin.catalogue.models import ProductModel
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.notices import notify_rows
from huanxin.core.spreadsheets import XLSX_CONTENT_TYPE

PRODUCTS_PER_PAGE = 30
REFUSALS_PER_PAGE = 100
PICKER_RESULTS = 20


def _query_string(**params: str) -> str:
    """The pager's extra query (kept filters) ending in "&", as web/pager.html expects."""
    kept = {key: value for key, value in params.items() if value}
    return urlencode(kept) + "&" if kept else ""


def product_list(request: HttpRequest) -> HttpResponse:
    """The public catalogue: search by brand, model number or name, filter by category."""
    q = request.GET.get("q", "").strip()[:60]
    category = request.GET.get("category", "")
    products = queries.search_products(q=q, category=category)
    page = Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/product_list.html",
        {
            "page": page,
            "q": q,
            "category": category,
            "categories": CATEGORY_CHOICES,
            "extra_query": _query_string(q=q, category=category),
            "can_import": queries.can_import(request.user),
            "can_file": queries.filing_merchants(request.user).exists(),
        },
    )


def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One product with its grades; merchant members see their filed prices for it, staff those they oversee."""
    try:
        product = queries.get_product(pk)
    except NotFoundError:
        raise Http404 from None
    filings = list(queries.visible_filings(request.user).filter(product=product)[:50])
    can_file = queries.filing_merchants(request.user).exists()
    return render(
        request,
        "catalogue/product_detail.html",
        {"product": product, "filings": filings, "can_file": can_file, "show_filings": bool(filings) or can_file},
    )


def _require_importer(request: HttpRequest) -> None:
    if not queries.can_import(request.user):
        raise PermissionDenied


@login_required
def import_products(request: AuthenticatedRequest) -> HttpResponse:
    """Upload a product list; the report page follows."""
    _require_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.import_products(actor=request.user, file_name=upload.name, content=upload.read())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            notify_rows(
                request,
                f"导入完成：新增 {report.created} 条，更新 {report.updated} 条，未变 {report.unchanged} 条，"
                f"拒绝 {report.refused} 行",
                accepted=report.created + report.updated + report.unchanged,
                refused=report.refused,
            )
            return redirect("catalogue:import", pk=report.import_id)
    return render(
        request,
        "catalogue/import_form.html",
        {"form": form, "imports": queries.recent_imports(), "columns": FIELD_LABELS},
        status=422 if form.errors else 200,
    )


@login_required
def import_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An import's counts and its refused rows, with the reason for each."""
    try:
        record = queries.get_import_for_user(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    report = services.ImportReport.of(record)
    page = Paginator(report.errors, REFUSALS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/import_report.html",
        {"report": report, "record": record, "page": page, "can_import": queries.can_import(request.user)},
    )


@login_required
def import_report_download(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        record = queries.get_import_for_user(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    response = HttpResponse(import_report_xlsx(services.ImportReport.of(record)), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, f"导入报告-{record.pk}.xlsx")
    return response


@login_required
def import_template(request: AuthenticatedRequest) -> HttpResponse:
    _require_importer(request)
    response = HttpResponse(import_template_xlsx(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, "产品目录导入模板.xlsx")
    return response


def _picker_products(q: str, selected: ProductModel | None) -> list[ProductModel]:
    """Search results for the product picker; the product already chosen stays at the top."""
    found = list(queries.search_products(q=q)[:PICKER_RESULTS]) if q else []
    if selected is not None:
        found = [selected, *[p for p in found if p.pk != selected.pk]]
    return found


def _selected_product(value: Any) -> ProductModel | None:
    try:
        return ProductModel.objects.filter(pk=int(value)).first() if value else None
    except (TypeError, ValueError):
        return None


@login_required
def product_picker(request: AuthenticatedRequest) -> HttpResponse:
    """htmx: the product choices for a search typed on the price filing page."""
    if not queries.filing_merchants(request.user).exists():
        raise PermissionDenied
    q = request.GET.get("q", "").strip()[:60]
    selected = _selected_product(request.GET.get("product"))
    return render(
        request,
        "catalogue/partials/product_picker.html",
        {"products": _picker_products(q, selected), "q": q, "selected_id": selected.pk if selected else None},
    )


@login_required
def price_filing(request: AuthenticatedRequest) -> HttpResponse:
    """A merchant files the price of a product (found by model search) from a date; their filings below."""
    merchants = queries.filing_merchants(request.user)
    merchant_list = list(merchants)
    if not merchant_list:
        raise PermissionDenied
    q = request.GET.get("q", "").strip()[:60]
    initial: dict[str, Any] = {"effective_from": timezone.localdate(timezone=services.BEIJING)}
    selected = _selected_product(request.POST.get("product") or request.GET.get("product"))
    if selected is not None:
        initial["product"] = selected.pk
    form = PriceFilingForm(request.POST or None, merchants=merchants, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                filing = services.file_price(
                    actor=request.user,
                    merchant=data["merchant"],
                    product=data["product"],
                    price_fen=data["price"],
                    effective_from=data["effective_from"],
                    note=data["note"],
                )
            except DomainError as error:
                # The service names the price ``price_fen``; the form calls it ``price``.
                apply_domain_error(form, error, rename=lambda name: "price" if name == "price_fen" else name)
            else:
                messages.success(
                    request,
                    f"已备案：{filing.product} 自 {filing.effective_from:%Y-%m-%d} 起 {format_yuan(filing.price_fen)}",
                )
                return redirect("catalogue:prices")
        status = 422
    history = queries.visible_filings(request.user).filter(merchant__in=merchant_list)
    page = Paginator(history, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "catalogue/price_form.html",
        {
            "form": form,
            "q": q,
            "products": _picker_products(q, selected),
            "selected_id": selected.pk if selected else None,
            "single_merchant": merchant_list[0] if len(merchant_list) == 1 else None,
            "page": page,
        },
        status=status,
    )


@login_required
def price_rules(request: AuthenticatedRequest) -> HttpResponse:
    """The city's price checks at checkout, one row per category; administrators change them here."""
    if not queries.can_read_imports(request.user):
        raise PermissionDenied
    can_edit = queries.can_set_price_rules(request.user)
    form = PriceRuleForm(request.POST or None) if can_edit else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                rule = services.set_price_rule(
                    actor=request.user,
                    category=data["category"],
                    ceiling_fen=data["ceiling"],
                    above_filed_price=data["above_filed_price"],
                )
            except DomainError as error:
                apply_domain_error(form, error, rename=lambda name: "ceiling" if name == "ceiling_fen" else name)
            else:
                messages.success(
                    request,
                    f"已更新：{rule.category_name} 成交价上限 {format_yuan(rule.ceiling_fen)}，"
                    f"高于备案价时{rule.get_above_filed_price_display()}",
                )
                return redirect("catalogue:price_rules")
        status = 422
    return render(
        request,
        "catalogue/price_rules.html",
        {"rules": queries.price_rules(), "form": form},
        status=status,
    )
