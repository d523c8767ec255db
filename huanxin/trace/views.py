"""Pages: the public verification page, the recycler/dismantler/merchant workspace, staff search."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import has_role, organisations_for
from huanxin.trace import integrity, labels, services
from huanxin.trace.domain.rules import KINDS, TERMINAL
from huanxin.trace.forms import EventForm, PickupForm, ScanForm
from huanxin.trace.models import Checkpoint, TraceFlag, TraceItem


def verify_page(request: HttpRequest, code: str) -> HttpResponse:
    """Public: where this old appliance went, whether its record is intact, and the signed proofs."""
    try:
        item = services.get_item(code)
    except NotFoundError:
        return render(request, "trace/verify_missing.html", {"code": code}, status=404)
    check = integrity.verify_item(item)
    return render(
        request,
        "trace/verify.html",
        {
            "item": item,
            "check": check,
            "history": check.entries,
            "kinds": KINDS,
            "link": services.digital_link(item.code),
        },
    )


def resolve_digital_link(request: HttpRequest, giai: str) -> HttpResponse:
    """A scanned label's Digital Link path (/8004/<GIAI>) lands on the verification page."""
    return redirect("trace:verify", code=services.code_from_link(giai))


def public_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(integrity.public_key_pem(), content_type="text/plain; charset=utf-8")


def _organisation(request: AuthenticatedRequest) -> Organisation:
    mine = sorted(organisations_for(request.user, *services.TRACE_ROLES))
    if not mine:
        raise PermissionDenied
    wanted = request.GET.get("org") or request.POST.get("org") or ""
    return Organisation.objects.get(pk=int(wanted) if wanted.isdigit() and int(wanted) in mine else mine[0])


def _allowed_kinds(item: TraceItem | None, organisation: Organisation) -> list[tuple[str, str]]:
    if item is None or item.state in TERMINAL:
        return []
    if item.state == "in_transit":
        return [("receive", KINDS["receive"].label)] if item.destination_id == organisation.pk else []
    if item.holder_id != organisation.pk:
        return []
    kinds = [("ship", KINDS["ship"].label)]
    if organisation.kind == OrganisationKind.RECYCLER:
        kinds.append(("collect", KINDS["collect"].label))
    if organisation.kind in (OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER):
        kinds.append(("dismantle", KINDS["dismantle"].label))
    kinds.append(("destroy", KINDS["destroy"].label))
    return kinds


@login_required
def workspace(request: AuthenticatedRequest) -> HttpResponse:
    """Scan a code and record its next event; see what the organisation holds; merchants give codes."""
    organisation = _organisation(request)
    scan = ScanForm(request.GET or None)
    item = None
    if scan.is_valid():
        try:
            item = services.get_item(scan.cleaned_data["code"])
        except NotFoundError:
            scan.add_error("code", "追溯码不存在")
    destinations = [
        (o.pk, o.name)
        for o in Organisation.objects.filter(
            kind__in=[OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER]
        )
        .exclude(pk=organisation.pk)
        .order_by("kind", "name")
    ]
    event_form = EventForm(request.POST or None, kinds=_allowed_kinds(item, organisation), destinations=destinations)
    if request.method == "POST" and request.POST.get("form") == "event":
        try:
            item = services.get_item(request.POST.get("code", ""))
        except NotFoundError:
            raise Http404 from None
        event_form = EventForm(request.POST, kinds=_allowed_kinds(item, organisation), destinations=destinations)
        if event_form.is_valid():
            kind = event_form.cleaned_data["kind"]
            destination = Organisation.objects.filter(pk=event_form.cleaned_data["destination"] or 0).first()
            try:
                services.record_one(
                    actor=request.user,
                    organisation=organisation,
                    data=services.EventInput(
                        kind, [item.code], timezone.now(), destination=destination, outputs_g=event_form.outputs_g()
                    ),
                )
            except DomainError as error:
                # Only the destination is a field of this form; the rest (outputs, codes, …) goes on top.
                apply_domain_error(event_form, error, rename=lambda name: name if name == "destination" else "")
            else:
                messages.success(request, f"已记录：{KINDS[kind].label}")
                return redirect(f"{request.path}?org={organisation.pk}&code={item.code}")
    holdings = (
        TraceItem.objects.filter(Q(holder=organisation) | Q(destination=organisation))
        .exclude(state__in=TERMINAL)
        .select_related("holder", "destination")
        .order_by("-updated_at")[:200]
    )
    pending = (
        list(services.pending_take_backs(organisation)[:100]) if organisation.kind == OrganisationKind.MERCHANT else []
    )
    return render(
        request,
        "trace/workspace.html",
        {
            "organisation": organisation,
            "scan": scan,
            "item": item,
            "event_form": event_form,
            "history": services.item_history(item) if item else [],
            "holdings": holdings,
            "pending": pending,
            "pickup_form": PickupForm() if organisation.kind == OrganisationKind.RECYCLER else None,
        },
    )


