"""Pages of the recycling network: the public finder (a list, no map service) and an operator's own sites."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Organisation
from huanxin.core import ratelimit
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.recycling import network, network_queries
from huanxin.recycling.domain import network as domain
from huanxin.recycling.network_forms import FinderForm, SiteForm


def finder(request: HttpRequest) -> HttpResponse:
    """Public, no sign-in: the sites that may receive today, by district and category, with address and hours."""
    form = FinderForm(request.GET or None)
    try:
        network.count_finder_lookup(ratelimit.client_ip(request))
    except DomainError as refused:
        response = render(
            request,
            "recycling/network/finder.html",
            {"form": form, "sites": [], "refusal": refused.detail},
            status=refused.status,
        )
        retry_after = getattr(refused, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(retry_after)
        return response
    district = category = ""
    if form.is_valid():
        district, category = form.cleaned_data["district"], form.cleaned_data["category"]
    sites = network_queries.find_sites(district, category)
    return render(
        request,
        "recycling/network/finder.html",
        {"form": form, "sites": sites, "category_names": domain.accepted_categories()},
    )


def _operator(request: AuthenticatedRequest) -> Organisation:
    """The organisation the page acts for: the one chosen (``org``), else the user's first; others are refused."""
    mine = list(network_queries.operators_of(request.user))
    if not mine:
        raise PermissionDenied
    wanted = request.POST.get("org") or request.GET.get("org") or ""
    return next((o for o in mine if str(o.pk) == wanted), mine[0])


@login_required
def sites(request: AuthenticatedRequest) -> HttpResponse:
    """An operator's sites with their licence, whether they may receive today and this month's capacity use; and
    registering a new one."""
    operator = _operator(request)
    form = SiteForm(request.POST or None, organisation=operator)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            site = network.register_site(
                actor=request.user,
                organisation=operator,
                kind=data["kind"],
                name=data["name"],
                district_code=data["district"],
                address=data["address"],
                opening_hours=data["opening_hours"],
                categories=data["categories"],
                capacity_per_month=data["capacity_per_month"],
                licence_id=data["licence_id"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"已登记站点 {site.name}")
            return redirect(f"{reverse('recycling:network_sites')}?org={operator.pk}")
    rows = list(network_queries.sites_of(operator))
    use = network_queries.capacity_use(rows)
    today = timezone.localdate()
    listed = [(s, use[s.pk], network.receive_refusal(s, today)) for s in rows]
    return render(
        request,
        "recycling/network/sites.html",
        {
            "form": form,
            "operator": operator,
            "operators": network_queries.operators_of(request.user),
            "listed": listed,
            "category_names": domain.accepted_categories(),
        },
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def site_active(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Enable or disable one of the operator's own sites."""
    operator = _operator(request)
    active = request.POST.get("active") == "1"
    try:
        site = network.set_site_active(actor=request.user, organisation=operator, site_id=pk, active=active)
    except NotFoundError:
        raise Http404 from None
    messages.success(request, f"站点 {site.name} 已{'启用' if active else '停用'}")
    return redirect(f"{reverse('recycling:network_sites')}?org={operator.pk}")
