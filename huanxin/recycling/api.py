"""Recycling API: reverse invoicing (反向开票) for recyclers, and a resident's own invoices with their headroom."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Status, UploadedFile

from huanxin.accounts.http import current_user
from huanxin.accounts.models import Organisation, Person
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import REVERSE_INVOICE_ISSUERS
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES
from huanxin.core.errors import FieldError, ForbiddenError, ValidationFailed
from huanxin.core.schemas import QueryInt
from huanxin.recycling import documents, queries, services
from huanxin.recycling.domain import invoices as domain
from huanxin.recycling.models import ReverseInvoice
from huanxin.recycling.schemas import (
    ReverseInvoiceFilter,
    ReverseInvoiceHeadroomOut,
    ReverseInvoiceImportOut,
    ReverseInvoiceIn,
    ReverseInvoiceItemOut,
    ReverseInvoiceListOut,
    ReverseInvoiceMineOut,
    ReverseInvoiceOut,
    ReverseInvoiceReasonOut,
    ReverseInvoiceSummaryOut,
    ReverseInvoiceVoidIn,
)

router = Router(tags=["反向开票"])


def _issuer(request: HttpRequest, organisation_id: int | None) -> Organisation:
    return acting_organisation(
        request,
        roles=REVERSE_INVOICE_ISSUERS,
        kinds=queries.ISSUER_KINDS,
        requested=organisation_id,
        refusal=ForbiddenError(queries.ISSUER_REFUSED, code="reverse_invoice_forbidden"),
    )


def _seller(request: HttpRequest) -> Person:
    person = queries.seller_person(current_user(request))
    if person is None:
        raise ForbiddenError(queries.SELLER_REFUSED, code="reverse_invoice_seller_only")
    return person


def invoice_out(invoice: ReverseInvoice) -> ReverseInvoiceOut:
    return ReverseInvoiceOut(
        id=invoice.pk,
        number=invoice.number,
        tax_number=invoice.tax_number,
        status=invoice.status,
        issuer_id=invoice.issuer_id,
        issuer_name=invoice.issuer.name,
        qualification=invoice.qualification,
        licence_numbers=invoice.licence_numbers,
        purchased_on=invoice.purchased_on,
        issued_at=invoice.issued_at,
        seller_name=invoice.seller_name,
        seller_id_masked=invoice.seller_id_masked,
        items=[ReverseInvoiceItemOut(**item) for item in invoice.items],
        weight_g=invoice.weight_g,
        sale_fen=invoice.sale_fen,
        vat_fen=invoice.vat_fen,
        pit_fen=invoice.pit_fen,
        rule_version=invoice.rule_version,
        reasons=[ReverseInvoiceReasonOut(**reason) for reason in invoice.reasons],
        void_reason=invoice.void_reason,
        voided_at=invoice.voided_at,
    )


def _month(text: str, field: str = "month") -> Any:
    month = domain.parse_month(text)
    if month is None:
        raise ValidationFailed.for_field(field, "invalid_month", "月份格式应为 YYYY-MM")
    return month


def _pdf(invoice: ReverseInvoice) -> HttpResponse:
    response = HttpResponse(documents.invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response


@router.post(
    "/invoices",
    response={201: ReverseInvoiceOut},
    summary="记录向自然人收购报废产品并反向开具发票（资源回收企业人员）",
    description=(
        "企业须在收购日期持有三类资格之一（危险废物经营许可证；报废机动车回收拆解企业资质认定证书；营业执照及"
        "再生资源回收经营者备案）。按现行 cn-reverse-invoice-2024 规则：出售者在平台所有回收企业的任意连续12个月"
        "反向开票销售额超过上限的拒绝（409 reverse_invoice_cap）；增值税按出售者当月在所有回收企业的销售额判断免征；"
        "个人所得税按比例预缴。发票号码按开票企业和年度连续编号。"
    ),
)
def issue_invoice(request: HttpRequest, payload: ReverseInvoiceIn) -> Any:
    issuer = _issuer(request, payload.organisation_id)
    invoice = services.issue_invoice(
        actor=current_user(request),
        issuer=issuer,
        seller_name=payload.seller_name,
        seller_id_number=payload.seller_id_number,
        items=[item.dict() for item in payload.items],
        purchased_on=payload.purchased_on,
    )
    return Status(201, invoice_out(invoice))


@router.get("/invoices", response=ReverseInvoiceListOut, summary="本企业开具的反向发票（最新在前，含作废）")
def list_invoices(request: HttpRequest, filters: Query[ReverseInvoiceFilter]) -> Any:
    issuer = _issuer(request, filters.organisation_id)
    found = queries.invoices_of(issuer)
    if filters.month:
        first, last = domain.month_bounds(_month(filters.month))
        found = found.filter(purchased_on__range=(first, last))
    page = found[filters.offset : filters.offset + filters.limit]
    return ReverseInvoiceListOut(count=found.count(), items=[invoice_out(i) for i in page])


@router.get("/invoices/{int:invoice_id}", response=ReverseInvoiceOut, summary="反向发票（本企业）")
def get_invoice(request: HttpRequest, invoice_id: QueryInt, organisation_id: QueryInt | None = None) -> Any:
    return invoice_out(queries.get_invoice_of(_issuer(request, organisation_id), invoice_id))


@router.post(
    "/invoices/{int:invoice_id}/void",
    response=ReverseInvoiceOut,
    summary="作废反向发票（保留号码和记录；作废后不计入出售者额度和当月销售额）",
)
def void_invoice(request: HttpRequest, invoice_id: QueryInt, payload: ReverseInvoiceVoidIn) -> Any:
    issuer = _issuer(request, payload.organisation_id)
    invoice = services.void_invoice(
        actor=current_user(request), issuer=issuer, invoice_id=invoice_id, reason=payload.reason
    )
    return invoice_out(queries.get_invoice_of(issuer, invoice.pk))


@router.get("/invoices/{int:invoice_id}/pdf", summary="反向发票 PDF（内嵌中文字体）")
def invoice_pdf(request: HttpRequest, invoice_id: QueryInt, organisation_id: QueryInt | None = None) -> HttpResponse:
    return _pdf(queries.get_invoice_of(_issuer(request, organisation_id), invoice_id))


@router.get(
    "/invoices/{int:invoice_id}/tax-document",
    summary="报送税务系统的发票数据（format=json 或 xml；含出售者完整身份证号码）",
)
def tax_document(
    request: HttpRequest, invoice_id: QueryInt, organisation_id: QueryInt | None = None, format: str = "json"
) -> HttpResponse:
    invoice = queries.get_invoice_of(_issuer(request, organisation_id), invoice_id)
    document = documents.tax_document(invoice)
    if format == "xml":
        return HttpResponse(documents.tax_document_xml(document), content_type="application/xml; charset=utf-8")
    if format != "json":
        raise ValidationFailed.for_field("format", "unknown_format", "格式只能是 json 或 xml")
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type="application/json; charset=utf-8")


@router.get("/summary", response=ReverseInvoiceSummaryOut, summary="本企业某月反向开票汇总（增值税申报用）")
def summary(request: HttpRequest, month: str, organisation_id: QueryInt | None = None) -> Any:
    issuer = _issuer(request, organisation_id)
    found = queries.month_summary(issuer, _month(month))
    return ReverseInvoiceSummaryOut(
        month=f"{found.month:%Y-%m}",
        count=found.count,
        sale_fen=found.sale_fen,
        vat_fen=found.vat_fen,
        pit_fen=found.pit_fen,
        weight_g=found.weight_g,
        exempt_count=found.exempt_count,
        taxed_count=found.taxed_count,
        voided_count=found.voided_count,
        tax_numbers_missing=found.tax_numbers_missing,
    )


@router.post(
    "/tax-numbers",
    response=ReverseInvoiceImportOut,
    summary="导入税务系统回执：平台发票号码 → 数电发票号码（CSV，multipart 字段 file）",
    description="任何一行有误时整份文件都不导入，返回每一行的行号、字段和原因；已记录相同号码的行不产生变化。",
)
def import_tax_numbers(
    request: HttpRequest, file: File[UploadedFile], organisation_id: Form[QueryInt | None] = None
) -> Any:
    issuer = _issuer(request, organisation_id)
    if file.size is not None and file.size > MAX_FILE_BYTES:
        raise ValidationFailed.for_field("file", "file_too_large", "文件过大，请拆分后分批导入")
    report = services.import_tax_numbers(actor=current_user(request), issuer=issuer, content=file.read())
    if not report.ok:
        # Each bad row as a field error on the file, its line named in the message.
        raise ValidationFailed.from_errors(
            [FieldError("file", e.code, f"第 {e.line} 行：{e.message}" if e.line else e.message) for e in report.errors]
        )
    return ReverseInvoiceImportOut(recorded=report.recorded, unchanged=report.unchanged)


@router.get("/my-invoices", response=ReverseInvoiceMineOut, summary="我的反向发票及连续12个月剩余额度（本人登录）")
def my_invoices(request: HttpRequest) -> Any:
    person = _seller(request)
    room = queries.headroom_of(person.resident_id_digest or "")
    return ReverseInvoiceMineOut(
        headroom=ReverseInvoiceHeadroomOut(**vars(room)),
        items=[invoice_out(i) for i in queries.invoices_of_seller(person)[:200]],
    )


@router.get("/my-invoices/{int:invoice_id}/pdf", summary="我的反向发票 PDF（本人登录）")
def my_invoice_pdf(request: HttpRequest, invoice_id: QueryInt) -> HttpResponse:
    return _pdf(queries.get_invoice_of_seller(_seller(request), invoice_id))


# The recycling network (/api/v1/recycling/network…), in its own module.
from huanxin.recycling.network_api import router as network_router  # noqa: E402

router.add_router("/network", network_router)
