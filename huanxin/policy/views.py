"""Public programme pages with a calculator; staff pages for programmes, budgets, rule sets and measures."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.core.domain.money import format_yuan
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.policy import queries, services
from huanxin.policy.domain import InputError
from huanxin.policy.forms import CALCULATORS, BudgetForm, DecisionForm, ReportForm, RuleSetForm
from huanxin.policy.models import Programme, RuleSetVersion


def _programme_or_404(code: str, *, public: bool = False):  # type: ignore[no-untyped-def]
    try:
        return queries.get_programme(code, public=public)
    except NotFoundError:
        raise Http404 from None


def programme_list(request: HttpRequest) -> HttpResponse:
    """What residents can claim: every programme that is open or was open, newest first."""
    summaries = services.describe_programmes(queries.public_programmes())
    return render(
        request,
        "policy/programme_list.html",
        {
            "open": [s for s in summaries if s.programme.status == "open"],
            "closed": [s for s in summaries if s.programme.status == "closed"],
        },
    )


def programme_detail(request: HttpRequest, code: str) -> HttpResponse:
    """What is subsidised, how much, who qualifies, how to take part — and the family's calculator.

    Every figure comes from the published rule version; the calculator posts here and is decided by the
    same service as the API and ``huanxin quote``.
    """
    programme = _programme_or_404(code, public=True)
    [summary] = services.describe_programmes([programme])
    calculator = CALCULATORS.get(programme.family) if summary.rule_set is not None else None
    if request.method == "POST" and calculator is None:
        return HttpResponseNotAllowed(["GET"])
    form = None
    decision = None
    status = 200
    if calculator is not None and summary.rule_set is not None:
        form = calculator(request.POST or None, rule_set=summary.rule_set)
        if request.method == "POST":
            if form.is_valid():
                try:
                    decision = services.quote(programme_code=programme.code, payload=form.payload(), source="web")
                except InputError as error:
                    form.apply_input_error(error)
            if form.errors:
                status = 422
    return render(
        request,
        "policy/programme_detail.html",
        {
            "programme": programme,
            "summary": summary,
            "version": summary.version,
            "categories": summary.categories,
            "steps": queries.how_to_apply(programme),
            "form": form,
            "decision": decision,
        },
        status=status,
    )


def _require_staff(request: HttpRequest) -> None:
    if not queries.is_policy_staff(request.user):
        raise PermissionDenied


def _staff_programme(
    request: AuthenticatedRequest, code: str, may: Callable[[Any, Programme], bool] | None = None
) -> Programme:
    """The programme a staff page works on: policy staff only, 404 for an unknown code, and 403 when ``may``
    says this user's scope does not cover the action on it."""
    _require_staff(request)
    programme: Programme = _programme_or_404(code)
    if may is not None and not may(request.user, programme):
        raise PermissionDenied
    return programme


@login_required
def staff_programmes(request: AuthenticatedRequest) -> HttpResponse:
    _require_staff(request)
    totals = queries.budget_totals_by_programme()
    rows = [(p, totals.get(p.pk, queries.NO_BUDGET)) for p in queries.staff_programmes()]
    return render(request, "policy/staff_programmes.html", {"rows": rows})


@login_required
def staff_programme(request: AuthenticatedRequest, code: str) -> HttpResponse:
    programme = _staff_programme(request, code)
    pools = list(queries.pools_of(programme))
    form = BudgetForm(
        pools={p.district_id: p.allocated_fen for p in pools},
        initial={"total": format_yuan(programme.total_budget_fen, symbol=False, grouping=False)},
    )
    return _render_programme(request, programme, pools, form)


def _render_programme(
    request: AuthenticatedRequest,
    programme: Programme,
    pools: list[queries.DistrictBudget],
    form: BudgetForm,
    *,
    status: int = 200,
) -> HttpResponse:
    """The staff page of one programme: budget by district, the budget form, rule-set versions."""
    return render(
        request,
        "policy/staff_programme.html",
        {
            "programme": programme,
            "pools": pools,
            "totals": queries.budget_totals(pools),
            "versions": queries.versions_of(programme),
            "form": form,
            # Offered only to staff whose scope covers the programme (the services refuse everyone else).
            "can_budget": queries.can_set_budget(request.user, programme),
            "can_status": queries.can_change_settings(request.user, programme),
            "can_prepare": queries.can_prepare_rules(request.user, programme),
        },
        status=status,
    )


@login_required
@require_POST
def set_budget(request: AuthenticatedRequest, code: str) -> HttpResponse:
    programme = _staff_programme(request, code, queries.can_set_budget)
    form = BudgetForm(request.POST)
    if form.is_valid():
        try:
            services.set_budget(
                actor=request.user,
                programme=programme,
                total_fen=form.cleaned_data["total"] or 0,
                allocations=form.allocations(),
            )
        except DomainError as error:
            apply_domain_error(form, error, rename=lambda name: name.replace("allocations.", "d_", 1))
        else:
            messages.success(request, "预算已更新")
            return redirect("policy:staff_programme", code=code)
    return _render_programme(request, programme, queries.pools_of(programme), form, status=422)


