"""Pages for signing in, resident registration and real-name verification, and organisations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from huanxin.accounts import services
from huanxin.accounts.forms import (
    DistrictChangeForm,
    IdentityForm,
    OrganisationForm,
    PhoneCodeForm,
    RegisterForm,
    SignInForm,
)
from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Membership, Organisation, OrganisationKind, Person
from huanxin.accounts.queries import (
    GOVERNMENT_ROLES,
    MEMBER_ROLES,
    can_manage_organisations,
    get_organisation_for_user,
)
from huanxin.core import ratelimit
from huanxin.core.errors import DomainError, NotFoundError
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import has_role


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "unknown")


class SignInView(LoginView):
    """Sign-in with a per-account and per-address limit on failed attempts."""

    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = (request.POST.get("username") or "").strip().lower()
        buckets = [f"login:user:{username}", f"login:ip:{_client_ip(request)}"]
        limit = settings.HUANXIN_LOGIN_MAX_FAILURES
        # The per-address limit is looser: many residents share a carrier-grade NAT address.
        if ratelimit.is_blocked(buckets[0], limit=limit) or ratelimit.is_blocked(buckets[1], limit=limit * 10):
            form = self.get_form()
            # Refuse without calling authenticate(): a locked account must not be probed further.
            form._errors = ErrorDict()  # type: ignore[attr-defined]
            form.cleaned_data = {}
            form.add_error(
                None,
                ValidationError(
                    f"登录失败次数过多，请 {settings.HUANXIN_LOGIN_LOCK_SECONDS // 60} 分钟后再试", code="login_locked"
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if request.user.is_authenticated:
            ratelimit.reset(buckets[0])
        else:
            for bucket in buckets:
                ratelimit.hit(bucket, limit=limit, window_seconds=settings.HUANXIN_LOGIN_LOCK_SECONDS)
        return response


def register(request: HttpRequest) -> HttpResponse:
    """Resident registration: mobile number, one-time code, password. Real-name verification follows."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.register_resident(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                password=form.cleaned_data["password"],
                district=form.cleaned_data["district"] or None,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            login(request, user, backend="huanxin.accounts.backends.PhoneOrUsernameBackend")
            messages.success(request, "注册成功。请完成实名认证后申领补贴资格。")
            return redirect("accounts:verify_identity")
    return render(request, "accounts/register.html", {"form": form})


@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """htmx: send the one-time code and answer with a status line under the phone field."""
    form = PhoneCodeForm(request.POST)
    context: dict[str, Any] = {"form": form}
    if form.is_valid():
        try:
            sent = services.request_phone_code(phone=form.cleaned_data["phone"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            context["sent"] = sent
    status = 200 if "sent" in context else 422
    return render(request, "accounts/partials/code_status.html", context, status=status)


@login_required
def verify_identity(request: AuthenticatedRequest) -> HttpResponse:
    """Real-name verification: name and resident ID, checked and bound to this account once."""
    person = Person.objects.filter(user=request.user).first()
    if person is None:
        raise PermissionDenied
    if person.is_verified:
        return redirect("accounts:profile")
    form = IdentityForm(request.POST or None, initial={"district": person.district_id})
    if request.method == "POST" and form.is_valid():
        try:
            services.verify_identity(
                actor=request.user,
                name=form.cleaned_data["name"],
                resident_id=form.cleaned_data["resident_id"],
                district=form.cleaned_data["district"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "实名认证已完成。")
            return redirect("accounts:profile")
    return render(
        request, "accounts/verify_identity.html", {"form": form, "minimum_age": settings.HUANXIN_MIN_CLAIM_AGE}
    )


@login_required
def registered_district(request: AuthenticatedRequest) -> HttpResponse:
    """The resident's registered district — the budget their claims are charged to — and its one change a year."""
    person = Person.objects.filter(user=request.user).select_related("district").first()
    if person is None:
        raise PermissionDenied
    if not person.is_verified:
        return redirect("accounts:verify_identity")
    year = services.district_change_year(timezone.now())
    changed = person.district_changes.filter(year=year).select_related("from_district", "to_district").first()
    form = DistrictChangeForm(request.POST or None, current=person.district_id)
    if request.method == "POST" and changed is None and form.is_valid():
        try:
            services.change_registered_district(actor=request.user, district=form.cleaned_data["district"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "登记居住区已变更，此后申领的补贴资格计入新区预算。")
            return redirect("accounts:district")
    return render(
        request,
        "accounts/district.html",
        {
            "person": person,
            "form": form,
            "year": year,
            "changed": changed,
            "history": person.district_changes.select_related("from_district", "to_district")[:10],
        },
        status=422 if form.errors else 200,
    )


@login_required
def profile(request: AuthenticatedRequest) -> HttpResponse:
    person = Person.objects.filter(user=request.user).select_related("district").first()
    memberships = Membership.objects.filter(user=request.user).select_related("organisation", "district")
    return render(request, "accounts/profile.html", {"person": person, "memberships": memberships})


@login_required
def organisations(request: AuthenticatedRequest) -> HttpResponse:
    """Organisations this user may see, filterable by kind; administrators enrol new ones."""
    if not has_role(request.user, *GOVERNMENT_ROLES, *MEMBER_ROLES):
        raise PermissionDenied
    queryset = Organisation.objects.visible_to(request.user).select_related("district").order_by("kind", "name")
    kind = request.GET.get("kind", "")
    if kind in OrganisationKind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/organisations.html",
        {
            "page": page,
            "kinds": OrganisationKind.choices,
            "kind": kind,
            "can_manage": can_manage_organisations(request.user),
        },
    )


@login_required
def organisation_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        organisation = get_organisation_for_user(request.user, pk)
    except NotFoundError:
        return render(request, "errors/404.html", status=404)
    return render(
        request,
        "accounts/organisation_detail.html",
        {
            "organisation": organisation,
            "licences": organisation.licences.order_by("kind", "valid_from"),
        },
    )


@login_required
def organisation_create(request: AuthenticatedRequest) -> HttpResponse:
    if not can_manage_organisations(request.user):
        raise PermissionDenied
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_organisation(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"已登记机构：{organisation.name}")
            return redirect("accounts:organisation", pk=organisation.pk)
    return render(request, "accounts/organisation_form.html", {"form": form})
