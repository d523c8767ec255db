"""Vehicle pages for government staff: the VIN search with the full history, the traffic police import and its
report, the mandatory-scrapping list; for scrapping enterprises: intake, certificates, assemblies, batteries; and
the public certificate check."""

from __future__ import annotations

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation
from huanxin.accounts.services import TryAgainLater
from huanxin.core import ratelimit
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.notices import notify_rows
from huanxin.vehicles import queries, scrapping, services
from huanxin.vehicles.domain.traffic import FIELD_LABELS
from huanxin.vehicles.forms import (
    AssembliesForm,
    BatteryForm,
    IntakeForm,
    RegistrationImportForm,
    RevokeCertificateForm,
    ScrapListForm,
    VinSearchForm,
)

REFUSALS_PER_PAGE = 100
SCRAP_LIST_PER_PAGE = 50
CERTIFICATES_PER_PAGE = 50


def _require_reader(request: AuthenticatedRequest) -> None:
    if not queries.can_read_registry(request.user):
        raise PermissionDenied


@login_required
def search(request: AuthenticatedRequest) -> HttpResponse:
    """Find a vehicle by VIN and show it with its full history. The VIN is sent in the POST body only, so it
    never lands in a URL, a browser history or an access log."""
    _require_reader(request)
    form = VinSearchForm(request.POST or None)
    vehicle = None
    events = []
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                vehicle = queries.get_vehicle_by_vin_for_user(request.user, form.cleaned_data["vin"])
            except NotFoundError as error:
                form.add_error(None, error.detail)
                status = 404
            except DomainError as error:
                apply_domain_error(form, error)
                status = 422
            else:
                events = queries.history(vehicle)
        else:
            status = 422
    return render(
        request,
        "vehicles/search.html",
        {"form": form, "vehicle": vehicle, "events": events, "can_import": queries.can_import(request.user)},
        status=status,
    )


