"""Paying out subsidies: payees with their bank accounts, payables from any source, settlement periods of
the consumer-goods programme, payment batches (maker-checker), bank files and bank results, down to the fen.

A payable is one payment order from one source (``source_kind``, ``source_ref``): a merchant's consumer-goods
period, a car subsidy, a top-up... Each source is paid once (a unique constraint); what the bank answers goes
back to the source through the callbacks it registered (``settlement.sources``).

A period covers a half-open range of Beijing time. The redemptions and clawbacks whose timestamps fall in
it are what its merchants' payables add up; closing freezes those sums (with counts and the highest row ids
seen), so reconciliation can prove later that nothing moved.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import Organisation, Person
from huanxin.policy.models import Programme
from huanxin.settlement.sources import CONSUMER_SUBSIDY


def consumer_source_ref(period_id: int, recipient_id: int) -> str:
    """The source reference of a merchant's payable of a period (closing writes the same in SQL)."""
    return f"{period_id}:{recipient_id}"


def merchant_payee_reference(programme_id: int, organisation_id: int) -> str:
    """The payee a merchant is paid to in a programme: its enrolment's bank account (synced from it)."""
    return f"merchant:{programme_id}:{organisation_id}"


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


class Payee(models.Model):
    """Someone settlement pays — a person or an organisation — and the bank account the money goes to.

    ``reference`` is the registering side's stable name for it (a merchant's enrolment in a programme is
    ``merchant:<programme>:<organisation>``; a car applicant's might be ``person:<id>``): registering the same
    reference again updates the account instead of adding a payee. The account number is sealed (encrypted,
    blind-indexed, masked); only the bank file carries it in full. A payment line copies the account as it was
    when the line was made, so changing a payee never rewrites what was paid.
    """

    class Kind(models.TextChoices):
        PERSON = "person", "个人"
        ORGANISATION = "organisation", "单位"

    kind = models.CharField("收款人类型", max_length=12, choices=Kind.choices)
    reference = models.CharField("收款人标识", max_length=100, unique=True)
    name = models.CharField("收款人", max_length=120)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="payees"
    )
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="payees", db_index=False
    )
    account_name = models.CharField("账户名称", max_length=120)
    bank_name = models.CharField("开户银行", max_length=100)
    account_cipher = models.TextField()
    account_digest = models.CharField(max_length=64)
    account_masked = models.CharField("银行账号", max_length=40)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "收款人"
        verbose_name_plural = "收款人"
        # Partial: merchants' payees (thousands, written on a period's first close) name no person and are
        # found by reference; a person's payees and an account's holders are found through these.
        indexes = [
            models.Index(fields=["person"], condition=Q(person__isnull=False), name="settlement_payee_person_idx"),
            models.Index(fields=["account_digest"], condition=Q(kind="person"), name="settlement_payee_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="person") & Q(organisation__isnull=True))
                | (Q(kind="organisation") & Q(person__isnull=True)),
                name="settlement_payee_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.account_masked}"


class Payable(models.Model):
    """One payment order: what a source owes one payee, paid once.

    For the consumer-goods programme (``source_kind`` consumer-subsidy) it is what one merchant is owed for one
    closed period: redemptions plus held sales decided in the period, minus clawbacks, plus what was carried
    in; a negative balance is not paid but carried into the merchant's next payable (``carried_out_fen``). Its
    payee is the merchant's enrolment account (none yet: no line until there is one). Every other source hands
    settlement an amount and a payee (``services.request_payment``) and leaves the period and breakdown empty.
    """

    class Status(models.TextChoices):
        NOTHING_DUE = "nothing", "无应付"
        QUEUED = "queued", "待支付"
        IN_BATCH = "in_batch", "支付中"
        PAID = "paid", "已支付"

    # Indexes are few on purpose: a batch updates every payable's status twice, and each index is written
    # again on every update. The queue index leads with the programme; a period is found through the
    # (period, merchant) constraint; payees and sources are indexed for the payables other sources hand in
    # (a merchant's are found by period and merchant).
    # No database-level foreign key on the programme: a merchant's payable has it from its period (which has
    # one), any other from the Programme its source hands over, and programmes are never deleted (PROTECT
    # still holds in the ORM). Closing a city's day writes thousands of payables, and each foreign key is
    # one more check per row at commit (measured: the largest part of what payees added to a close).
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="payables", db_index=False, db_constraint=False
    )
    source_kind = models.CharField("来源", max_length=40)
    source_ref = models.CharField("来源编号", max_length=100)
    payee = models.ForeignKey(
        Payee, null=True, blank=True, on_delete=models.PROTECT, related_name="payables", db_index=False
    )
    # Consumer-goods payables only: the period and the merchant.
    period = models.ForeignKey(
        SettlementPeriod,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payables",
        db_index=False,
    )
    recipient = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="payables"
    )
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
        indexes = [
            models.Index(fields=["programme", "status", "id"], name="settlement_payable_queue_idx2"),
            models.Index(
                fields=["payee"], condition=~Q(source_kind=CONSUMER_SUBSIDY), name="settlement_payable_payee_idx"
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["period", "recipient"], name="settlement_payable_uniq"),
            # A source is paid once: a second request for it finds the first. A merchant's period payable is
            # once per (period, merchant) by the constraint above, its source_ref being "<period>:<merchant>".
            models.UniqueConstraint(
                fields=["source_kind", "source_ref"],
                condition=~Q(source_kind=CONSUMER_SUBSIDY),
                name="settlement_payable_source_uniq",
            ),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="settlement_payable_amount_nonneg"),
            # A merchant's period payable has its period and merchant; any other has a payee and something to pay.
            models.CheckConstraint(
                condition=(Q(source_kind=CONSUMER_SUBSIDY) & Q(period__isnull=False) & Q(recipient__isnull=False))
                | (
                    ~Q(source_kind=CONSUMER_SUBSIDY)
                    & Q(period__isnull=True)
                    & Q(recipient__isnull=True)
                    & Q(payee__isnull=False)
                    & Q(amount_fen__gt=0)
                ),
                name="settlement_payable_source_shape",
            ),
            models.CheckConstraint(condition=Q(carried_out_fen__lte=0), name="settlement_payable_carry_nonpos"),
            # A period payable's amount is its breakdown's balance (other sources have no breakdown).
            models.CheckConstraint(
                condition=Q(period__isnull=True)
                | Q(
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
        return f"{self.source_kind}/{self.source_ref} {self.amount_fen}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A merchant's period payable names its source and programme from the period (closing sets them in bulk).
        if self.period_id is not None and self.recipient_id is not None:
            self.source_kind = self.source_kind or CONSUMER_SUBSIDY
            self.source_ref = self.source_ref or consumer_source_ref(self.period_id, self.recipient_id)
            if self.programme_id is None:
                self.programme_id = SettlementPeriod.objects.values_list("programme_id", flat=True).get(
                    pk=self.period_id
                )
        super().save(*args, **kwargs)


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
