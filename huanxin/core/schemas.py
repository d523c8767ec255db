from __future__ import annotations

import datetime
from typing import Annotated, Any

from ninja import Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination
from pydantic import Field, StrictInt

# The range of a PostgreSQL bigint (and a SQLite integer): every integer column the API writes or filters on.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# An integer in a JSON body: a JSON number only (``true`` and ``"300000"`` are refused, not converted), and
# within 64 bits, so it never reaches the database as a value no column can hold.
Int64 = Annotated[StrictInt, Field(ge=INT64_MIN, le=INT64_MAX)]

# A count stored in an ``IntegerField`` (PostgreSQL integer): 32 bits.
Int32 = Annotated[StrictInt, Field(ge=-(2**31), le=2**31 - 1)]

# An integer in a path or query string: text that reads as an integer, within 64 bits.
QueryInt = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]

MAX_PAGE_SIZE = 500
MAX_OFFSET = 10_000_000


class Pagination(LimitOffsetPagination):
    """``limit``/``offset`` with bounds: at most ``MAX_PAGE_SIZE`` rows a page, and an offset no list reaches."""

    class Input(Schema):
        limit: int = Field(ninja_settings.PAGINATION_PER_PAGE, ge=1, le=MAX_PAGE_SIZE, description="每页条数（1–500）")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")


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
