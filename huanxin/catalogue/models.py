"""The product catalogue and merchants' filed prices.

A :class:`ProductModel` is one model on the market (brand + model number), with the category and the
energy/water grades the subsidy rules read. A :class:`ProductImport` keeps the outcome of every upload
of the product list. A :class:`PriceFiling` is a merchant's price for one product from a date
(价格备案); filings are never changed, a later one supersedes an earlier one, so the history stays.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import Organisation
from huanxin.accounts.roles import GOVERNMENT_STAFF, MERCHANT_STAFF
from huanxin.catalogue.domain.categories import CATEGORIES, CATEGORY_CHOICES, category_name, category_short_name
from huanxin.core.permissions import district_scope


class ProductQuerySet(models.QuerySet["ProductModel"]):
    def visible_to(self, user: Any) -> ProductQuerySet:
        """The catalogue is public: anyone, signed in or not, may read every product."""
        return self


class ProductModel(models.Model):
    """A product model on the market, identified by brand and normalised model number; one row per model."""

    brand = models.CharField("品牌", max_length=60)
    model_number = models.CharField("型号", max_length=60)
    category = models.CharField("品类", max_length=30, choices=CATEGORY_CHOICES)
    energy_grade = models.PositiveSmallIntegerField("能效等级", null=True, blank=True)
    water_grade = models.PositiveSmallIntegerField("水效等级", null=True, blank=True)
    label_number = models.CharField("能效标识编号", max_length=40, blank=True)
    name = models.CharField("名称", max_length=120, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = "产品型号"
        verbose_name_plural = "产品型号"
        ordering = ["brand", "model_number"]
        constraints = [
            # The natural key: an import matches rows to products by it, so it must never be duplicated.
            models.UniqueConstraint(fields=["brand", "model_number"], name="catalogue_product_brand_model_uniq"),
            models.CheckConstraint(
                condition=Q(energy_grade__isnull=True) | Q(energy_grade__gte=1, energy_grade__lte=5),
                name="catalogue_product_energy_grade_range",
            ),
            models.CheckConstraint(
                condition=Q(water_grade__isnull=True) | Q(water_grade__gte=1, water_grade__lte=5),
                name="catalogue_product_water_grade_range",
            ),
            models.CheckConstraint(condition=Q(category__in=list(CATEGORIES)), name="catalogue_product_category_known"),
        ]
        indexes = [
            # The import looks existing products up by model number in batches; checkout does too.
            models.Index(fields=["model_number"], name="catalogue_product_model_idx"),
            models.Index(fields=["category", "brand"], name="catalogue_product_cat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.model_number}"

    @property
    def category_name(self) -> str:
        return category_name(self.category)

    @property
    def category_short_name(self) -> str:
        return category_short_name(self.category)


class ProductImport(models.Model):
    """One upload of the product list: who, when, which file, how many rows were created, updated,
    unchanged or refused, and why each refused row was refused."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="导入人"
    )
    uploaded_at = models.DateTimeField("导入时间", default=timezone.now, db_index=True)
    file_name = models.CharField("文件名", max_length=200)
    file_format = models.CharField("格式", max_length=10)
    file_size = models.PositiveIntegerField("文件大小（字节）")
    file_digest = models.CharField("文件 SHA-256", max_length=64)
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    created_count = models.PositiveIntegerField("新增", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("未变", default=0)
    refused_count = models.PositiveIntegerField("拒绝", default=0)
    refused_rows = models.JSONField("拒绝原因", default=list, blank=True)

    class Meta:
        verbose_name = "产品导入"
        verbose_name_plural = "产品导入"
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    total_rows=F("created_count") + F("updated_count") + F("unchanged_count") + F("refused_count")
                ),
                name="catalogue_import_counts_add_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name}（{self.uploaded_at:%Y-%m-%d %H:%M}）"


class PriceFilingQuerySet(models.QuerySet["PriceFiling"]):
    def visible_to(self, user: Any) -> PriceFilingQuerySet:
        """A merchant's members see its filings; government staff see those of merchants in their districts
        (or all, for city-wide staff); anyone else none."""
        return district_scope(
            self,
            user,
            staff_roles=GOVERNMENT_STAFF,
            district_field="merchant__district_id",
            member_roles=MERCHANT_STAFF,
            organisation_field="merchant_id",
        )

    def update(self, **kwargs: Any) -> NoReturn:
        raise PriceFilingImmutableError("价格备案不能修改，请重新备案")


class PriceFilingImmutableError(RuntimeError):
    """Raised on any attempt to change a stored price filing: history is kept by adding, never by editing."""


class PriceFiling(models.Model):
    """A merchant's filed price for one product from a date (价格备案); never updated, a newer filing wins."""

    merchant = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="price_filings", verbose_name="商户"
    )
    product = models.ForeignKey(
        ProductModel, on_delete=models.PROTECT, related_name="price_filings", verbose_name="产品"
    )
    price_fen = models.BigIntegerField("备案价格（分）")
    effective_from = models.DateField("生效日期")
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="备案人"
    )
    filed_at = models.DateTimeField("备案时间", default=timezone.now)
    note = models.CharField("备注", max_length=200, blank=True)

    objects = PriceFilingQuerySet.as_manager()

    class Meta:
        verbose_name = "价格备案"
        verbose_name_plural = "价格备案"
        ordering = ["-effective_from", "-filed_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="catalogue_pricefiling_price_positive"),
        ]
        indexes = [
            # filed_price() at checkout: one merchant, one product, the latest effective on a day, the
            # latest filed on ties — a single descending range scan of this index.
            models.Index(
                fields=["merchant", "product", "-effective_from", "-filed_at", "-id"],
                name="catalogue_price_lookup_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_id}/{self.product_id} {self.price_fen} @ {self.effective_from}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PriceFilingImmutableError("价格备案不能修改，请重新备案")
        super().save(*args, **kwargs)


class CategoryPriceRule(models.Model):
    """The city's price checks at checkout for one category: the highest final price accepted, and what
    happens to a sale above the merchant's filed price (refused, or held for review). Edited by the
    city's administrators through ``set_price_rule``; seeded with defaults by a data migration."""

    class AboveFiledPrice(models.TextChoices):
        REFUSE = "refuse", "拒绝核销"
        HOLD = "hold", "允许核销，清算款暂扣待复核"

    category = models.CharField("品类", max_length=30, choices=CATEGORY_CHOICES, unique=True)
    ceiling_fen = models.BigIntegerField("成交价上限（分）")
    above_filed_price = models.CharField(
        "高于备案价时", max_length=10, choices=AboveFiledPrice.choices, default=AboveFiledPrice.REFUSE
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "品类价格规则"
        verbose_name_plural = "品类价格规则"
        ordering = ["category"]
        constraints = [
            models.CheckConstraint(condition=Q(ceiling_fen__gt=0), name="catalogue_pricerule_ceiling_positive"),
            models.CheckConstraint(
                condition=Q(above_filed_price__in=["refuse", "hold"]), name="catalogue_pricerule_mode_known"
            ),
            models.CheckConstraint(
                condition=Q(category__in=list(CATEGORIES)), name="catalogue_pricerule_category_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{category_name(self.category)} ≤ {self.ceiling_fen}"

    @property
    def category_name(self) -> str:
        return category_name(self.category)
