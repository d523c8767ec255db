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


def _api_problem(request: HttpRequest, status: int, code: str, title: str, detail: str) -> HttpResponse | None:
    """Under /api/ every answer is problem details, also where no endpoint was reached (an address no route
    matches, e.g. a text where the path takes a number, or a server error): a client reads one format."""
    if not request.path.startswith("/api/"):
        return None
    import json

    from huanxin.core.errors import PROBLEM_CONTENT_TYPE

    body: dict[str, object] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [],
        "instance": request.path,
        "request_id": getattr(request, "request_id", ""),
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_problem(request, 403, "forbidden", "无权操作", "无权访问")
    return api or render(request, "errors/403.html", status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    api = _api_problem(request, 404, "not_found", "未找到", "接口地址不存在")
    return api or render(request, "errors/404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    api = _api_problem(request, 500, "server_error", "服务器错误", "服务器内部错误，请稍后重试")
    if api is not None:
        return api
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("errors/500.html").render({}), status=500)


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness and database reachability for the load balancer."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
