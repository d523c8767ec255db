"""The read side of policy: programme listings, budgets, measure status against the reporting calendar."""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from huanxin.accounts.roles import BUDGET_HOLDERS, GOVERNMENT_STAFF, PROGRAMME_SETTERS, RULE_EDITORS
from huanxin.core.domain.workdays import add_working_days
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import districts_for, has_role
from huanxin.policy.models import BudgetPool, Measure, MeasureUnit, Programme, ProgressReport, RuleSetVersion

# Monthly reports on the measures are due by this working day of the following month.
REPORT_DUE_WORKING_DAY = 10


def is_policy_staff(user: Any) -> bool:
    return has_role(user, *GOVERNMENT_STAFF)


# Who acts on a programme's rules, budget and settings: RULE_EDITORS, BUDGET_HOLDERS and PROGRAMME_SETTERS.
# A district-limited grant of these roles reads the programme but never changes it (see covers_programme).


def covers_programme(user: Any, programme: Programme, *roles: str) -> bool:
    """Whether ``user`` holds one of ``roles`` with a scope covering the whole of ``programme``.

    Every programme is city-wide: one rule set decides in all districts and its budget is split across all of
    them, so only a grant without a district limit covers it. A district reviewer's scope is its district.
    """
    del programme  # programmes carry no district of their own; the check takes one so callers never guess
    return bool(roles) and has_role(user, *roles) and districts_for(user, *roles) is None


def can_prepare_rules(user: Any, programme: Programme) -> bool:
    """Propose a new rule-set version of the programme (a second person still has to approve it)."""
    return covers_programme(user, programme, *RULE_EDITORS)


def can_decide_rules(user: Any, programme: Programme) -> bool:
    """Approve (publish) or reject a pending version, not counting the four-eyes rule on one's own version."""
    return covers_programme(user, programme, *RULE_EDITORS)


def can_set_budget(user: Any, programme: Programme) -> bool:
    """Allocate the programme's budget to districts or move it between them."""
    return covers_programme(user, programme, *BUDGET_HOLDERS)


def can_change_settings(user: Any, programme: Programme) -> bool:
    """Change the programme's settings: open it or close it."""
    return covers_programme(user, programme, *PROGRAMME_SETTERS)


def public_programmes() -> QuerySet[Programme]:
    """Programmes a resident may read about: every one that is not a draft."""
    return (
        Programme.objects.exclude(status=Programme.Status.DRAFT)
        .select_related("measure")
        .order_by("-starts_on", "code")
    )


def staff_programmes() -> QuerySet[Programme]:
    return (
        Programme.objects.select_related("measure")
        .annotate(pending_versions=Count("rule_sets", filter=Q(rule_sets__status=RuleSetVersion.Status.PENDING)))
        .order_by("code")
    )


def get_programme(code: str, *, public: bool = False) -> Programme:
    queryset = public_programmes() if public else Programme.objects.select_related("measure")
    programme = queryset.filter(code=code).first()
    if programme is None:
        raise NotFoundError("补贴项目不存在", code="unknown_programme")
    return programme


@dataclass(frozen=True)
class DistrictBudget:
    """A district's budget, summed over its slices."""

    district_id: str
    district_name: str
    allocated_fen: int
    held_fen: int
    spent_fen: int
    available_fen: int
    slices: int


def pools_of(programme: Programme) -> list[DistrictBudget]:
    """Per-district budget of a programme (its slices added up), in the districts' usual order."""
    rows = (
        BudgetPool.objects.filter(programme=programme)
        .values("district_id", "district__name", "district__sort_order")
        .annotate(
            allocated=Sum("allocated_fen"),
            held=Sum("held_fen"),
            spent=Sum("spent_fen"),
            available=Sum("available_fen"),
            slices=Count("pk"),
        )
        .order_by("district__sort_order")
    )
    return [
        DistrictBudget(
            r["district_id"], r["district__name"], r["allocated"], r["held"], r["spent"], r["available"], r["slices"]
        )
        for r in rows
    ]


def budget_totals(pools: Sequence[DistrictBudget]) -> dict[str, int]:
    """Allocated, held, spent and available over all districts, added up from ``pools_of``'s rows."""
    # pools_of has already summed every slice per district, so adding the districts gives the programme.
    return {
        "allocated": sum(p.allocated_fen for p in pools),
        "held": sum(p.held_fen for p in pools),
        "spent": sum(p.spent_fen for p in pools),
        "available": sum(p.available_fen for p in pools),
    }


NO_BUDGET = {"allocated": 0, "held": 0, "spent": 0, "available": 0}


