"""Vehicle pages for government staff: the VIN search with the full history, the traffic police import and its
report, the mandatory-scrapping list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.notices import notify_rows
from huanxin.vehicles import queries, services
from huanxin.vehicles.domain.traffic import FIELD_LABELS
from huanxin.vehicles.forms import RegistrationImportForm, ScrapListForm, VinSearchForm

REFUSALS_PER_PAGE = 100
SCRAP_LIST_PER_PAGE = 50


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