@login_required
@require_POST
def commission(request: AuthenticatedRequest) -> HttpResponse:
    """Merchant: give codes to the selected take-backs and offer their label sheet."""
    from huanxin.subsidies.models import TakeBack

    organisation = _organisation(request)
    take_backs = TakeBack.objects.filter(
        pk__in=request.POST.getlist("take_back"), redemption__merchant=organisation
    ).select_related("redemption__merchant")
    codes = []
    for take_back in take_backs:
        try:
            codes.append(services.commission_take_back(actor=request.user, take_back=take_back).code)
        except DomainError as error:
            messages.error(request, error.detail)
    if codes:
        request.session["trace_label_codes"] = codes
        messages.success(request, f"已为 {len(codes)} 台旧机赋码，请打印标签贴在旧机上")
    return redirect(f"/trace/workspace/?org={organisation.pk}&labels=1")


@login_required
@require_POST
def pickup(request: AuthenticatedRequest) -> HttpResponse:
    organisation = _organisation(request)
    form = PickupForm(request.POST)
    if form.is_valid():
        try:
            item = services.commission_pickup(
                actor=request.user, organisation=organisation, category=form.cleaned_data["category"]
            )
        except DomainError as error:
            messages.error(request, error.detail)
        else:
            request.session["trace_label_codes"] = [item.code]
            messages.success(request, "已登记上门回收并赋码")
            return redirect(f"/trace/workspace/?org={organisation.pk}&code={item.code}&labels=1")
    return redirect(f"/trace/workspace/?org={organisation.pk}")


@login_required
def label_sheet(request: AuthenticatedRequest) -> HttpResponse:
    """The PDF label sheet for the codes just issued (or ?code=… for one item)."""
    _organisation(request)
    codes: list[Any] = request.GET.getlist("code") or request.session.get("trace_label_codes", [])
    items = list(TraceItem.objects.filter(code__in=[services.code_from_link(c) for c in codes]).order_by("pk"))
    if not items:
        raise Http404
    response = HttpResponse(labels.label_sheet_pdf(items), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="labels.pdf"'
    return response


def label_png(request: HttpRequest, code: str) -> HttpResponse:
    try:
        return HttpResponse(labels.label_png(services.get_item(code)), content_type="image/png")
    except NotFoundError:
        raise Http404 from None


@login_required
def staff(request: AuthenticatedRequest) -> HttpResponse:
    """Staff: find items by code, original serial or organisation; open flags; checkpoints."""
    if not has_role(request.user, *services.STAFF_ROLES):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()
    items = TraceItem.objects.none()
    if text:
        items = TraceItem.objects.filter(
            Q(code=services.code_from_link(text))
            | Q(serial__iexact=text)
            | Q(holder__name__icontains=text)
            | Q(holder__uscc=text)
        ).select_related("holder")[:100]
    return render(
        request,
        "trace/staff.html",
        {
            "q": text,
            "items": items,
            "flags": TraceFlag.objects.filter(resolved=False)
            .select_related("item", "event__organisation")
            .order_by("-created_at")[:100],
            "checkpoints": Checkpoint.objects.order_by("-day")[:14],
            "totals": {
                state: TraceItem.objects.filter(state=state).count()
                for state in ("held", "in_transit", "dismantled", "destroyed")
            },
        },
    )