@login_required
def import_registrations(request: AuthenticatedRequest) -> HttpResponse:
    """Upload the traffic police's registration data; the report page follows."""
    if not queries.can_import(request.user):
        raise PermissionDenied
    form = RegistrationImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.import_registrations(
                actor=request.user,
                file_name=upload.name,
                content=upload.read(),
                good_rows_only=form.cleaned_data["good_rows_only"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if report.outcome == "refused":
                text = f"文件有 {report.refused} 行有误，整个文件未导入；请修改后重新导入，或勾选“仍导入无误的行”"
            else:
                text = f"导入完成：新记录 {report.recorded} 条，已有 {report.unchanged} 条，拒绝 {report.refused} 行"
            accepted = report.recorded + report.unchanged if report.outcome == "imported" else 0
            notify_rows(request, text, accepted=accepted, refused=report.refused)
            return redirect("vehicles:import", pk=report.import_id)
    return render(
        request,
        "vehicles/import_form.html",
        {"form": form, "imports": queries.recent_imports(), "columns": FIELD_LABELS},
        status=422 if form.errors else 200,
    )


@login_required
def import_report(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """An import's counts and its refused rows, each with its line, field and reason."""
    try:
        record = queries.get_import_for_user(request.user, pk)
    except NotFoundError:
        raise Http404 from None
    report = services.ImportReport.of(record)
    page = Paginator(report.errors, REFUSALS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "vehicles/import_report.html",
        {"report": report, "page": page, "can_import": queries.can_import(request.user)},
    )


@login_required
def scrapping_list(request: AuthenticatedRequest) -> HttpResponse:
    """Vehicles that must be scrapped or will within a year, by district and type; 国四 operating heavy trucks
    flagged for bj-truck-2024."""
    _require_reader(request)
    form = ScrapListForm(request.GET or None)
    today = timezone.localdate(timezone=services.BEIJING)
    filters = form.cleaned_data if form.is_valid() else {}
    as_of = filters.get("as_of") or today
    district = filters.get("district")
    try:
        entries = list(
            queries.scrap_list_for_user(
                request.user,
                as_of=as_of,
                district=district.code if district else "",
                vehicle_type=filters.get("vehicle_type") or "",
                bj_truck_only=bool(filters.get("bj_truck_only")),
            )
        )
    except DomainError as error:
        apply_domain_error(form, error)
        entries = []
    page = Paginator(entries, SCRAP_LIST_PER_PAGE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "vehicles/scrapping_list.html",
        {
            "form": form,
            "as_of": as_of,
            "summary": queries.summarise(entries),
            "count": len(entries),
            "page": page,
            "extra_query": kept.urlencode() + "&" if kept else "",
        },
        status=200 if not form.errors else 422,
    )


# ---------------------------------------------------------------- scrapping enterprises


def _enterprise(request: AuthenticatedRequest) -> Organisation:
    """The scrapping enterprise the page acts for: the one chosen (``org``), else the user's first; staff of
    none are refused."""
    mine = list(queries.scrapping_enterprises_of(request.user))
    if not mine:
        raise PermissionDenied
    wanted = request.POST.get("org") or request.GET.get("org") or ""
    return next((o for o in mine if str(o.pk) == wanted), mine[0])


@login_required
def certificates(request: AuthenticatedRequest) -> HttpResponse:
    """The scrapping enterprise's intake: record a vehicle by VIN and issue its 报废机动车回收证明; the
    certificates issued so far."""
    enterprise = _enterprise(request)
    form = IntakeForm(request.POST or None)
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        try:
            certificate = scrapping.issue_certificate(
                actor=request.user,
                enterprise=enterprise,
                vin=form.cleaned_data["vin"],
                owner_id_number=form.cleaned_data["owner_id_number"],
                intake_on=form.cleaned_data["intake_on"],
            )
        except TryAgainLater as error:
            apply_domain_error(form, error)
            retry_after = error.retry_after
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"已开具报废机动车回收证明 {certificate.number}")
            return redirect("vehicles:certificate", pk=certificate.pk)
    page = Paginator(queries.certificates_of(enterprise), CERTIFICATES_PER_PAGE).get_page(request.GET.get("page"))
    response = render(
        request,
        "vehicles/certificates.html",
        {
            "form": form,
            "enterprise": enterprise,
            "enterprises": queries.scrapping_enterprises_of(request.user),
            "page": page,
        },
        status=429 if retry_after else 422 if form.errors else 200,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _certificate_page(
    request: AuthenticatedRequest,
    enterprise: Organisation,
    pk: int,
    *,
    assemblies_form: AssembliesForm | None = None,
    battery_form: BatteryForm | None = None,
    revoke_form: RevokeCertificateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        certificate = queries.get_certificate_of(enterprise, pk)
    except NotFoundError:
        raise Http404 from None
    link = queries.check_url(certificate.number)
    today = timezone.localdate(timezone=services.BEIJING)
    recyclers = [(o.pk, o.name) for o in queries.battery_recyclers(today)]
    return render(
        request,
        "vehicles/certificate.html",
        {
            "certificate": certificate,
            "enterprise": enterprise,
            "check_url": link,
            "qr_svg": segno.make(link, error="m").svg_inline(scale=5, dark="#1f2328", omitsize=True),
            "assemblies": queries.assemblies_of(certificate),
            "batteries": queries.batteries_of(certificate),
            "assemblies_form": assemblies_form or AssembliesForm(),
            "battery_form": battery_form or BatteryForm(recyclers=recyclers),
            "revoke_form": revoke_form or RevokeCertificateForm(),
        },
        status=status,
    )


@login_required
def certificate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """One certificate with its QR code (to the public check page), its assemblies and its batteries."""
    return _certificate_page(request, _enterprise(request), pk)


@login_required
@require_POST
def record_assemblies(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Record where the five major assemblies went."""
    enterprise = _enterprise(request)
    form = AssembliesForm(request.POST)
    if form.is_valid():
        try:
            scrapping.record_assemblies(
                actor=request.user, enterprise=enterprise, certificate_id=pk, assemblies=form.assemblies()
            )
        except NotFoundError:
            raise Http404 from None
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "已记录五大总成去向")
            return redirect("vehicles:certificate", pk=pk)
    return _certificate_page(request, enterprise, pk, assemblies_form=form, status=422)


@login_required
@require_POST
def hand_over_battery(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Record a new-energy vehicle's traction battery by its GB/T 34014 code and hand it to a battery recycler."""
    enterprise = _enterprise(request)
    today = timezone.localdate(timezone=services.BEIJING)
    form = BatteryForm(request.POST, recyclers=[(o.pk, o.name) for o in queries.battery_recyclers(today)])
    if form.is_valid():
        try:
            battery = scrapping.hand_over_battery(
                actor=request.user,
                enterprise=enterprise,
                certificate_id=pk,
                battery_code=form.cleaned_data["battery_code"],
                recycler_id=int(form.cleaned_data["recycler"]),
            )
        except NotFoundError:
            raise Http404 from None
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"动力蓄电池 {battery.code} 已移交 {battery.recycler.name}，追溯码已生成")
            return redirect("vehicles:certificate", pk=pk)
    return _certificate_page(request, enterprise, pk, battery_form=form, status=422)


@login_required
@require_POST
def revoke_certificate(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """作废 a certificate the enterprise issued in error; the vehicle is in use again."""
    enterprise = _enterprise(request)
    form = RevokeCertificateForm(request.POST)
    if form.is_valid():
        try:
            certificate = scrapping.revoke_certificate(
                actor=request.user,
                enterprise=enterprise,
                certificate_id=pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except NotFoundError:
            raise Http404 from None
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"报废机动车回收证明 {certificate.number} 已作废，车辆恢复在用")
            return redirect("vehicles:certificate", pk=pk)
    return _certificate_page(request, enterprise, pk, revoke_form=form, status=422)


# ---------------------------------------------------------------- the public check


def _check_refused(request: HttpRequest, number: str) -> HttpResponse | None:
    """The page a client gets once it has used up its public checks for the hour (429), or None."""
    try:
        scrapping.count_public_check(ratelimit.client_ip(request))
    except DomainError as refused:
        response = render(
            request,
            "vehicles/certificate_check.html",
            {"certificate": None, "number": number[:40], "searched": False, "refusal": refused.detail},
            status=refused.status,
        )
        retry_after = getattr(refused, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    return None


def certificate_check_search(request: HttpRequest) -> HttpResponse:
    """Public: type a certificate number to check it."""
    number = request.GET.get("number", "")
    if number:
        refused = _check_refused(request, number)
        if refused is not None:
            return refused
        found = queries.public_certificate(number)
        if found is not None:
            return redirect("vehicles:certificate_check", number=found.number)
    return render(
        request,
        "vehicles/certificate_check.html",
        {"certificate": None, "number": number[:40], "searched": bool(number)},
        status=404 if number else 200,
    )


def certificate_check(request: HttpRequest, number: str) -> HttpResponse:
    """Public, no sign-in (the QR code on the certificate lands here): the number, the VIN partly masked, the
    vehicle type, the enterprise, the date and whether the certificate is valid — never the owner."""
    refused = _check_refused(request, number)
    if refused is not None:
        return refused
    found = queries.public_certificate(number)
    return render(
        request,
        "vehicles/certificate_check.html",
        {"certificate": found, "number": number[:40], "searched": True},
        status=200 if found else 404,
    )
