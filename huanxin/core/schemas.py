from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema


class AuditEntryOut(Schema):
    id: int
    occurred_at: datetime.datetime
    actor_label: str
    action: str
    object_type: str
    object_id: str
    object_label: str
    before: Any | None
    after: Any | None
    organisation_id: int | None
    district_code: str
    request_id: str


class WorkingDaysOut(Schema):
    start: datetime.date
    days: int
    result: datetime.date
    calendar_covers: bool
