from django.contrib import admin

from huanxin.core.admin_support import ReadOnlyAdminMixin
from huanxin.policy.models import BudgetPool, Measure, Programme, ProgressReport, RuleSetVersion, StoredDecision


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Measure]):
    list_display = ("number", "title", "area")


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Programme]):
    list_display = ("code", "name", "status", "total_budget_fen")


@admin.register(BudgetPool)
class BudgetPoolAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[BudgetPool]):
    list_display = ("programme", "district", "allocated_fen", "held_fen", "spent_fen", "available_fen")


@admin.register(RuleSetVersion)
class RuleSetVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RuleSetVersion]):
    list_display = ("programme", "version", "status", "effective_from", "prepared_by", "approved_by")


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[ProgressReport]):
    list_display = ("measure", "unit", "period", "submitted_at")


@admin.register(StoredDecision)
class StoredDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[StoredDecision]):
    list_display = ("created_at", "rule_version", "eligible", "amount_fen", "source")
