"""Reverse invoices (反向开票): what a qualified recycler issues to a natural person who sold it scrap.

An invoice is a tax record, not a payment: no money moves through these rows. It is never deleted; voiding keeps
its number and marks it void, and a void invoice counts for nothing (not toward the seller's 12-month ceiling,
not toward the monthly VAT exemption, not in the recycler's VAT summary), as if it had not been issued.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from huanxin.accounts.models import Organisation
from huanxin.recycling.domain import invoices as domain


class InvoiceSequence(models.Model):
    """How many reverse invoices an issuer has numbered in a year: moved by one guarded update in the transaction
    that issues the invoice, so numbers are gap-free (a refused purchase rolls its increment back) and two
    invoices issued at once never share one."""

    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "反向发票编号序列"
        verbose_name_plural = "反向发票编号序列"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year"], name="recycling_sequence_issuer_year_uniq"),
            models.CheckConstraint(
                condition=Q(last__lt=10**domain.SEQUENCE_DIGITS), name="recycling_sequence_within_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.issuer_id} {self.year}: {self.last}"


class SellerLock(models.Model):
    """One row per seller (by the blind index of the resident ID), locked while an invoice to that seller is
    decided: the ceiling and the VAT exemption count the seller's sales to every recycler, so two recyclers
    invoicing the same person at once are queued here and the second one sees the first one's invoice."""

    seller_id_digest = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "出售者锁"
        verbose_name_plural = "出售者锁"

    def __str__(self) -> str:
        return self.seller_id_digest[:12]


class ReverseInvoice(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", "已开具"
        VOIDED = "voided", "已作废"

    number = models.CharField("发票号码", max_length=40, unique=True)
    issuer = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="reverse_invoices")
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    purchased_on = models.DateField("收购日期")
    qualification = models.CharField("开票资格", max_length=60)
    licence_numbers = models.CharField("资质证书编号", max_length=200)
    seller_name = models.CharField("出售者姓名", max_length=40)
    seller_id_cipher = models.TextField()
    seller_id_digest = models.CharField(max_length=64, db_index=True)
    seller_id_masked = models.CharField("出售者身份证号码", max_length=24)
    items = models.JSONField("收购物品", default=list)
    weight_g = models.BigIntegerField("总重量（克）")
    sale_fen = models.BigIntegerField("销售额（不含增值税，分）")
    vat_fen = models.BigIntegerField("增值税（分）")
    pit_fen = models.BigIntegerField("个人所得税预缴（分）")
    rule_version = models.CharField("规则版本", max_length=80)
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    void_reason = models.CharField("作废原因", max_length=200, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    tax_number = models.CharField("数电发票号码", max_length=20, null=True, blank=True, unique=True)
    tax_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "反向发票"
        verbose_name_plural = "反向发票"
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "year", "sequence"], name="recycling_invoice_sequence_uniq"),
            models.CheckConstraint(condition=Q(sale_fen__gt=0), name="recycling_invoice_sale_positive"),
            models.CheckConstraint(
                condition=Q(vat_fen__gte=0) & Q(pit_fen__gte=0), name="recycling_invoice_taxes_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(status="issued", voided_at__isnull=True)
                | Q(status="voided", voided_at__isnull=False) & ~Q(void_reason=""),
                name="recycling_invoice_void_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["seller_id_digest", "purchased_on"], name="recycling_invoice_seller_idx"),
            models.Index(fields=["issuer", "purchased_on"], name="recycling_invoice_issuer_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_void(self) -> bool:
        return self.status == self.Status.VOIDED


# The recycling network's sites, in their own module.
from huanxin.recycling.network_models import NetworkSite  # noqa: E402, F401
