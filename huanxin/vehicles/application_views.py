"""Car application pages: residents apply on a phone, upload and follow the clock; reviewers work a queue sorted
by deadline with every check's result and the evidence. Every write goes through application_services."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import RULE_EDITORS, TRUCK_APPLICANTS
from huanxin.core.errors import DomainError, ForbiddenError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import districts_for, organisations_for
from huanxin.vehicles import application_queries as queries
from huanxin.vehicles import application_services as services
from huanxin.vehicles import clock_flags, topups
from huanxin.vehicles.application_api import evidence_response
from huanxin.vehicles.application_forms import (
    CarApplicationForm,
    ConfirmForm,
    DecisionForm,
    EvidenceForm,
    PrepareForm,
    ReconsiderationForm,
    SupplementForm,
    TruckApplicationForm,
)
from huanxin.vehicles.application_models import CarApplication
from huanxin.vehicles.domain.applications import RESULT_NAMES

DETAIL = "vehicles/applications/detail.html"


def _application(request: AuthenticatedRequest, pk: int, *, act_as: str = "") -> CarApplication:
    """The application if the user may see it (else 404); with ``act_as`` also if they may act on it in that
    capacity (a reviewer of its district; its applicant; its applicant or preparer), else 403."""
    try:
        application = queries.get_application_for_user(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    user = request.user
    is_applicant = queries.is_applicant(user, application)
    allowed = {
        "": True,
        "reviewer": not is_applicant and services.is_reviewer_for(user, application),
        "applicant": is_applicant,
        "uploader": is_applicant or application.prepared_by_id == user.pk,
    }[act_as]
    if not allowed:
        raise PermissionDenied
    return application


@login_required
def my_applications(request: AuthenticatedRequest) -> HttpResponse:
    rows = [(a, queries.clock(a)) for a in queries.own_applications(request.user)]
    return render(request, "vehicles/applications/mine.html", {"rows": rows})


@login_required
def apply(request: AuthenticatedRequest) -> HttpResponse:
    try:
        services.applicant_person(request.user)
    except DomainError:
        raise PermissionDenied from None
    form = CarApplicationForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = services.submit_application(
                    actor=request.user,
                    programme_code=data["programme_code"],
                    old_vin=data["old_vin"],
                    new_vin=data["new_vin"],
                    certificate_number=data["certificate_number"],
                    transfer_invoice_number=data["transfer_invoice_number"],
                    new_invoice_number=data["new_invoice_number"],
                    new_price_fen=int(data["new_price_yuan"] * Decimal(100)),
                    new_energy=data["new_energy"],
                    new_model_code=data["new_model_code"],
                    new_displacement_ml=data["new_displacement_ml"] or 0,
                    bank_name=data["bank_name"],
                    account_number=data["account_number"],
                )
            except DomainError as error:
                apply_domain_error(form, error)
                status = 422
            else:
                messages.success(request, f"申请已提交，编号 {application.number}。请上传申请材料。")
                return redirect("vehicles:application", application.pk)
        else:
            status = 422
    return render(request, "vehicles/applications/apply.html", {"form": form}, status=status)


def _truck_organisation(request: AuthenticatedRequest) -> Organisation:
    """The enterprise the page acts for: the one named (a form's or the query's organisation_id) if the user
    applies for it, else their first."""
    requested = request.POST.get("organisation_id") or request.GET.get("organisation_id")
    try:
        return acting_organisation(
            request,
            roles=TRUCK_APPLICANTS,
            kinds=services.TRUCK_APPLICANT_KINDS,
            requested=requested,
            first_by_default=True,
        )
    except DomainError:
        raise PermissionDenied from None


def _truck_organisations(request: AuthenticatedRequest) -> list[tuple[int, str]]:
    organisations = Organisation.objects.filter(
        pk__in=organisations_for(request.user, *TRUCK_APPLICANTS), kind__in=services.TRUCK_APPLICANT_KINDS
    ).order_by("pk")
    return [(o.pk, o.name) for o in organisations]


# The service's field names that the truck form names otherwise.
_TRUCK_FORM_FIELDS = {"new_truck_price_fen": "new_price_yuan"}


@login_required
def truck_applications(request: AuthenticatedRequest) -> HttpResponse:
    """An enterprise's operating-truck renewal applications (bj-truck-2024), for its declarants."""
    organisation = _truck_organisation(request)
    rows = [(a, queries.clock(a)) for a in queries.organisation_applications(organisation.pk)]
    return render(
        request,
        "vehicles/applications/trucks.html",
        {"rows": rows, "organisation": organisation, "organisations": _truck_organisations(request)},
    )


