"""Reimbursing merchants: settlement periods, frozen payables, payment batches (maker-checker), bank
files and bank results, down to the fen.

A period covers a half-open range of Beijing time. The redemptions and clawbacks whose timestamps fall in
it are what its payables add up; closing freezes those sums (with counts and the highest row ids seen), so
reconciliation can prove later that nothing moved.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import Organisation
from huanxin.policy.models import Programme


class SettlementPeriod(models.Model):
    """A settlement period of a programme, e.g. one day; closed once, after it has ended."""

    class Status(models.TextChoices):
        OPEN = "open", "未结算"
        CLOSED = "closed", "已结算"

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="settlement_periods")
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束（不含）")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True)
    redemption_count = models.PositiveIntegerField(default=0)
    redemptions_fen = models.BigIntegerField(default=0)
    clawback_count = models.PositiveIntegerField(default=0)
    clawbacks_fen = models.BigIntegerField(default=0)
    # Held sales of the period, left out of its payables, and earlier held sales decided in it, settled in it.
    withheld_count = models.PositiveIntegerField(default=0)
    withheld_fen = models.BigIntegerField(default=0)
    released_count = models.PositiveIntegerField(default=0)
    released_fen = models.BigIntegerField(default=0)
    max_redemption_id = models.BigIntegerField(default=0)
    max_clawback_id = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "清算周期"
        verbose_name_plural = "清算周期"
        ordering = ["programme", "-starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "starts_at"], name="settlement_period_start_uniq"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="settlement_period_order"),
        ]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.starts_at):%Y-%m-%d}"


class Payable(models.Model):
    """What one merchant is owed for one closed period: redemptions plus held sales decided in the period,
    minus clawbacks, plus what was carried in. Sales still held are not in it.

    A negative balance is not paid: it is carried into the merchant's next payable (``carried_out_fen``).
    """

    class Status(models.TextChoices):
        NOTHING_DUE = "nothing", "无应付"
        QUEUED = "queued", "待支付"
        IN_BATCH = "in_batch", "支付中"
        PAID = "paid", "已支付"

    period = models.ForeignKey(SettlementPeriod, on_delete=models.PROTECT, related_name="payables")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="payables")
    redemption_count = models.PositiveIntegerField(default=0)
    redemptions_fen = models.BigIntegerField(default=0)
    released_count = models.PositiveIntegerField(default=0)
    released_fen = models.BigIntegerField(default=0)
    clawback_count = models.PositiveIntegerField(default=0)
    clawbacks_fen = models.BigIntegerField(default=0)
    carried_in_fen = models.BigIntegerField(default=0)
    amount_fen = models.BigIntegerField("应付金额（分）", default=0)
    carried_out_fen = models.BigIntegerField(default=0)
    # Set when a later payable of the same merchant took this negative balance in.
    carry_taken = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "应付款"
        verbose_name_plural = "应付款"
        indexes = [models.Index(fields=["status", "id"], name="settlement_payable_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["period", "recipient"], name="settlement_payable_uniq"),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="settlement_payable_amount_nonneg"),
            models.CheckConstraint(condition=Q(carried_out_fen__lte=0), name="settlement_payable_carry_nonpos"),
            models.CheckConstraint(
                condition=Q(
                    amount_fen=F("redemptions_fen")
                    + F("released_fen")
                    - F("clawbacks_fen")
                    + F("carried_in_fen")
                    - F("carried_out_fen")
                ),
                name="settlement_payable_balance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_id}/{self.recipient_id} {self.amount_fen}"


class PaymentBatch(models.Model):
    """A batch of payments prepared by one finance officer and approved by another."""

    class Status(models.TextChoices):
        ASSEMBLING = "assembling", "生成中"
        PREPARED = "prepared", "待复核"
        APPROVED = "approved", "已复核，待银行回盘"
        SETTLED = "settled", "已完成"

    number = models.CharField("批次号", max_length=20, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="payment_batches")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ASSEMBLING)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # Assembly records how far it got, so a crashed run resumes instead of starting over.
    cursor_payable_id = models.BigIntegerField(default=0)
    upto_payable_id = models.BigIntegerField(default=0)
    line_count = models.PositiveIntegerField(default=0)
    total_fen = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "支付批次"
        verbose_name_plural = "支付批次"
        ordering = ["-prepared_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="settlement_batch_four_eyes",
            ),
            # Only one batch per programme may be assembling at a time: two would race for the same payables.
            models.UniqueConstraint(
                fields=["programme"], condition=Q(status="assembling"), name="settlement_batch_one_assembling"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentLine(models.Model):
    """One payment to one payee for one payable; the bank's answer is recorded on it."""

    class Status(models.TextChoices):
        PENDING = "pending", "待回盘"
        PAID = "paid", "已支付"
        FAILED = "failed", "支付失败"

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="lines")
    payable = models.ForeignKey(Payable, on_delete=models.PROTECT, related_name="lines")
    line_id = models.CharField("行号", max_length=30, unique=True)
    payee_name = models.CharField("收款人", max_length=120)
    bank_name = models.CharField("开户行", max_length=100)
    account_cipher = models.TextField()
    account_masked = models.CharField("账号", max_length=40)
    amount_fen = models.BigIntegerField("金额（分）")
    purpose = models.CharField("用途", max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    bank_reference = models.CharField("银行流水号", max_length=60, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    result_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "支付明细"
        verbose_name_plural = "支付明细"
        ordering = ["batch", "line_id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="settlement_line_amount_positive"),
            # A payable is paid by at most one line that is pending or paid; a failed line frees it.
            models.UniqueConstraint(
                fields=["payable"], condition=Q(status__in=["pending", "paid"]), name="settlement_line_one_live"
            ),
        ]

    def __str__(self) -> str:
        return self.line_id


class BankFile(models.Model):
    """A payment file produced when a batch is approved (CSV or XLSX), kept byte for byte."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="files")
    file_format = models.CharField(max_length=4)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "银行支付文件"
        verbose_name_plural = "银行支付文件"
        constraints = [models.UniqueConstraint(fields=["batch", "file_format"], name="settlement_bankfile_uniq")]

    def __str__(self) -> str:
        return f"{self.batch_id}.{self.file_format}"


class BankImport(models.Model):
    """One bank result file that was imported, with its per-line outcome."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="imports")
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    imported_at = models.DateTimeField(default=timezone.now)
    accepted = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=list)

    class Meta:
        verbose_name = "银行回盘导入"
        verbose_name_plural = "银行回盘导入"

    def __str__(self) -> str:
        return self.file_name
