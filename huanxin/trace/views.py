"""Pages: the public verification page, the recycler/dismantler/merchant workspace, staff search."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

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
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import OVERSIGHT_STAFF, TRACE_RECORDERS
from huanxin.core.errors import DomainError, ValidationFailed
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import has_role
from huanxin.trace import integrity, labels, services
from huanxin.trace.domain.codes import MAX_INPUT, printed_code
from huanxin.trace.domain.rules import KINDS, TERMINAL
from huanxin.trace.forms import EventForm, PickupForm, ScanForm, VerifyForm
from huanxin.trace.models import Checkpoint, TraceFlag, TraceItem


def _find(form: ScanForm | VerifyForm) -> tuple[TraceItem | None, int]:
    """The item the form's code names; else None and the status, the reason on the form's code field."""
    if not form.is_bound:
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        return services.get_item(form.cleaned_data["code"]), 200
    except DomainError as error:
        apply_domain_error(form, error)
        return None, error.status


def _search_page(request: HttpRequest, form: VerifyForm, status: int) -> HttpResponse:
    return render(request, "trace/verify_search.html", {"form": form}, status=status)


def verify_search(request: HttpRequest) -> HttpResponse:
    """Public: a box to type the code on a label; a code on record goes on to its verification page."""
    form = VerifyForm(request.GET if "code" in request.GET else None)
    item, status = _find(form)
    if item is None:
        return _search_page(request, form, status)
    return redirect("trace:verify", code=item.code)


def verify_page(request: HttpRequest, code: str) -> HttpResponse:
    """Public: where this old appliance went, whether its record is intact, and the signed proofs.

    The address may carry any printed form of the code; one that is no code or not on record shows the box
    with the reason.
    """
    form = VerifyForm({"code": code})
    item, status = _find(form)
    if item is None:
        return _search_page(request, form, status)
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
    form = VerifyForm({"code": giai})
    if not form.is_valid():
        return _search_page(request, form, 400)
    return redirect("trace:verify", code=form.cleaned_data["code"])


def public_key(request: HttpRequest) -> HttpResponse:
    return HttpResponse(integrity.public_key_pem(), content_type="text/plain; charset=utf-8")


def _organisation(request: AuthenticatedRequest) -> Organisation:
    """The organisation the page records for: the one chosen (``org``), else the first of the user's."""
    return acting_organisation(
        request,
        roles=TRACE_RECORDERS,
        requested=request.GET.get("org") or request.POST.get("org"),
        first_by_default=True,
    )


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
    posted = request.method == "POST" and request.POST.get("form") == "event"
    # The event form names its item in a hidden field: it is looked up exactly as a typed or scanned code is.
    if posted:
        scan = ScanForm({"code": request.POST.get("code", "")})
    else:
        scan = ScanForm(request.GET if "code" in request.GET else None)
    item, status = _find(scan)
    destinations = [
        (o.pk, o.name)
        for o in Organisation.objects.filter(
            kind__in=[OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER]
        )
        .exclude(pk=organisation.pk)
        .order_by("kind", "name")
    ]
    event_form = EventForm(
        request.POST if posted and item else None, kinds=_allowed_kinds(item, organisation), destinations=destinations
    )
    if posted and item is not None and event_form.is_valid():
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
            return redirect(f"{request.path}?{urlencode({'org': organisation.pk, 'code': printed_code(item.code)})}")
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
        status=status,
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
    refusals = []
    for take_back in take_backs:
        try:
            codes.append(services.commission_take_back(actor=request.user, take_back=take_back).code)
        except DomainError as error:
            refusals.append(error.first_message)
    if codes:
        request.session["trace_label_codes"] = codes
    _announce_commissioning(request, len(codes), refusals)
    return redirect(f"/trace/workspace/?org={organisation.pk}&labels=1")


def _announce_commissioning(request: HttpRequest, done: int, refusals: list[str]) -> None:
    """One message for a round of commissioning, styled by its outcome: a round where some items were refused
    is a warning, one where every item was refused (or none was chosen) an error, never a success."""
    reasons = "；".join(dict.fromkeys(refusals))
    if done and not refusals:
        messages.success(request, f"已为 {done} 台旧机赋码，请打印标签贴在旧机上")
    elif done:
        messages.warning(
            request, f"已为 {done} 台旧机赋码，请打印标签贴在旧机上；{len(refusals)} 台旧机未赋码：{reasons}"
        )
    elif refusals:
        messages.error(request, f"{len(refusals)} 台旧机未赋码：{reasons}")
    else:
        messages.error(request, "请勾选要赋码的旧机")


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
            query = urlencode({"org": organisation.pk, "code": printed_code(item.code), "labels": 1})
            return redirect(f"/trace/workspace/?{query}")
    return redirect(f"/trace/workspace/?org={organisation.pk}")


@login_required
def label_sheet(request: AuthenticatedRequest) -> HttpResponse:
    """The PDF label sheet for the codes just issued (or ?code=… for one item)."""
    _organisation(request)
    codes: list[Any] = request.GET.getlist("code") or request.session.get("trace_label_codes", [])
    wanted = [code for code in (_readable(str(text)) for text in codes) if code is not None]
    items = list(TraceItem.objects.filter(code__in=wanted).order_by("pk"))
    if not items:
        raise Http404
    response = HttpResponse(labels.label_sheet_pdf(items), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="labels.pdf"'
    return response


def _readable(text: str) -> str | None:
    """The stored form of a code, or None where the text is no code (a search term, say)."""
    try:
        return services.canonical_code(text)
    except ValidationFailed:
        return None


def label_png(request: HttpRequest, code: str) -> HttpResponse:
    try:
        return HttpResponse(labels.label_png(services.get_item(code)), content_type="image/png")
    except DomainError as error:
        return HttpResponse(error.first_message, status=error.status, content_type="text/plain; charset=utf-8")


@login_required
def staff(request: AuthenticatedRequest) -> HttpResponse:
    """Staff: find items by code, original serial or organisation; open flags; checkpoints."""
    if not has_role(request.user, *OVERSIGHT_STAFF):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()
    items = TraceItem.objects.none()
    error = ""
    if "\x00" in text or len(text) > MAX_INPUT:
        # PostgreSQL text cannot hold NUL; nothing that long is a code, serial, name or credit code.
        text, error = "", f"查询内容不能超过 {MAX_INPUT} 个字符，也不能含控制字符"
    if text:
        code = _readable(text)
        items = TraceItem.objects.filter(
            (Q(code=code) if code is not None else Q(pk__in=[]))
            | Q(serial__iexact=text)
            | Q(holder__name__icontains=text)
            | Q(holder__uscc=text)
        ).select_related("holder")[:100]
    return render(
        request,
        "trace/staff.html",
        {
            "q": text,
            "error": error,
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
