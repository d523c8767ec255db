"""The plan and its money: the 23 measures, programmes with district budgets, versioned rule sets.

A rule set is a catalogue file (TOML) stored verbatim with its digest. Publishing a new version is a
two-person action; every stored decision names the version that made it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from huanxin.accounts.models import District, Organisation


class PlanDocument(models.Model):
    """The action plan a measure belongs to, e.g. 京政发〔2024〕14号."""

    number = models.CharField("文号", max_length=40, unique=True)
    title = models.CharField("标题", max_length=200)
    issuer = models.CharField("发文机关", max_length=60)
    issued_on = models.DateField("发布日期")
    target_year = models.PositiveSmallIntegerField("目标年份", null=True, blank=True)

    class Meta:
        verbose_name = "政策文件"
        verbose_name_plural = "政策文件"

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"


class ResponsibleUnit(models.Model):
    """A 责任单位 as the plan names it (市商务局), linked to the government organisation that acts for it."""

    short_name = models.CharField("简称", max_length=40, unique=True)
    full_name = models.CharField("全称", max_length=100)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="responsible_units"
    )

    class Meta:
        verbose_name = "责任单位"
        verbose_name_plural = "责任单位"
        ordering = ["short_name"]

    def __str__(self) -> str:
        return self.short_name


class Measure(models.Model):
    """One of the plan's measures (措施), with what it asks for and who answers for it."""

    document = models.ForeignKey(PlanDocument, on_delete=models.PROTECT, related_name="measures")
    number = models.PositiveSmallIntegerField("序号")
    numeral = models.CharField("中文序号", max_length=6)
    area_number = models.PositiveSmallIntegerField("领域序号")
    area = models.CharField("领域", max_length=40)
    title = models.CharField("标题", max_length=100)
    summary = models.TextField("要点")
    targets = models.JSONField("指标", default=list)
    units = models.ManyToManyField(ResponsibleUnit, through="MeasureUnit", related_name="measures")

    class Meta:
        verbose_name = "措施"
        verbose_name_plural = "措施"
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="policy_measure_number_uniq")]

    def __str__(self) -> str:
        return f"（{self.numeral}）{self.title}"


class MeasureUnit(models.Model):
    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="unit_links")
    unit = models.ForeignKey(ResponsibleUnit, on_delete=models.PROTECT, related_name="measure_links")
    is_lead = models.BooleanField("牵头", default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "措施责任单位"
        verbose_name_plural = "措施责任单位"
        ordering = ["measure", "position"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "unit"], name="policy_measureunit_uniq"),
            models.UniqueConstraint(fields=["measure"], condition=Q(is_lead=True), name="policy_measureunit_one_lead"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}:{self.unit}"


class ProgressReport(models.Model):
    """A responsible unit's report on a measure for one period (a month: ``2026-10``)."""

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey(ResponsibleUnit, on_delete=models.PROTECT, related_name="reports")
    period = models.CharField("报告期", max_length=7)
    narrative = models.TextField("进展情况")
    indicators = models.JSONField("指标值", default=dict)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "进展报告"
        verbose_name_plural = "进展报告"
        ordering = ["-period", "-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "unit", "period"], name="policy_report_period_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.measure_id} {self.unit} {self.period}"


class Programme(models.Model):
    """A subsidy programme (catalogue code) under a measure, with its period, status and budget."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        OPEN = "open", "进行中"
        CLOSED = "closed", "已结束"

    code = models.CharField("代码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    family = models.CharField("规则类型", max_length=30)
    measure = models.ForeignKey(Measure, null=True, blank=True, on_delete=models.PROTECT, related_name="programmes")
    starts_on = models.DateField("开始日期", null=True, blank=True)
    ends_on = models.DateField("结束日期", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT)
    total_budget_fen = models.BigIntegerField("总预算（分）", default=0)
    description = models.TextField("说明", blank=True)
    # Each district's budget is split into this many slices so that a burst of claims spreads its row
    # locks over several rows instead of queueing on one (a claim falls through to the next slice).
    slices_per_district = models.PositiveSmallIntegerField("每区预算分片数", default=4)
    qualification_valid_days = models.PositiveSmallIntegerField("资格有效天数", default=30)
    # Whether a returned item gives the person their quota back (退货后名额是否恢复); off by default.
    quota_restored_on_return = models.BooleanField("退货后恢复名额", default=False)

    class Meta:
        verbose_name = "补贴项目"
        verbose_name_plural = "补贴项目"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(total_budget_fen__gte=0), name="policy_programme_budget_nonneg"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="policy_programme_period_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class BudgetPool(models.Model):
    """One slice of a programme's budget for one district. ``allocated = held + spent + available`` always.

    The database enforces the equation and non-negativity, so no code path — a race, a bug, a manual
    UPDATE — can overspend a pool.
    """

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="pools")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    slice = models.PositiveSmallIntegerField("分片", default=0)
    allocated_fen = models.BigIntegerField("分配额度（分）", default=0)
    held_fen = models.BigIntegerField("冻结（分）", default=0)
    spent_fen = models.BigIntegerField("已使用（分）", default=0)
    available_fen = models.BigIntegerField("可用（分）", default=0)

    class Meta:
        verbose_name = "区预算池"
        verbose_name_plural = "区预算池"
        ordering = ["programme", "district__sort_order", "slice"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "district", "slice"], name="policy_pool_slice_uniq"),
            models.CheckConstraint(
                condition=Q(held_fen__gte=0) & Q(spent_fen__gte=0) & Q(available_fen__gte=0),
                name="policy_pool_nonneg",
            ),
            models.CheckConstraint(
                condition=Q(allocated_fen=F("held_fen") + F("spent_fen") + F("available_fen")),
                name="policy_pool_balance",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}/{self.district_id}/{self.slice}"


class RuleSetVersion(models.Model):
    """One version of a programme's catalogue file, stored verbatim. Published versions decide."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        PUBLISHED = "published", "已发布"
        REJECTED = "rejected", "已驳回"

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="rule_sets")
    version = models.PositiveIntegerField("版本")
    digest = models.CharField("内容摘要", max_length=64)
    content = models.TextField("规则文件")
    source = models.CharField("依据", max_length=300)
    effective_from = models.DateField("生效日期")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField("说明", blank=True)

    class Meta:
        verbose_name = "规则版本"
        verbose_name_plural = "规则版本"
        ordering = ["programme", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "version"], name="policy_ruleset_version_uniq"),
            models.UniqueConstraint(fields=["programme", "digest"], name="policy_ruleset_digest_uniq"),
            # Maker-checker: nobody approves what they prepared (a NULL preparer is the bootstrap load).
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | Q(prepared_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="policy_ruleset_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}@{self.version}"

    @property
    def label(self) -> str:
        return f"{self.programme.code}@{self.version}"


class StoredDecision(models.Model):
    """A decision the engine made, with the exact input and the rule version: reproducible forever."""

    programme_code = models.CharField(max_length=40, db_index=True)
    rule_version = models.CharField(max_length=60)
    input = models.JSONField()
    output = models.JSONField()
    eligible = models.BooleanField()
    amount_fen = models.BigIntegerField()
    source = models.CharField(max_length=30, default="api")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "规则判定记录"
        verbose_name_plural = "规则判定记录"
        indexes = [models.Index(fields=["programme_code", "-created_at"], name="policy_decision_recent_idx")]

    def __str__(self) -> str:
        return f"{self.rule_version} {self.amount_fen}"
