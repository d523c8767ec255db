"""Catalogue API: the public product catalogue, product-list imports with their reports, price filing."""

from typing import Any

from django.http import HttpRequest
from ninja import File, Query, Router, Status, UploadedFile
from ninja.pagination import paginate

from huanxin.accounts.http import current_user
from huanxin.accounts.models import OrganisationKind
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import MERCHANT_STAFF
from huanxin.catalogue import queries, services
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES
from huanxin.catalogue.models import ProductModel
from huanxin.catalogue.schemas import (
    ImportReportOut,
    PriceFilingIn,
    PriceFilingOut,
    PriceFilter,
    ProductFilter,
    ProductOut,
)
from huanxin.catalogue.services import FILING_REFUSED
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.schemas import Pagination, QueryInt

router = Router(tags=["产品目录与价格备案"])


@router.get("/products", response=list[ProductOut], auth=None, summary="产品目录（公开，可按品牌、型号、品类查询）")
@paginate(Pagination)
def list_products(request: HttpRequest, filters: Query[ProductFilter]) -> Any:
    return queries.search_products(
        q=filters.q or "", brand=filters.brand or "", model=filters.model or "", category=filters.category or ""
    )


@router.get("/products/{int:product_id}", response=ProductOut, auth=None, summary="产品详情（公开）")
def get_product(request: HttpRequest, product_id: QueryInt) -> Any:
    return queries.get_product(product_id)


@router.post(
    "/products/import",
    response={201: ImportReportOut},
    summary="导入产品目录（CSV 或 XLSX，multipart 字段 file；系统管理员、审核人员）",
)
def import_products(request: HttpRequest, file: File[UploadedFile]) -> Any:
    if not queries.can_import(request.user):
        raise ForbiddenError("只有系统管理员和审核人员可以导入产品目录", code="import_forbidden")
    # Refused before the upload is read into memory; the service checks the bytes again.
    if file.size is not None and file.size > MAX_FILE_BYTES:
        raise ValidationFailed.for_field(
            "file", "file_too_large", f"文件大小超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分为多个文件分批导入"
        )
    report = services.import_products(
        actor=current_user(request),
        file_name=file.name or "",
        content=file.read(),
    )
    return Status(201, report)


@router.get("/imports/{int:import_id}", response=ImportReportOut, summary="导入报告（政府工作人员）")
def get_import(request: HttpRequest, import_id: QueryInt) -> Any:
    return services.ImportReport.of(queries.get_import_for_user(request.user, import_id))


@router.post("/prices", response={201: PriceFilingOut}, summary="价格备案（本商户负责人或店员；每次备案均保留）")
def file_price(request: HttpRequest, payload: PriceFilingIn) -> Any:
    # The same refusal for a merchant that does not exist as for one the user does not work for.
    merchant = acting_organisation(
        request,
        roles=MERCHANT_STAFF,
        kinds=(OrganisationKind.MERCHANT,),
        requested=payload.merchant_id,
        field="merchant_id",
        refusal=ForbiddenError(FILING_REFUSED, code="price_filing_forbidden"),
    )
    product = ProductModel.objects.filter(pk=payload.product_id).first()
    if product is None:
        raise ValidationFailed.for_field("product_id", "unknown_product", "产品型号不在目录中")
    filing = services.file_price(
        actor=current_user(request),
        merchant=merchant,
        product=product,
        price_fen=payload.price_fen,
        effective_from=payload.effective_from,
        note=payload.note,
    )
    return Status(201, filing)


@router.get("/prices", response=list[PriceFilingOut], summary="价格备案历史（按权限范围，最新生效在前）")
@paginate(Pagination)
def list_prices(request: HttpRequest, filters: Query[PriceFilter]) -> Any:
    queryset = queries.visible_filings(request.user)
    if filters.merchant is not None:
        queryset = queryset.filter(merchant_id=filters.merchant)
    if filters.product is not None:
        queryset = queryset.filter(product_id=filters.product)
    return queryset
