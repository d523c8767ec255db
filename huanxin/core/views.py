"""The audit trail page for auditors, reviewers (their districts) and administrators."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from pydantic import ValidationError

from huanxin.core.models import AuditEntry
from huanxin.core.permissions import can_open_audit_page
from huanxin.core.queries import AuditFilter, filter_audit


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    if not can_open_audit_page(request.user):
        raise PermissionDenied
    raw = {key: value for key, value in request.GET.items() if key in AuditFilter.model_fields and value}
    error = ""
    try:
        filters = AuditFilter.model_validate(raw)
    except ValidationError:
        filters, error = AuditFilter.model_validate({}), "筛选条件格式不正确（日期格式应为 YYYY-MM-DD），已显示全部记录"
    queryset = filter_audit(AuditEntry.objects.visible_to(request.user), filters).select_related("actor")
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = "&".join(f"{k}={v}" for k, v in raw.items())
    return render(
        request,
        "core/audit.html",
        {
            "page": page,
            "filters": raw,
            "error": error,
            "extra_query": f"{query}&" if query else "",
        },
    )
