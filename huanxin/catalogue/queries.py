"""The read side of the catalogue: product search, filed prices (one indexed query), who sees which filings."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet

from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.accounts.roles import CATALOGUE_KEEPERS, GOVERNMENT_STAFF, MERCHANT_STAFF, PRICE_RULE_SETTERS
from huanxin.catalogue.domain.categories import resolve_category
from huanxin.catalogue.domain.products import normalise_model_number
from huanxin.catalogue.models import CategoryPriceRule, PriceFiling, ProductImport, ProductModel
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import has_role, organisations_for


def can_import(user: Any) -> bool:
    """Only government staff who keep the catalogue (administrators and reviewers) import product lists."""
    return has_role(user, *CATALOGUE_KEEPERS)


def can_read_imports(user: Any) -> bool:
    """Import reports are for government staff."""
    return has_role(user, *GOVERNMENT_STAFF)


def filing_merchants(user: Any) -> QuerySet[Organisation]:
    """The merchants for which the user may file prices: those where they are manager or clerk."""
    return Organisation.objects.filter(
        pk__in=organisations_for(user, *MERCHANT_STAFF), kind=OrganisationKind.MERCHANT
    ).order_by("name")


def search_products(*, q: str = "", brand: str = "", model: str = "", category: str = "") -> QuerySet[ProductModel]:
    """Products matching free text (brand, model number or name), a brand, a model number and/or a category."""
    queryset = ProductModel.objects.all()
    q = " ".join(q.split())
    if q:
        queryset = queryset.filter(
            Q(brand__icontains=q) | Q(model_number__contains=normalise_model_number(q)) | Q(name__icontains=q)
        )
    if brand.strip():
        queryset = queryset.filter(brand__icontains=" ".join(brand.split()))
    if model.strip():
        queryset = queryset.filter(model_number__contains=normalise_model_number(model))
    if category.strip():
        # An unknown category matches nothing rather than being ignored: the filter was asked for.
        queryset = queryset.filter(category=resolve_category(category) or "")
    return queryset.order_by("brand", "model_number")


def get_product(pk: int) -> ProductModel:
    """A product by id (the catalogue is public), or 404."""
    product = ProductModel.objects.filter(pk=pk).first()
    if product is None:
        raise NotFoundError("产品不存在", code="product_not_found")
    return product


def filed_price(merchant_id: int, product_id: int, on: datetime.date) -> PriceFiling | None:
    """The merchant's filed price for the product on a day: the latest effective on or before it, the
    latest filed on a tie. One query on catalogue_price_lookup_idx; checkout calls this."""
    return (
        PriceFiling.objects.filter(merchant_id=merchant_id, product_id=product_id, effective_from__lte=on)
        .order_by("-effective_from", "-filed_at", "-id")
        .first()
    )


def price_rule(category: str) -> CategoryPriceRule | None:
    """The city's price checks for a category (one read on its unique index); None if never configured."""
    return CategoryPriceRule.objects.filter(category=category).first()


def price_rules() -> list[CategoryPriceRule]:
    """Every category's price checks, in the category table's order."""
    from huanxin.catalogue.domain.categories import CATEGORIES

    order = {code: index for index, code in enumerate(CATEGORIES)}
    return sorted(CategoryPriceRule.objects.select_related("updated_by"), key=lambda r: order.get(r.category, 99))


def can_set_price_rules(user: Any) -> bool:
    return has_role(user, *PRICE_RULE_SETTERS)


def price_history(merchant: Organisation, product: ProductModel) -> QuerySet[PriceFiling]:
    """Every filing of the merchant for the product, newest effective date first (the order filed_price reads)."""
    return PriceFiling.objects.filter(merchant=merchant, product=product).order_by(
        "-effective_from", "-filed_at", "-id"
    )


def visible_filings(user: Any) -> QuerySet[PriceFiling]:
    """Filings the user may read, with what a list shows."""
    return (
        PriceFiling.objects.visible_to(user)
        .select_related("merchant", "product", "filed_by")
        .order_by("-effective_from", "-filed_at", "-id")
    )


def get_import_for_user(user: Any, pk: int) -> ProductImport:
    """An import report for government staff, or 404 (existence is not disclosed to others)."""
    found = (
        ProductImport.objects.filter(pk=pk).select_related("uploaded_by").first() if can_read_imports(user) else None
    )
    if found is None:
        raise NotFoundError("导入记录不存在或无权查看", code="import_not_found")
    return found


def recent_imports(limit: int = 20) -> QuerySet[ProductImport]:
    return (
        ProductImport.objects.select_related("uploaded_by")
        .defer("refused_rows")
        .order_by("-uploaded_at", "-pk")[:limit]
    )
