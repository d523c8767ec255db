"""Pages for signing in, resident registration and real-name verification, and organisations."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from huanxin.accounts import services
from huanxin.accounts.forms import (
    DistrictChangeForm,
    IdentityForm,
    NewPasswordForm,
    OrganisationForm,
    PhoneAndCodeForm,
    PhoneCodeForm,
    RegisterForm,
    SignInForm,
)
from huanxin.accounts.http import AuthenticatedRequest
from huanxin.accounts.models import Membership, Organisation, OrganisationKind, Person, User
from huanxin.accounts.queries import can_manage_organisations, get_organisation_for_user
from huanxin.accounts.roles import GOVERNMENT_STAFF, ORGANISATION_MEMBERS
from huanxin.core import ratelimit
from huanxin.core.errors import ConflictError, DomainError
from huanxin.core.forms import apply_domain_error
from huanxin.core.permissions import has_role, organisations_for

# Refusals that lift by themselves: answered with 429 Too Many Requests.
LIMIT_CODES = frozenset({"login_locked", "signin_source_limited", "otp_resend_cooldown", "otp_rate_limited"})
PASSWORD_RESET_SESSION_KEY = "accounts_password_reset"


def _limited(form: Any) -> bool:
    return any(error.code in LIMIT_CODES for errors in form.errors.as_data().values() for error in errors)


class SignInView(LoginView):
    """Password sign-in. The attempt limits live in the authentication backend, shared with the admin login."""

    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if _limited(form):
            response.status_code = 429
        return response


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def sms_sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in with a code sent to the resident's number; open even while password sign-in is paused."""
    if request.user.is_authenticated:
        return redirect("accounts:profile")
    form = PhoneAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in_with_code(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], client_ip=ratelimit.client_ip(request)
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            login(request, user, backend="huanxin.accounts.backends.PhoneOrUsernameBackend")
            return redirect(_safe_next(request))
    status = 429 if _limited(form) else 200
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next") or "",
        "purpose": "login",
        "otp_minutes": settings.HUANXIN_OTP_TTL_SECONDS // 60,
    }
    return render(request, "accounts/sms_login.html", context, status=status)


def password_reset(request: HttpRequest) -> HttpResponse:
    """Forgot password, step 1: the number and the code sent to it for resetting."""
    form = PhoneAndCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = services.verify_password_reset_code(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], client_ip=ratelimit.client_ip(request)
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            # Kept in the server-side session, never in a URL (where logs and Referer headers would keep it).
            request.session[PASSWORD_RESET_SESSION_KEY] = {"user": grant.user.pk, "token": grant.token}
            return redirect("accounts:password_reset_new")
    status = 429 if _limited(form) else 200
    return render(request, "accounts/password_reset.html", {"form": form, "purpose": "reset"}, status=status)


def password_reset_new(request: HttpRequest) -> HttpResponse:
    """Forgot password, step 2: choose the new password; other sessions end and this one is signed in."""
    grant = request.session.get(PASSWORD_RESET_SESSION_KEY) or {}
    user_id = grant.get("user")
    user = User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is None:
        messages.error(request, "请先验证手机号")
        return redirect("accounts:password_reset")
    form = NewPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_password(actor=user, token=grant.get("token", ""), password=form.cleaned_data["password"])
        except ConflictError as error:
            request.session.pop(PASSWORD_RESET_SESSION_KEY, None)
            messages.error(request, error.detail)
            return redirect("accounts:password_reset")
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            request.session.pop(PASSWORD_RESET_SESSION_KEY, None)
            login(request, user, backend="huanxin.accounts.backends.PhoneOrUsernameBackend")
            messages.success(request, "密码已重置，其他设备上的登录已退出。")
            return redirect("accounts:profile")
    return render(request, "accounts/password_reset_new.html", {"form": form})


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
    """htmx: send a one-time code and answer with a status line under the phone field.

    Refusals (a bad number, a resend inside the cooldown) come back as 422/429 with the reason and, for a
    cooldown, the seconds left; the page script swaps them in like a success, so nothing fails silently.
    """
    form = PhoneCodeForm(request.POST)
    purpose = request.POST.get("purpose", "")
    context: dict[str, Any] = {"form": form, "purpose": purpose if purpose in services.CODE_PURPOSES else "register"}
    status = 422
    if form.is_valid():
        try:
            sent = services.request_phone_code(
                phone=form.cleaned_data["phone"],
                purpose=form.cleaned_data["purpose"],
                client_ip=ratelimit.client_ip(request),
            )
        except services.TryAgainLater as error:
            apply_domain_error(form, error)
            context["cooldown"] = error.retry_after
            status = 429
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            context["sent"] = sent
            context["cooldown"] = sent.resend_after
            status = 200
    response = render(request, "accounts/partials/code_status.html", context, status=status)
    if "cooldown" in context and status == 429:
        response["Retry-After"] = str(context["cooldown"])
    return response


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
    if not (has_role(request.user, *GOVERNMENT_STAFF) or organisations_for(request.user, *ORGANISATION_MEMBERS)):
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
    # A refusal (not found or not visible) is answered with its own message by DomainErrorMiddleware.
    organisation = get_organisation_for_user(request.user, pk)
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
