"""Request id (taken from ``X-Request-ID`` when a proxy sets one, else generated; echoed back), the page
for a service refusal that a view did not catch, and the security headers Django does not set."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from huanxin.core.context import request_id_var
from huanxin.core.errors import PROBLEM_CONTENT_TYPE, DomainError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.parsing import NUL, NUL_MESSAGE, first_nul_field

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class DomainErrorMiddleware:
    """A refusal a page view lets through (``ForbiddenError``, ``ConflictError`` …) is answered with its own
    status and Chinese message, not as a server error: it is the user's answer, not a fault. The API renders
    its own problem details before this is reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, ForbiddenError):
            template = "errors/403.html"
        elif isinstance(exception, NotFoundError):
            template = "errors/404.html"
        else:
            template = "errors/refused.html"
        return render(request, template, {"error": exception}, status=exception.status)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself.

    * ``Content-Security-Policy`` (``settings.HUANXIN_CONTENT_SECURITY_POLICY``) on every response: scripts
      and styles only from this site's own files, so an injected ``<script>``, ``on…=`` handler or ``style``
      cannot run. Django 5.2 has no CSP of its own and django-csp 4.0 does not list Django 5.2; the policy
      is one fixed header, so it is set here.
    * ``Cache-Control: no-store`` on every response to a signed-in user or an API token: such pages carry
      bank accounts, ID numbers (masked or, in bank files, in full) and payment data, which must not stay in
      a browser's or a proxy's cache on a shared counter computer. Public pages stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.HUANXIN_CONTENT_SECURITY_POLICY
        if _personal(request):
            add_never_cache_headers(response)
        return response


def _personal(request: HttpRequest) -> bool:
    """The request is answered for someone: a session user or an API token (Authorization header)."""
    if "Authorization" in request.headers:
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class InputGuardMiddleware:
    """No NUL character in a path, a query string or a form field, for every page and endpoint: PostgreSQL
    cannot store or compare one, so it is refused here (API: 422 naming the field; pages: 400) rather than
    failing as a server error in whichever query meets it first. JSON bodies: ``core.parsing``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = "path" if NUL in request.path else first_nul_field(request.GET)
        if field is None and request.content_type in _FORM_TYPES:
            field = first_nul_field(request.POST)
        if field is None:
            return self.get_response(request)
        error = ValidationFailed.for_field(field, "nul_character", NUL_MESSAGE)
        if request.path.startswith("/api/"):
            body = error.problem(instance=request.path, request_id=getattr(request, "request_id", ""))
            return HttpResponse(json.dumps(body, ensure_ascii=False), status=422, content_type=PROBLEM_CONTENT_TYPE)
        # A page answers 400 (the request itself is malformed), with the message on the refusal page.
        page = DomainError(NUL_MESSAGE, code="nul_character", errors=error.errors)
        return render(request, "errors/refused.html", {"error": page}, status=page.status)
