"""Consumer trade-in: merchants' stores and enrolments, qualification rounds, qualifications with budget
holds, redemptions at checkout with the old item taken back, and returns with their clawbacks.

The invariants live in the database: one live qualification per person and (programme, category), a
person's quota as numbered slots, one subsidy per serial number in a programme, and the pool equation
(in policy.BudgetPool).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import District, Organisation, Person
from huanxin.policy.models import BudgetPool, Programme


class Store(models.Model):
    """A merchant's shop where residents redeem (门店)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField("门店名称", max_length=100)
    address = models.CharField("地址", max_length=200)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField("营业中", default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "门店"
        verbose_name_plural = "门店"
        ordering = ["organisation", "name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="subsidies_store_name_uniq")]

    def __str__(self) -> str:
        return self.name


class Enrolment(models.Model):
    """A merchant's application to take part in a programme; only approved, unsuspended ones redeem."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        APPROVED = "approved", "已通过"
        REFUSED = "refused", "未通过"
        SUSPENDED = "suspended", "已暂停"

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="enrolments")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="enrolments")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    categories = models.JSONField("经营品类", default=list)
    stores = models.ManyToManyField(Store, related_name="enrolments")
    bank_name = models.CharField("开户银行", max_length=100)
    account_name = models.CharField("账户名称", max_length=120)
    bank_account_cipher = models.TextField()
    bank_account_digest = models.CharField(max_length=64)
    bank_account_masked = models.CharField("银行账号", max_length=40)
    contact_name = models.CharField("联系人", max_length=60)
    contact_phone_cipher = models.TextField()
    contact_phone_masked = models.CharField("联系电话", max_length=11)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("审核意见", blank=True)

    class Meta:
        verbose_name = "商户报名"
        verbose_name_plural = "商户报名"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "programme"], name="subsidies_enrolment_uniq"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("submitted_by")),
                name="subsidies_enrolment_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} · {self.programme}"


class ClaimRound(models.Model):
    """A round of issuing qualifications (分批发放): an opening time and per-category count limits."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="rounds")
    name = models.CharField("名称", max_length=60)
    opens_at = models.DateTimeField("开始时间")
    closes_at = models.DateTimeField("结束时间", null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "发放批次"
        verbose_name_plural = "发放批次"
        ordering = ["programme", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True) | Q(closes_at__gt=F("opens_at")), name="subsidies_round_order"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RoundSlice(models.Model):
    """One slice of a round's count limit for a category; sliced like the budget so a burst spreads out."""

    round = models.ForeignKey(ClaimRound, on_delete=models.CASCADE, related_name="slices")
    category = models.CharField(max_length=30)
    slice = models.PositiveSmallIntegerField(default=0)
    limit = models.PositiveIntegerField()
    issued = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "批次名额分片"
        verbose_name_plural = "批次名额分片"
        constraints = [
            models.UniqueConstraint(fields=["round", "category", "slice"], name="subsidies_roundslice_uniq"),
            models.CheckConstraint(condition=Q(issued__lte=F("limit")), name="subsidies_roundslice_within_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}:{self.category}:{self.slice}"


class Qualification(models.Model):
    """A resident's subsidy qualification (资格) for one category, holding the most it can pay."""

    class Status(models.TextChoices):
        ISSUED = "issued", "待使用"
        REDEEMED = "redeemed", "已使用"
        EXPIRED = "expired", "已过期"
        CANCELLED = "cancelled", "已取消"
        RETURNED = "returned", "已退货"

    code = models.CharField("资格码", max_length=12, unique=True)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="qualifications")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="qualifications")
    category = models.CharField("品类", max_length=30)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    pool = models.ForeignKey(BudgetPool, on_delete=models.PROTECT, related_name="qualifications")
    round = models.ForeignKey(ClaimRound, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    round_slice = models.ForeignKey(RoundSlice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The n-th of the person's quota for this (programme, category): slot < quota, unique while it counts.
    slot = models.PositiveSmallIntegerField(default=0)
    held_fen = models.BigIntegerField("冻结金额（分）")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ISSUED)
    # A return keeps the quota consumed unless the programme says otherwise (then this is set).
    quota_released = models.BooleanField(default=False)
    rule_version = models.CharField(max_length=60)
    issued_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField("有效期至")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "补贴资格"
        verbose_name_plural = "补贴资格"
        indexes = [
            models.Index(fields=["status", "expires_at"], name="subsidies_qual_expiry_idx"),
            models.Index(fields=["person", "programme"], name="subsidies_qual_person_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "programme", "category"],
                condition=Q(status="issued"),
                name="subsidies_qual_one_live",
            ),
            models.UniqueConstraint(
                fields=["person", "programme", "category", "slot"],
                condition=Q(status__in=["issued", "redeemed"]) | Q(status="returned", quota_released=False),
                name="subsidies_qual_quota_slot",
            ),
            models.CheckConstraint(condition=Q(held_fen__gte=0), name="subsidies_qual_held_nonneg"),
        ]

    def __str__(self) -> str:
        return self.code


class Redemption(models.Model):
    """A qualification applied at checkout: the item sold, its serial, the price and the subsidy."""

    class Status(models.TextChoices):
        COMPLETED = "completed", "已核销"
        PARTIALLY_RETURNED = "partial", "部分退货"
        RETURNED = "returned", "已退货"

    qualification = models.OneToOneField(Qualification, on_delete=models.PROTECT, related_name="redemption")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="redemptions")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="redemptions")
    clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalogue.ProductModel", on_delete=models.PROTECT, related_name="redemptions")
    category = models.CharField(max_length=30)
    serial = models.CharField("序列号/IMEI", max_length=50)
    price_fen = models.BigIntegerField("成交价（分）")
    subsidy_fen = models.BigIntegerField("补贴金额（分）")
    returned_fen = models.BigIntegerField("已冲回补贴（分）", default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    rule_version = models.CharField(max_length=60)
    decision = models.JSONField()
    redeemed_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Set when the sale was held at checkout: settlement leaves it out of its own period and settles it in
    # the period in which its hold is decided (see RedemptionHold).
    withheld = models.BooleanField("清算款暂扣", default=False)

    class Meta:
        verbose_name = "核销记录"
        verbose_name_plural = "核销记录"
        indexes = [models.Index(fields=["merchant", "redeemed_at"], name="subsidies_redeem_merchant_idx")]
        constraints = [
            # One subsidy per item across the programme; a fully returned sale frees the serial again.
            models.UniqueConstraint(
                fields=["programme", "serial"],
                condition=Q(status__in=["completed", "partial"]),
                name="subsidies_redemption_serial_once",
            ),
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="subsidies_redemption_price_positive"),
            models.CheckConstraint(
                condition=Q(subsidy_fen__gte=0) & Q(subsidy_fen__lte=F("price_fen")),
                name="subsidies_redemption_subsidy_range",
            ),
            models.CheckConstraint(
                condition=Q(returned_fen__gte=0) & Q(returned_fen__lte=F("subsidy_fen")),
                name="subsidies_redemption_returned_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.qualification_id} {self.serial}"

    @property
    def paid_fen(self) -> int:
        """What the customer paid at the till: the final price less the instant discount."""
        return self.price_fen - self.subsidy_fen


class TakeBack(models.Model):
    """The old item the merchant took back at checkout (收旧), for the trace code to attach to."""

    class Condition(models.TextChoices):
        WORKING = "working", "可正常使用"
        DAMAGED = "damaged", "损坏"
        SCRAP = "scrap", "报废"

    redemption = models.OneToOneField(Redemption, on_delete=models.PROTECT, related_name="take_back")
    category = models.CharField("旧机品类", max_length=30)
    condition = models.CharField("旧机状况", max_length=10, choices=Condition.choices)
    to_recycler = models.BooleanField("交回收企业", default=True)
    description = models.CharField("说明", max_length=200, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "旧机回收"
        verbose_name_plural = "旧机回收"

    def __str__(self) -> str:
        return f"{self.category} ({self.get_condition_display()})"


class Return(models.Model):
    """A whole-order or partial return of a subsidised sale (退货退补): what the customer got back, the
    subsidy reversed (owed back by the merchant) and why. A sale has at most one of each kind: a partial
    return (a lower final price) may be followed by a whole-order return, nothing else."""

    class Kind(models.TextChoices):
        FULL = "full", "整单退货"
        PARTIAL = "partial", "部分退货"

    redemption = models.ForeignKey(Redemption, on_delete=models.PROTECT, related_name="returns")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Partial only: the final price the customer keeps paying for (before subsidy) and the subsidy on it.
    new_price_fen = models.BigIntegerField("新的最终成交价（分）", null=True, blank=True)
    new_subsidy_fen = models.BigIntegerField("重算后补贴（分）", default=0, db_default=0)
    refund_fen = models.BigIntegerField("退还顾客金额（分）")
    reversed_fen = models.BigIntegerField("冲回补贴（分）")
    quota_released = models.BooleanField("名额已恢复", default=False, db_default=False)
    reason = models.CharField("原因", max_length=200)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "退货"
        verbose_name_plural = "退货"
        constraints = [
            models.CheckConstraint(condition=Q(refund_fen__gt=0), name="subsidies_return_refund_positive"),
            models.CheckConstraint(condition=Q(reversed_fen__gte=0), name="subsidies_return_reversed_nonneg"),
            models.CheckConstraint(
                condition=Q(new_price_fen__isnull=True) | Q(new_price_fen__gt=0),
                name="subsidies_return_new_price_positive",
            ),
            models.CheckConstraint(condition=Q(new_subsidy_fen__gte=0), name="subsidies_return_new_subsidy_nonneg"),
            # A whole-order return happens once, and so does a partial one (the database says so, not
            # only the service's status check).
            models.UniqueConstraint(fields=["redemption", "kind"], name="subsidies_return_once_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.redemption_id} {self.kind} {self.reversed_fen}"


class RedemptionHold(models.Model):
    """A sale held for review (暂扣): the customer got the discount and the subsidy counts as spent, but
    the merchant is paid nothing for it until a reviewer decides. Cleared: the subsidy still standing then
    (``released_fen``) is paid in the settlement period in which the decision falls. Rejected: that subsidy
    goes back to the budget and the merchant is never paid it, so there is nothing to claw back. One hold
    per sale; every risk rule that fires adds its reason code to ``reasons``."""

    class Status(models.TextChoices):
        HELD = "held", "待复核"
        CLEARED = "cleared", "已放行"
        REJECTED = "rejected", "已驳回"

    redemption = models.OneToOneField(Redemption, on_delete=models.PROTECT, related_name="hold")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    merchant = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="redemption_holds")
    # The store's district: district reviewers decide the holds of their own district only.
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField("暂扣原因代码", max_length=40)
    reasons = models.JSONField("暂扣原因", default=list)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.HELD)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField("暂扣时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    note = models.CharField("复核意见", max_length=200, blank=True)
    # What the decision lets settlement pay: the subsidy less what returns had reversed by then (0 when
    # rejected). Settlement sums it, so a return made while the sale was held is never paid out.
    released_fen = models.BigIntegerField("放行支付的补贴（分）", default=0)

    class Meta:
        verbose_name = "暂扣核销"
        verbose_name_plural = "暂扣核销"
        indexes = [
            models.Index(fields=["status", "district", "placed_at"], name="subsidies_hold_queue_idx"),
            # Settlement reads the holds decided in a period.
            models.Index(fields=["programme", "decided_at"], name="subsidies_hold_decided_idx"),
        ]
        constraints = [
            # Nobody decides on a sale they made.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("placed_by")), name="subsidies_hold_four_eyes"
            ),
            models.CheckConstraint(
                condition=(Q(status="held") & Q(decided_at__isnull=True) & Q(decided_by__isnull=True))
                | (Q(status__in=["cleared", "rejected"]) & Q(decided_at__isnull=False) & Q(decided_by__isnull=False)),
                name="subsidies_hold_decision_complete",
            ),
            models.CheckConstraint(condition=Q(released_fen__gte=0), name="subsidies_hold_released_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.redemption_id} {self.reason} {self.status}"


class Clawback(models.Model):
    """Subsidy a merchant owes back after a return of a sale it was paid for (or will be: not one still held),
    netted against its next reimbursement."""

    class Status(models.TextChoices):
        OPEN = "open", "待抵扣"
        NETTED = "netted", "已抵扣"

    merchant = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="clawbacks")
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+")
    return_record = models.OneToOneField(Return, on_delete=models.PROTECT, related_name="clawback")
    amount_fen = models.BigIntegerField("金额（分）")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "追回款"
        verbose_name_plural = "追回款"
        constraints = [models.CheckConstraint(condition=Q(amount_fen__gt=0), name="subsidies_clawback_positive")]

    def __str__(self) -> str:
        return f"{self.merchant_id} {self.amount_fen}"


class ExternalSubsidy(models.Model):
    """A subsidy this person got in another province this year (from the national system), for exclusions."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="external_subsidies")
    year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=30)
    province = models.CharField(max_length=20)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "外省补贴记录"
        verbose_name_plural = "外省补贴记录"
        constraints = [
            models.UniqueConstraint(fields=["person", "year", "category", "province"], name="subsidies_external_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.category} {self.province}"


class ClaimRefusal(models.Model):
    """A refused claim with every reason, so the resident can see why (and staff can see patterns)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="claim_refusals")
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30)
    code = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "申领被拒记录"
        verbose_name_plural = "申领被拒记录"

    def __str__(self) -> str:
        return f"{self.code} {self.created_at:%Y-%m-%d}"
