"""Pages: the public verification page, the recycler/dismantler/merchant workspace, staff search."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation, OrganisationKind
from huanxin.accounts.queries import acting_organisation
from huanxin.accounts.roles import TRACE_RECORDERS
from huanxin.core.errors import DomainError
from huanxin.core.forms import apply_domain_error
from huanxin.trace import integrity, labels, queries, services
from huanxin.trace.domain.codes import MAX_INPUT, printed_code
from huanxin.trace.domain.rules import KINDS, kinds_open_to, trade_of
from huanxin.trace.forms import EventForm, PickupForm, ScanForm, VerifyForm
from huanxin.trace.models import TraceItem


def _find(form: ScanForm | VerifyForm) -> tuple[TraceItem | None, int]:
    """The item the form's code names; else None and the status, the reason on the form's code field."""
    if not form.is_bound:
        return None, 200
    if not form.is_valid():
        return None, 400
    try:
        return queries.get_item(form.cleaned_data["code"]), 200
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
    """The events the form offers for a scanned item: those the custody rules let the organisation record."""
    if item is None:
        return []
    kinds = kinds_open_to(
        state=item.state or None,
        holder_id=item.holder_id,
        destination_id=item.destination_id,
        actor_org_id=organisation.pk,
        actor_kind=trade_of(str(organisation.kind)),
    )
    return [(kind.code, kind.label) for kind in kinds]


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
    event_form = EventForm(
        request.POST if posted and item else None,
        kinds=_allowed_kinds(item, organisation),
        destinations=queries.destination_choices(organisation),
    )
    if posted and item is not None and event_form.is_valid():
        kind = event_form.cleaned_data["kind"]
        destination = queries.organisation_or_none(event_form.cleaned_data["destination"])
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
    pending = (
        list(queries.pending_take_backs(organisation)[:100]) if organisation.kind == OrganisationKind.MERCHANT else []
    )
    return render(
        request,
        "trace/workspace.html",
        {
            "organisation": organisation,
            "scan": scan,
            "item": item,
            "event_form": event_form,
            "history": queries.item_history(item) if item else [],
            "holdings": queries.items_in_hand(organisation),
            "pending": pending,
            "pickup_form": PickupForm() if organisation.kind == OrganisationKind.RECYCLER else None,
        },
        status=status,
    )


@login_required
@require_POST
def commission(request: AuthenticatedRequest) -> HttpResponse:
    """Merchant: give codes to the selected take-backs and offer their label sheet."""
    organisation = _organisation(request)
    take_backs = queries.take_backs_of(organisation, request.POST.getlist("take_back"))
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
    wanted = [code for code in (queries.readable_code(str(text)) for text in codes) if code is not None]
    items = queries.items_by_codes(wanted)
    if not items:
        raise Http404
    response = HttpResponse(labels.label_sheet_pdf(items), content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="labels.pdf"'
    return response


def label_png(request: HttpRequest, code: str) -> HttpResponse:
    try:
        return HttpResponse(labels.label_png(queries.get_item(code)), content_type="image/png")
    except DomainError as error:
        return HttpResponse(error.first_message, status=error.status, content_type="text/plain; charset=utf-8")


@login_required
def staff(request: AuthenticatedRequest) -> HttpResponse:
    """Staff: find items by code, original serial or organisation; open flags; checkpoints."""
    if not queries.is_staff(request.user):
        raise PermissionDenied
    text = request.GET.get("q", "").strip()
    items: list[TraceItem] = []
    error = ""
    if "\x00" in text or len(text) > MAX_INPUT:
        # PostgreSQL text cannot hold NUL; nothing that long is a code, serial, name or credit code.
        text, error = "", f"查询内容不能超过 {MAX_INPUT} 个字符，也不能含控制字符"
    if text:
        items = queries.search_items(text)
    return render(
        request,
        "trace/staff.html",
        {
            "q": text,
            "error": error,
            "items": items,
            "flags": queries.open_flags(),
            "checkpoints": queries.recent_checkpoints(14),
            "totals": queries.state_totals(),
        },
    )
