"""Car subsidy applications (measures 十三, 十四): the application, its evidence files (sealed), its steps, the
NEV catalogue it is checked against and each car programme's legal clock limits.

Imported at the end of ``vehicles.models`` so that Django registers these models in the vehicles app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from huanxin.accounts.models import District, Organisation, Person
from huanxin.accounts.roles import REVIEWERS, TRUCK_APPLICANTS
from huanxin.core.permissions import district_scope
from huanxin.policy.models import Programme, RuleSetVersion
from huanxin.settlement.models import Payee
from huanxin.vehicles.domain.applications import EVIDENCE_KINDS

# An application whose VINs count as subsidised: decided for, and paid or being paid.
SUBSIDISED = ("approved", "paid", "payment_failed")
# An application still in play (not refused for good, not withdrawn): one per applicant and VIN.
CLOSED = ("refused", "withdrawn")
STATUS_CODES = [
    "prepared",
    "submitted",
    "accepted",
    "supplement",
    "approved",
    "refused",
    "reconsideration",
    "paid",
    "payment_failed",
    "withdrawn",
]


class NevCatalogueEntry(models.Model):
    """One model of the MIIT purchase-tax-exemption NEV catalogue (《减免车辆购置税的新能源汽车车型目录》), imported."""

    model_code = models.CharField("车辆型号", max_length=40, unique=True)
    manufacturer = models.CharField("生产企业", max_length=120, blank=True)
    brand = models.CharField("品牌", max_length=60, blank=True)
    batch = models.CharField("批次", max_length=20, blank=True)
    imported_at = models.DateTimeField("导入时间", default=timezone.now)

    class Meta:
        verbose_name = "新能源汽车车型目录"
        verbose_name_plural = "新能源汽车车型目录"
        ordering = ["model_code"]

    def __str__(self) -> str:
        return self.model_code


class CarProgrammeSettings(models.Model):
    """The legal clock limits of one car programme, in working days (defaults: 3, 15, 30)."""

    programme = models.OneToOneField(Programme, on_delete=models.PROTECT, related_name="+")
    accept_days = models.PositiveSmallIntegerField("受理时限（工作日）", default=3)
    decide_days = models.PositiveSmallIntegerField("审核时限（工作日）", default=15)
    pay_days = models.PositiveSmallIntegerField("拨付时限（工作日）", default=30)

    class Meta:
        verbose_name = "汽车补贴办理时限"
        verbose_name_plural = "汽车补贴办理时限"

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.accept_days}/{self.decide_days}/{self.pay_days}"


class CarApplicationQuerySet(models.QuerySet["CarApplication"]):
    def visible_to(self, user: Any) -> CarApplicationQuerySet:
        """Reviewers see their districts' applications (city-wide: all); a resident sees their own; the staff who
        apply for an organisation see the organisation's (through its API token: that organisation's only)."""
        return district_scope(
            self,
            user,
            staff_roles=REVIEWERS,
            district_field="district_id",
            member_roles=TRUCK_APPLICANTS,
            organisation_field="applicant_organisation_id",
            own=Q(applicant__user=user) | Q(prepared_by=user),
        )


class CarApplication(models.Model):
    """An application for a vehicle subsidy: a resident's car scrap-and-replace or replacement, or an
    organisation's operating-truck renewal (bj-truck-2024). The applicant is a person or an organisation, never
    both; a truck application names an old truck, a new truck or both, so its other VIN may be blank."""

    class Kind(models.TextChoices):
        SCRAP = "scrap", "报废更新"
        REPLACE = "replace", "置换更新"
        TRUCK = "truck", "营运货车淘汰更新"

    class Status(models.TextChoices):
        PREPARED = "prepared", "企业代办，待本人确认"
        SUBMITTED = "submitted", "已提交，待受理"
        ACCEPTED = "accepted", "已受理，审核中"
        SUPPLEMENT = "supplement", "待补正材料"
        APPROVED = "approved", "审核通过，待拨付"
        REFUSED = "refused", "审核未通过"
        RECONSIDERATION = "reconsideration", "复核中"
        PAID = "paid", "已到账"
        PAYMENT_FAILED = "payment_failed", "拨付失败"
        WITHDRAWN = "withdrawn", "已撤回"

    class NewEnergy(models.TextChoices):
        NEV = "nev", "新能源汽车"
        FUEL = "fuel", "燃油乘用车"
        GUO6 = "guo6", "国六排放货车"

    class WeightClass(models.TextChoices):
        HEAVY = "heavy", "重型"
        MEDIUM = "medium", "中型"
        LIGHT = "light", "轻型"

    number = models.CharField("申请编号", max_length=24, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="+", verbose_name="补贴项目")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    applicant = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="申请人"
    )
    applicant_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="申请单位"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="提交人"
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="代办人",
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name="申请人所在区")
    # Blank only in a truck application that scraps without buying, or buys without scrapping.
    old_vin = models.CharField("旧车车辆识别代号", max_length=17, blank=True)
    new_vin = models.CharField("新车车辆识别代号", max_length=17, blank=True)
    certificate_number = models.CharField("报废机动车回收证明编号", max_length=60, blank=True)
    transfer_invoice_number = models.CharField("旧车转让发票号码", max_length=40, blank=True)
    new_invoice_number = models.CharField("新车发票号码", max_length=40, blank=True)
    new_price_fen = models.BigIntegerField("新车价格（分）", default=0)
    new_energy = models.CharField("新车能源类型", max_length=6, choices=NewEnergy.choices, blank=True)
    # A new truck's facts as filed (bj-truck-2024); the old truck's come from the registry.
    new_weight_class = models.CharField("新车重量类别", max_length=8, choices=WeightClass.choices, blank=True)
    new_refrigerated = models.BooleanField("新车为冷藏车", default=False)
    new_model_code = models.CharField("新车车辆型号", max_length=40, blank=True)
    new_displacement_ml = models.PositiveIntegerField("新车排量（毫升）", default=0)
    # Null only while a prepared application waits for the resident, who gives their own bank account.
    payee = models.ForeignKey(
        Payee, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="收款账户"
    )
    consent_note = models.CharField("申请人授权说明", max_length=200, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.SUBMITTED)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)
    submitted_on = models.DateField("提交日期")
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField("决定日期", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_code = models.CharField("决定理由代码", max_length=30, blank=True)
    decision_note = models.TextField("决定说明", blank=True)
    first_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reconsideration_requested = models.BooleanField("已申请复核", default=False)
    supplement_due_on = models.DateField("补正截止日期", null=True, blank=True)
    supplement_note = models.TextField("补正要求", blank=True)
    # [{"stage": "accept"|"decide", "start": "YYYY-MM-DD", "end": "YYYY-MM-DD"|null}]
    pauses = models.JSONField("补正暂停", default=list, blank=True)
    checks = models.JSONField("自动核验", default=list, blank=True)
    checks_at = models.DateTimeField("核验时间", null=True, blank=True)
    amount_fen = models.BigIntegerField("补贴金额（分）", default=0)
    pool_id = models.BigIntegerField("预算分片", null=True, blank=True)
    paid_on = models.DateField("到账日期", null=True, blank=True)
    bank_reference = models.CharField("银行流水号", max_length=60, blank=True)
    payment_failure = models.CharField("拨付失败原因", max_length=200, blank=True)

    objects = CarApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "汽车以旧换新补贴申请"
        verbose_name_plural = "汽车以旧换新补贴申请"
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            # A new vehicle has its price; only a truck application may name no new vehicle (price 0).
            models.CheckConstraint(
                condition=Q(new_price_fen__gt=0) | (Q(kind="truck") & Q(new_vin="") & Q(new_price_fen=0)),
                name="vehicles_carapp_price_positive",
            ),
            models.CheckConstraint(
                condition=Q(status="prepared") | Q(payee__isnull=False), name="vehicles_carapp_payee_once_submitted"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="vehicles_carapp_amount_nonneg"),
            models.CheckConstraint(condition=Q(status__in=STATUS_CODES), name="vehicles_carapp_status_known"),
            # Exactly one applicant: a resident, or an organisation.
            models.CheckConstraint(
                condition=Q(applicant__isnull=False, applicant_organisation__isnull=True)
                | Q(applicant__isnull=True, applicant_organisation__isnull=False),
                name="vehicles_carapp_one_applicant",
            ),
            # A car application names both cars; a truck application at least one truck.
            models.CheckConstraint(
                condition=(~Q(kind="truck") & ~Q(old_vin="") & ~Q(new_vin=""))
                | (Q(kind="truck") & (~Q(old_vin="") | ~Q(new_vin=""))),
                name="vehicles_carapp_vins_named",
            ),
            # The same application filed twice (a double tap, two devices) is one: one open application per
            # applicant (person or organisation) and old VIN, and per applicant and new VIN. A blank VIN names no
            # vehicle and collides with nothing.
            models.UniqueConstraint(
                fields=["applicant", "old_vin"],
                condition=~Q(status__in=CLOSED) & ~Q(old_vin=""),
                name="vehicles_carapp_open_old_uniq",
            ),
            models.UniqueConstraint(
                fields=["applicant", "new_vin"],
                condition=~Q(status__in=CLOSED) & ~Q(new_vin=""),
                name="vehicles_carapp_open_new_uniq",
            ),
            models.UniqueConstraint(
                fields=["applicant_organisation", "old_vin"],
                condition=~Q(status__in=CLOSED) & ~Q(old_vin=""),
                name="vehicles_carapp_org_open_old_uniq",
            ),
            models.UniqueConstraint(
                fields=["applicant_organisation", "new_vin"],
                condition=~Q(status__in=CLOSED) & ~Q(new_vin=""),
                name="vehicles_carapp_org_open_new_uniq",
            ),
            # A VIN is subsidised once, old or new, whoever applies.
            models.UniqueConstraint(
                fields=["old_vin"],
                condition=Q(status__in=SUBSIDISED) & ~Q(old_vin=""),
                name="vehicles_carapp_old_vin_once",
            ),
            models.UniqueConstraint(
                fields=["new_vin"],
                condition=Q(status__in=SUBSIDISED) & ~Q(new_vin=""),
                name="vehicles_carapp_new_vin_once",
            ),
            # A scrap certificate backs one application that is still in play.
            models.UniqueConstraint(
                fields=["certificate_number"],
                condition=~Q(status__in=CLOSED) & ~Q(certificate_number=""),
                name="vehicles_carapp_certificate_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "district"], name="vehicles_carapp_queue_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED

    @property
    def applicant_display(self) -> str:
        """The applicant as pages show it: a resident's name masked, an organisation's in full."""
        if self.applicant_organisation_id is not None:
            return str(self.applicant_organisation)
        return str(self.applicant)

    @property
    def is_truck(self) -> bool:
        return self.kind == self.Kind.TRUCK


class CarApplicationStep(models.Model):
    """One step of an application the applicant sees: submitted, accepted, 补正 asked and given, decided, paid."""

    application = models.ForeignKey(CarApplication, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField("步骤", max_length=30)
    title = models.CharField("说明", max_length=200)
    reason_code = models.CharField("理由代码", max_length=30, blank=True)
    note = models.TextField("备注", blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "申请办理步骤"
        verbose_name_plural = "申请办理步骤"
        ordering = ["application", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


class EvidenceFile(models.Model):
    """One evidence file: its bytes sealed (AES-GCM, core.crypto keys), its SHA-256, its type from its content."""

    application = models.ForeignKey(CarApplication, on_delete=models.PROTECT, related_name="evidence")
    kind = models.CharField("材料类型", max_length=24, choices=list(EVIDENCE_KINDS.items()))
    file_name = models.CharField("文件名", max_length=120)
    content_type = models.CharField("文件类型", max_length=40)
    size = models.PositiveIntegerField("大小（字节）")
    sha256 = models.CharField("SHA-256", max_length=64)
    sealed = models.BinaryField("加密内容")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "申请材料"
        verbose_name_plural = "申请材料"
        ordering = ["application", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(content_type__in=["image/jpeg", "image/png", "application/pdf"]),
                name="vehicles_evidence_type_known",
            ),
            models.UniqueConstraint(fields=["application", "sha256"], name="vehicles_evidence_once_per_application"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


class CarTopUpRun(models.Model):
    """Top-ups owed because a rule version took effect in the past (standards raised after the fact): listed by
    one person, paid once a second person approves. One run per rule version that is not rejected."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准，已发起支付"
        REJECTED = "rejected", "已驳回"

    rule_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    prepared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    prepared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "汽车补贴追溯补差"
        verbose_name_plural = "汽车补贴追溯补差"
        constraints = [
            models.UniqueConstraint(
                fields=["rule_version"], condition=~Q(status="rejected"), name="vehicles_topuprun_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_version_id} {self.status}"


class CarTopUp(models.Model):
    """One application's top-up under a rule version: the new amount less what was paid; only ever upwards."""

    run = models.ForeignKey(CarTopUpRun, on_delete=models.PROTECT, related_name="items")
    application = models.ForeignKey(CarApplication, on_delete=models.PROTECT, related_name="top_ups")
    rule_version = models.ForeignKey(RuleSetVersion, on_delete=models.PROTECT, related_name="+")
    paid_before_fen = models.BigIntegerField("此前补贴（分）")
    new_amount_fen = models.BigIntegerField("新标准补贴（分）")
    delta_fen = models.BigIntegerField("补差（分）")

    class Meta:
        verbose_name = "汽车补贴补差"
        verbose_name_plural = "汽车补贴补差"
        constraints = [
            models.CheckConstraint(condition=Q(delta_fen__gt=0), name="vehicles_topup_only_up"),
            models.UniqueConstraint(fields=["application", "rule_version"], name="vehicles_topup_once_per_version"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} +{self.delta_fen}"


class CarClockFlag(models.Model):
    """A legal clock of one application about to run out (即将到期) or run out (已逾期) on a due day, or a 补正
    deadline passed without the material (补正逾期), found by the periodic job (``vehicles.clock_flags``).

    One row per application, stage, kind and due day, however often the job runs; when the stage finishes (or the
    due day moves on, as a 补正 pause moves it) the row is marked resolved, never deleted: the history of what
    was late stays."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", "即将到期"
        OVERDUE = "overdue", "已逾期"
        SUPPLEMENT_LAPSED = "supplement_lapsed", "补正逾期"

    class Resolution(models.TextChoices):
        DONE = "done", "环节已办结"
        CLOSED = "closed", "申请已撤回或终结"
        MOVED = "moved", "截止日期已变化"

    application = models.ForeignKey(CarApplication, on_delete=models.PROTECT, related_name="clock_flags")
    # The application's district, copied so that scoping and the counts per district read this table alone.
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name="所在区")
    stage = models.CharField("办理环节", max_length=10)
    kind = models.CharField("预警类型", max_length=20, choices=Kind.choices)
    due_on = models.DateField("截止日期")
    flagged_on = models.DateField("预警日期")
    created_at = models.DateTimeField("预警时间", default=timezone.now)
    # Years the due day was counted through whose holiday table is not loaded: then it is a Monday–Friday guess.
    uncovered_years = models.JSONField("未载入节假日安排的年份", default=list, blank=True)
    resolved_on = models.DateField("解除日期", null=True, blank=True)
    resolution = models.CharField("解除原因", max_length=10, choices=Resolution.choices, blank=True)

    class Meta:
        verbose_name = "汽车补贴办理时限预警"
        verbose_name_plural = "汽车补贴办理时限预警"
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "stage", "kind", "due_on"], name="vehicles_clockflag_once_per_due_day"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["accept", "decide", "pay"]), name="vehicles_clockflag_stage_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["due_soon", "overdue", "supplement_lapsed"]), name="vehicles_clockflag_kind_known"
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True, resolution="") | Q(resolved_on__isnull=False) & ~Q(resolution=""),
                name="vehicles_clockflag_resolved_with_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["district", "due_on"], condition=Q(resolved_on__isnull=True), name="vehicles_clockflag_open_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} {self.kind} {self.due_on}"
