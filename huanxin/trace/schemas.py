from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import BaseModel, Field

from huanxin.core.schemas import Int64

# The batch schemas are plain pydantic models: ninja's Schema wraps every object it validates (and each nested
# one) in an ORM attribute getter, which cost a third of a 1,000-event request in bench/trace.py; these are
# only ever built from JSON and from dicts.


class EventIn(BaseModel):
    kind: str = Field(..., description="commission / collect / ship / receive / load / unload / dismantle / destroy")
    codes: list[str] = Field(
        ..., max_length=1000, description="追溯码：标签上印的编码、EPC URI 或标签二维码的链接，任一形式均可"
    )
    event_time: datetime.datetime
    destination_uscc: str | None = Field(None, max_length=18, description="发运目的地企业的统一社会信用代码")
    parent: str = Field("", max_length=120, description="装车/卸车的车辆或笼车编号（URI）")
    outputs_g: dict[str, Int64] = Field(default_factory=dict, description="拆解产物：物料 → 克")
    category: str = Field("", max_length=30, description="赋码时的品类")


class TraceBatchIn(BaseModel):
    organisation_id: Int64 | None = None
    events: list[EventIn] = Field(..., max_length=1000)


class ResultOut(BaseModel):
    index: int
    status: str
    code: str
    message: str
    field: str
    event_hash: str
    items: list[str]


class TraceBatchOut(BaseModel):
    results: list[ResultOut]
    recorded: int
    duplicates: int
    refused: int


class ItemOut(Schema):
    code: str
    digital_link: str
    category: str
    state: str
    holder: str | None
    destination: str | None
    event_count: int
    updated_at: datetime.datetime


class HistoryEventOut(Schema):
    sequence: int
    kind: str
    event_time: datetime.datetime
    organisation: str
    event_hash: str
    link: str
    implausible: bool
    document: dict[str, Any]
    proof: dict[str, Any] | None


class VerifyOut(Schema):
    item: ItemOut
    chain_ok: bool
    problems: list[str]
    events: list[HistoryEventOut]
    public_key_pem: str


class PickupIn(Schema):
    organisation_id: Int64 | None = None
    category: str = Field(..., max_length=30)


class CheckpointOut(Schema):
    day: datetime.date
    event_count: int
    root: str
    signature: str
    key_id: str