def budget_totals_by_programme() -> dict[int, dict[str, int]]:
    """Allocated, held, spent and available per programme in one grouped query; a programme without pools
    is absent (its totals are ``NO_BUDGET``)."""
    rows = (
        BudgetPool.objects.values("programme_id")
        .annotate(
            allocated=Sum("allocated_fen"), held=Sum("held_fen"), spent=Sum("spent_fen"), available=Sum("available_fen")
        )
        .order_by()  # BudgetPool's default ordering would otherwise split the groups
    )
    return {
        row["programme_id"]: {
            "allocated": row["allocated"],
            "held": row["held"],
            "spent": row["spent"],
            "available": row["available"],
        }
        for row in rows
    }


def versions_of(programme: Programme) -> QuerySet[RuleSetVersion]:
    return (
        RuleSetVersion.objects.filter(programme=programme)
        .select_related("prepared_by", "approved_by")
        .order_by("-version")
    )


def get_version(programme: Programme, number: int) -> RuleSetVersion:
    version = versions_of(programme).filter(version=number).first()
    if version is None:
        raise NotFoundError("规则版本不存在", code="ruleset_not_found")
    return version


def previous_version(version: RuleSetVersion) -> RuleSetVersion | None:
    return (
        RuleSetVersion.objects.filter(programme_id=version.programme_id, version__lt=version.version)
        .order_by("-version")
        .first()
    )


# ---------------------------------------------------------------- how to apply

HOW_TO_APPLY_FILE = Path(__file__).resolve().parent / "data" / "how_to_apply.toml"


@lru_cache(maxsize=1)
def _how_to_apply() -> dict[str, Any]:
    return tomllib.loads(HOW_TO_APPLY_FILE.read_text(encoding="utf-8"))


def how_to_apply(programme: Programme) -> list[str]:
    """The steps to take part in ``programme``: its own where it has them, else its rule family's."""
    data = _how_to_apply()
    own = data.get("programmes", {}).get(programme.code)
    if own is not None:
        return list(own["steps"])
    return list(data.get("families", {}).get(programme.family, {}).get("steps", []))


# ---------------------------------------------------------------- measures


@dataclass(frozen=True)
class ReportingPeriod:
    """The month being reported on and the day its reports are due."""

    label: str
    due_on: datetime.date


def reporting_period(today: datetime.date) -> ReportingPeriod:
    """Reports cover the previous month and are due on the 10th working day of this one."""
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - datetime.timedelta(days=1)
    due = add_working_days(last_month_end, REPORT_DUE_WORKING_DAY)
    return ReportingPeriod(label=f"{last_month_end:%Y-%m}", due_on=due)


@dataclass(frozen=True)
class MeasureStatus:
    measure: Measure
    lead_unit: str
    other_units: list[str]
    period: ReportingPeriod
    reports_in_period: int
    last_report: ProgressReport | None
    today: datetime.date

    @property
    def state(self) -> str:
        if self.reports_in_period:
            return "reported"
        return "overdue" if self.today > self.period.due_on else "due"

    @property
    def state_label(self) -> str:
        return {"reported": "已报告", "overdue": "逾期未报", "due": "待报告"}[self.state]


def measure_statuses(today: datetime.date, measure: Measure | None = None) -> list[MeasureStatus]:
    """All measures (or just ``measure``) with their units, the current reporting period and whether it has
    been reported."""
    period = reporting_period(today)
    measures = (
        Measure.objects.prefetch_related(
            Prefetch("unit_links", queryset=MeasureUnit.objects.select_related("unit").order_by("position")),
        )
        .annotate(reports_in_period=Count("reports", filter=Q(reports__period=period.label)))
        .order_by("number")
    )
    reports = ProgressReport.objects.select_related("unit").order_by("measure_id", "-period", "-submitted_at")
    if measure is not None:
        measures = measures.filter(pk=measure.pk)
        reports = reports.filter(measure=measure)
    latest: dict[int, ProgressReport] = {}
    for report in reports:
        latest.setdefault(report.measure_id, report)
    statuses = []
    for each in measures:
        links = list(each.unit_links.all())
        status = MeasureStatus(
            measure=each,
            lead_unit=next((link.unit.short_name for link in links if link.is_lead), ""),
            other_units=[link.unit.short_name for link in links if not link.is_lead],
            period=period,
            reports_in_period=each.reports_in_period,
            last_report=latest.get(each.pk),
            today=today,
        )
        statuses.append(status)
    return statuses


def get_measure(number: int) -> Measure:
    measure = Measure.objects.filter(number=number).first()
    if measure is None:
        raise NotFoundError("措施不存在", code="measure_not_found")
    return measure