@login_required
def truck_apply(request: AuthenticatedRequest) -> HttpResponse:
    """An enterprise's declarant applies for bj-truck-2024 for the enterprise that owns the trucks."""
    organisation = _truck_organisation(request)
    form = TruckApplicationForm(
        request.POST or None,
        organisations=_truck_organisations(request),
        initial={"organisation_id": organisation.pk},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            price = data["new_price_yuan"]
            try:
                application = services.submit_truck_application(
                    actor=request.user,
                    organisation=organisation,
                    old_vin=data["old_vin"],
                    certificate_number=data["certificate_number"],
                    new_vin=data["new_vin"],
                    new_energy=data["new_energy"],
                    new_weight_class=data["new_weight_class"],
                    new_refrigerated=data["new_refrigerated"],
                    new_invoice_number=data["new_invoice_number"],
                    new_price_fen=int(price * Decimal(100)) if price is not None else 0,
                    bank_name=data["bank_name"],
                    account_number=data["account_number"],
                )
            except ForbiddenError:
                raise PermissionDenied from None
            except DomainError as error:
                apply_domain_error(form, error, rename=lambda f: _TRUCK_FORM_FIELDS.get(f, f))
                status = 422
            else:
                messages.success(request, f"申请已提交，编号 {application.number}。请上传申请材料。")
                return redirect("vehicles:application", application.pk)
        else:
            status = 422
    return render(
        request, "vehicles/applications/truck_apply.html", {"form": form, "organisation": organisation}, status=status
    )


def _context(request: AuthenticatedRequest, application: CarApplication, **forms: Any) -> dict[str, Any]:
    user = request.user
    is_applicant = queries.is_applicant(user, application)
    reviewer = not is_applicant and services.is_reviewer_for(user, application)
    clock = queries.clock(application)
    return {
        "application": application,
        "clock": clock,
        "steps": application.steps.all(),
        "evidence": application.evidence.all(),
        "checks": [{**c, "result_name": RESULT_NAMES.get(c["result"], c["result"])} for c in application.checks],
        "is_applicant": is_applicant,
        "is_reviewer": reviewer,
        "can_upload": is_applicant and application.status in services.OPEN_FOR_EVIDENCE,
        "evidence_form": forms.get("evidence_form") or EvidenceForm(),
        "supplement_form": forms.get("supplement_form") or SupplementForm(),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "reconsideration_form": forms.get("reconsideration_form") or ReconsiderationForm(),
        "confirm_form": forms.get("confirm_form") or ConfirmForm(),
        "account_form": forms.get("account_form") or ConfirmForm(),
    }


@login_required
def application_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    application = _application(request, pk)
    return render(request, DETAIL, _context(request, application))


@login_required
def evidence_download(request: AuthenticatedRequest, pk: int, evidence_id: int) -> HttpResponse:
    try:
        evidence = queries.get_evidence_for_user(request.user, pk, evidence_id)
    except NotFoundError:
        raise Http404 from None
    return evidence_response(evidence)


def _redo(request: AuthenticatedRequest, application: CarApplication, error: DomainError, **forms: Any) -> HttpResponse:
    for form in forms.values():
        apply_domain_error(form, error)
    if not forms:
        messages.error(request, error.first_message)
        return redirect("vehicles:application", application.pk)
    status = 403 if isinstance(error, ForbiddenError) else 422
    return render(request, DETAIL, _context(request, application, **forms), status=status)


def _act(
    request: AuthenticatedRequest,
    pk: int,
    *,
    act_as: str,
    verb: Callable[[CarApplication, dict[str, Any]], object],
    done: str,
    form: tuple[str, forms.Form] | None = None,
) -> HttpResponse:
    """One application verb from its page: who may act (see :func:`_application`), the form checked (its errors
    shown on the application page, 422), the service called, its refusal shown on the form or as a message, and
    back to the application with ``done``."""
    application = _application(request, pk, act_as=act_as)
    shown = dict([form]) if form else {}
    if form and not form[1].is_valid():
        return render(request, DETAIL, _context(request, application, **shown), status=422)
    try:
        verb(application, form[1].cleaned_data if form else {})
    except DomainError as error:
        return _redo(request, application, error, **shown)
    messages.success(request, done)
    return redirect("vehicles:application", application.pk)


@login_required
@require_POST
def upload(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    limit = services.max_evidence_bytes()

    def verb(application: CarApplication, data: dict[str, Any]) -> object:
        upload_file = data["file"]
        return services.add_evidence(
            actor=request.user,
            application=application,
            kind=data["kind"],
            file_name=upload_file.name or "",
            declared_type=upload_file.content_type or "",
            content=upload_file.read(limit + 1),
        )

    form = EvidenceForm(request.POST, request.FILES)
    return _act(request, pk, act_as="uploader", verb=verb, done="材料已上传", form=("evidence_form", form))


@login_required
@require_POST
def accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        act_as="reviewer",
        verb=lambda application, _: services.accept(actor=request.user, application=application),
        done="已受理",
    )


@login_required
@require_POST
def supplement(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        act_as="reviewer",
        verb=lambda application, data: services.request_supplement(
            actor=request.user, application=application, note=data["note"], due_on=data["due_on"]
        ),
        done="已通知申请人补正材料，办理时限暂停",
        form=("supplement_form", SupplementForm(request.POST)),
    )


@login_required
@require_POST
def supplied(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        act_as="applicant",
        verb=lambda application, _: services.supply(actor=request.user, application=application),
        done="补正材料已提交，办理时限继续计算",
    )


@login_required
@require_POST
def decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    def verb(application: CarApplication, data: dict[str, Any]) -> object:
        kind, _, reason = data["decision"].partition(":")
        return services.decide(
            actor=request.user,
            application=application,
            approve=kind == "approve",
            reason_code=reason,
            note=data["note"],
        )

    return _act(
        request,
        pk,
        act_as="reviewer",
        verb=verb,
        done="已作出决定，申请人将收到短信通知",
        form=("decision_form", DecisionForm(request.POST)),
    )


@login_required
@require_POST
def reconsider(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        act_as="applicant",
        verb=lambda application, data: services.request_reconsideration(
            actor=request.user, application=application, note=data["note"]
        ),
        done="已申请复核，将由其他审核人员办理",
        form=("reconsideration_form", ReconsiderationForm(request.POST)),
    )


@login_required
def review_queue(request: AuthenticatedRequest) -> HttpResponse:
    if not queries.is_reviewer(request.user):
        raise PermissionDenied
    rows = queries.review_queue(request.user)
    missing = sorted({year for _, clock in rows for year in clock.uncovered_years})
    can_top_up = districts_for(request.user, *RULE_EDITORS) is None  # city-wide reviewers (see vehicles.topups)
    marks = clock_flags.open_marks(a.pk for a, _ in rows)
    return render(
        request,
        "vehicles/applications/queue.html",
        {
            "rows": [(a, clock, marks.get(a.pk, "")) for a, clock in rows],
            "missing_years": missing,
            "can_top_up": can_top_up,
        },
    )


@login_required
def prepare(request: AuthenticatedRequest) -> HttpResponse:
    """一站式: a dealer or scrapping enterprise prepares a resident's application; the resident confirms it."""
    if not services.can_prepare(request.user):
        raise PermissionDenied
    form = PrepareForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                application = services.prepare_application(
                    actor=request.user,
                    resident_id=data["resident_id"],
                    consent_note=data["consent_note"],
                    programme_code=data["programme_code"],
                    old_vin=data["old_vin"],
                    new_vin=data["new_vin"],
                    certificate_number=data["certificate_number"],
                    transfer_invoice_number=data["transfer_invoice_number"],
                    new_invoice_number=data["new_invoice_number"],
                    new_price_fen=int(data["new_price_yuan"] * Decimal(100)),
                    new_energy=data["new_energy"],
                    new_model_code=data["new_model_code"],
                    new_displacement_ml=data["new_displacement_ml"] or 0,
                )
            except ForbiddenError:
                raise PermissionDenied from None
            except DomainError as error:
                apply_domain_error(form, error)
                status = 422
            else:
                messages.success(request, f"已代办申请 {application.number}，请提醒申请人登录平台确认")
                return redirect("vehicles:application", application.pk)
        else:
            status = 422
    return render(request, "vehicles/applications/prepare.html", {"form": form}, status=status)


@login_required
@require_POST
def confirm(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        act_as="applicant",
        verb=lambda application, data: services.confirm_application(
            actor=request.user,
            application=application,
            bank_name=data["bank_name"],
            account_number=data["account_number"],
        ),
        done="申请已确认提交",
        form=("confirm_form", ConfirmForm(request.POST)),
    )


@login_required
@require_POST
def correct_account(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """After the bank refused the payment, the applicant gives the account to pay instead."""
    return _act(
        request,
        pk,
        act_as="applicant",
        verb=lambda application, data: services.correct_account(
            actor=request.user,
            application=application,
            bank_name=data["bank_name"],
            account_number=data["account_number"],
        ),
        done="收款账户已更正，补贴将在下一批次重新拨付",
        form=("account_form", ConfirmForm(request.POST)),
    )


@login_required
def top_ups(request: AuthenticatedRequest) -> HttpResponse:
    """Retroactive top-ups: the car rule versions effective in the past that owe decided applications more, and
    the lists prepared from them; one city-wide reviewer prepares a list, another approves (and so pays) it."""
    try:
        topups.require_city_wide(request.user)
    except ForbiddenError:
        raise PermissionDenied from None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                run = topups.top_up_run(_int(request.POST.get("run")))
                if run is None:
                    raise NotFoundError("没有该补差清单", code="top_up_run_not_found")
                topups.approve_top_ups(actor=request.user, run=run)
                messages.success(request, "补差清单已审批，补差款已交结算支付")
            else:
                version = topups.car_rule_version(_int(request.POST.get("version")))
                if version is None:
                    raise NotFoundError("没有该汽车补贴规则版本", code="rule_version_not_found")
                topups.prepare_top_ups(actor=request.user, version=version)
                messages.success(request, "补差清单已列出，待另一名审核人员审批")
        except DomainError as refused:
            messages.error(request, refused.detail)
        return redirect("vehicles:top_ups")
    # Only the page shows what every version owes: a POST acts on one version or list and recomputes nothing else.
    owing = topups.versions_owing(request.user)
    runs = topups.runs_for(request.user)
    rows = [(version, len(owed), sum(o.delta_fen for o in owed)) for version, owed in owing]
    return render(request, "vehicles/applications/top_ups.html", {"owing": rows, "runs": runs})


def _int(value: str | None) -> int:
    """A form's id field: digits only and within 64 bits, else 0 (which names nothing)."""
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 18 else 0
