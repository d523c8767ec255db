"""Legal-clock flags API (GET /api/v1/vehicles/applications/clock-flags): the open flags the caller sees, with the
counts per district; the same visibility as the page (``vehicles.clock_flags``)."""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from huanxin.accounts.http import current_user
from huanxin.core.errors import ForbiddenError
from huanxin.vehicles import clock_flags

router = Router(tags=["汽车以旧换新补贴申请"])


class CarClockFlagFilter(Schema):
    # A value outside these is refused (422), not answered with an empty list that looks like "nothing late".
    district: str = Field("", max_length=12, pattern=r"^\d{0,12}$", description="区代码（空为全部）")
    stage: Literal["", "accept", "decide", "pay"] = Field("", description="环节：accept / decide / pay（空为全部）")
    kind: Literal["", "due_soon", "overdue", "supplement_lapsed"] = Field("", description="预警类型（空为全部）")


class CarClockFlagOut(Schema):
    id: int
    application_id: int
    number: str
    district: str
    district_name: str
    stage: str
    stage_title: str
    kind: str
    kind_name: str
    due_on: datetime.date
    working_days_late: int
    flagged_on: datetime.date
    calendar_missing_years: list[int]


class CarClockFlagCountOut(Schema):
    district: str
    district_name: str
    overdue: int
    supplement_lapsed: int
    due_soon: int
    total: int


class CarClockFlagListOut(Schema):
    today: datetime.date
    total: int
    counts: list[CarClockFlagCountOut]
    flags: list[CarClockFlagOut]
    calendar_missing_years: list[int]


@router.get(
    "",
    response=CarClockFlagListOut,
    summary="办理时限预警：即将到期、已逾期、补正逾期（本区审核人员，全市审核人员看全部；财政人员看拨付环节）",
)
def list_clock_flags(request: HttpRequest, filters: Query[CarClockFlagFilter]) -> Any:
    user = current_user(request)
    if not clock_flags.can_read_flags(user):
        raise ForbiddenError("只有审核人员和财政人员可以查看办理时限预警", code="car_clock_flags_forbidden")
    page = clock_flags.open_flags(user, district=filters.district[:12], stage=filters.stage, kind=filters.kind)
    return {
        "today": page.today,
        "total": page.total,
        "counts": [
            {
                "district": c.district_id,
                "district_name": c.district_name,
                "overdue": c.overdue,
                "supplement_lapsed": c.supplement_lapsed,
                "due_soon": c.due_soon,
                "total": c.total,
            }
            for c in page.counts
        ],
        "flags": [
            {
                "id": row.flag.pk,
                "application_id": row.application_id,
                "number": row.number,
                "district": row.flag.district_id,
                "district_name": row.district_name,
                "stage": row.flag.stage,
                "stage_title": row.stage_title,
                "kind": row.flag.kind,
                "kind_name": row.kind_name,
                "due_on": row.flag.due_on,
                "working_days_late": row.working_days_late,
                "flagged_on": row.flag.flagged_on,
                "calendar_missing_years": row.flag.uncovered_years,
            }
            for row in page.rows
        ],
        "calendar_missing_years": list(page.calendar_missing_years),
    }
