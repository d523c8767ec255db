from django.contrib import admin

from huanxin.catalogue.models import PriceFiling, ProductImport, ProductModel
from huanxin.core.admin_support import ReadOnlyAdminMixin


@admin.register(ProductModel)
class ProductModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ProductModel]):
    list_display = ("brand", "model_number", "category", "energy_grade", "water_grade", "label_number", "updated_at")
    list_filter = ("category",)
    search_fields = ("brand", "model_number", "name")


@admin.register(ProductImport)
class ProductImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ProductImport]):
    list_display = (
        "uploaded_at",
        "file_name",
        "uploaded_by",
        "created_count",
        "updated_count",
        "unchanged_count",
        "refused_count",
    )


@admin.register(PriceFiling)
class PriceFilingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[PriceFiling]):
    list_display = ("merchant", "product", "price_fen", "effective_from", "filed_by", "filed_at")
    list_select_related = ("merchant", "product", "filed_by")
    raw_id_fields = ("merchant", "product")
