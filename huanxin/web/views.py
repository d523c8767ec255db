"""Home and error pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def home(request: HttpRequest) -> HttpResponse:
    """Explains the programme to a resident: what is subsidised, how to take part, where to start.

    Every rate, cap, grade and date shown comes from the published rule versions of the open programmes.
    """
    from huanxin.policy import queries, services

    open_programmes = queries.public_programmes().filter(status="open")
    summaries = [s for s in services.describe_programmes(open_programmes) if s.version is not None]
    return render(request, "web/home.html", {"summaries": summaries})


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render({}), status=500)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for the load balancer."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
