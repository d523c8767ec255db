"""Kernel endpoints: the audit trail (for auditors) and the working-day calendar."""

import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import paginate
from pydantic import Field

from huanxin.core.domain.workdays import default_calendar
from huanxin.core.models import AuditEntry
from huanxin.core.queries import AuditFilter, filter_audit
from huanxin.core.schemas import AuditEntryOut, Pagination, WorkingDaysOut

# Ten years of working days either way: further than any deadline the programme sets, and within the calendar.
MAX_WORKING_DAYS = 2_500

router = Router(tags=["审计与日历"])


@router.get("/audit", response=list[AuditEntryOut], summary="审计日志（按权限范围）")
@paginate(Pagination)
def list_audit(request: HttpRequest, filters: Query[AuditFilter]) -> object:
    return filter_audit(AuditEntry.objects.visible_to(request.user), filters)


class WorkingDaysQuery(Schema):
    start: datetime.date
    days: int = Field(..., ge=-MAX_WORKING_DAYS, le=MAX_WORKING_DAYS, description="推算的工作日数，可为负（向前推算）")


@router.get("/calendar/working-days", response=WorkingDaysOut, auth=None, summary="按工作日推算日期")
def working_days(request: HttpRequest, query: Query[WorkingDaysQuery]) -> WorkingDaysOut:
    calendar = default_calendar()
    result = calendar.add_working_days(query.start, query.days)
    return WorkingDaysOut(
        start=query.start,
        days=query.days,
        result=result,
        calendar_covers=calendar.covers(query.start) and calendar.covers(result),
    )