@login_required
@require_POST
def set_status(request: AuthenticatedRequest, code: str) -> HttpResponse:
    programme = _staff_programme(request, code, queries.can_change_settings)
    try:
        services.set_programme_status(actor=request.user, programme=programme, status=request.POST.get("status", ""))
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, f"项目状态已改为：{programme.get_status_display()}")
    return redirect("policy:staff_programme", code=code)


@login_required
def version_detail(request: AuthenticatedRequest, code: str, number: int) -> HttpResponse:
    """A rule-set version: its file, the diff against the previous one, and the preview on past inputs."""
    programme = _staff_programme(request, code)
    try:
        version = queries.get_version(programme, number)
    except NotFoundError:
        raise Http404 from None
    previous = queries.previous_version(version)
    diff = list(
        difflib.unified_diff(
            (previous.content if previous else "").splitlines(),
            version.content.splitlines(),
            fromfile=f"第 {previous.version} 版" if previous else "（无）",
            tofile=f"第 {version.version} 版",
            lineterm="",
        )
    )
    can_decide = queries.can_decide_rules(request.user, programme)
    if request.method == "POST" and not can_decide:
        raise PermissionDenied
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.decide_rule_set(
                actor=request.user,
                version=version,
                approve=request.POST.get("decision") == "approve",
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "已处理该规则版本")
            return redirect("policy:version", code=code, number=number)
    preview = services.preview(version) if version.status == RuleSetVersion.Status.PENDING else []
    return render(
        request,
        "policy/version_detail.html",
        {
            "programme": programme,
            "version": version,
            "previous": previous,
            "diff": diff,
            "preview": preview,
            "changed_count": sum(1 for row in preview if row.changed),
            "form": form,
            "can_decide": can_decide
            and version.status == RuleSetVersion.Status.PENDING
            and version.prepared_by_id != request.user.pk,
        },
    )


@login_required
def version_new(request: AuthenticatedRequest, code: str) -> HttpResponse:
    programme = _staff_programme(request, code, queries.can_prepare_rules)
    current = services.published_version(programme.code)
    form = RuleSetForm(request.POST or None, initial={"content": current.content if current else ""})
    if request.method == "POST" and form.is_valid():
        try:
            version = services.prepare_rule_set(
                actor=request.user,
                programme=programme,
                content=form.cleaned_data["content"].replace("\r\n", "\n"),
                note=form.cleaned_data["note"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "已提交，待另一名审核人员审批")
            return redirect("policy:version", code=code, number=version.version)
    return render(request, "policy/version_form.html", {"programme": programme, "form": form})


def measure_list(request: HttpRequest) -> HttpResponse:
    """The plan's 23 measures with lead units and this period's reporting status."""
    statuses = queries.measure_statuses(timezone.localdate())
    areas: dict[str, list[queries.MeasureStatus]] = {}
    for status in statuses:
        areas.setdefault(status.measure.area, []).append(status)
    return render(
        request,
        "policy/measure_list.html",
        {
            "areas": areas,
            "period": statuses[0].period if statuses else None,
            "overdue": sum(1 for s in statuses if s.state == "overdue"),
            "is_staff": queries.is_policy_staff(request.user),
        },
    )


def measure_detail(request: HttpRequest, number: int) -> HttpResponse:
    try:
        measure = queries.get_measure(number)
    except NotFoundError:
        raise Http404 from None
    [status] = queries.measure_statuses(timezone.localdate(), measure=measure)
    my_units = []
    if request.user.is_authenticated:
        # The status already names the measure's units: its lead ("" when it has none) and the others.
        responsible = {*status.other_units, *([status.lead_unit] if status.lead_unit else [])}
        my_units = [u.short_name for u in services.units_of(request.user) if u.short_name in responsible]
    form = ReportForm(
        request.POST or None, units=my_units, targets=measure.targets, initial={"period": status.period.label}
    )
    if request.method == "POST":
        if not my_units:
            raise PermissionDenied
        if form.is_valid():
            from huanxin.policy.models import ResponsibleUnit

            try:
                services.submit_progress_report(
                    actor=request.user,  # type: ignore[arg-type]
                    measure=measure,
                    unit=ResponsibleUnit.objects.get(short_name=form.cleaned_data["unit"]),
                    period=form.cleaned_data["period"],
                    narrative=form.cleaned_data["narrative"],
                    indicators=form.indicators(),
                )
            except DomainError as error:
                apply_domain_error(form, error, rename=lambda name: name.replace("indicators.", "t_", 1))
            else:
                messages.success(request, "进展报告已提交")
                return redirect("policy:measure", number=number)
    reports = measure.reports.select_related("unit", "submitted_by") if queries.is_policy_staff(request.user) else []
    return render(
        request,
        "policy/measure_detail.html",
        {
            "measure": measure,
            "status": status,
            "reports": reports,
            "form": form,
            "my_units": my_units,
            "is_staff": queries.is_policy_staff(request.user),
        },
    )
