from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field


class PeriodOut(Schema):
    id: int
    programme: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    status: str
    redemption_count: int
    redemptions_fen: int
    clawback_count: int
    clawbacks_fen: int


class PayableOut(Schema):
    id: int
    period_id: int
    programme: str
    recipient_id: int
    recipient: str
    redemption_count: int
    redemptions_fen: int
    clawback_count: int
    clawbacks_fen: int
    carried_in_fen: int
    amount_fen: int
    carried_out_fen: int
    status: str


class SettlementBatchIn(Schema):
    programme: str = Field(..., max_length=40)


class SettlementBatchOut(Schema):
    id: int
    number: str
    programme: str
    status: str
    prepared_by: str
    approved_by: str | None
    line_count: int
    total_fen: int


class LineOut(Schema):
    line_id: str
    payee_name: str
    bank_name: str
    account_masked: str
    amount_fen: int
    status: str
    bank_reference: str
    failure_reason: str


class VerdictOut(Schema):
    row_number: int
    line_id: str
    accepted: bool
    code: str
    message: str


class ImportOut(Schema):
    accepted: int
    refused: int
    rows: list[VerdictOut]


class ExposureOut(Schema):
    merchant_id: int
    merchant: str
    outstanding_fen: int
    oldest_unpaid: datetime.datetime | None


class DeadlineOut(Schema):
    period_id: int
    programme: str
    starts_at: datetime.datetime
    due_on: datetime.date
    unpaid_fen: int
    overdue: bool


class SlaOut(Schema):
    outstanding: list[ExposureOut]
    deadlines: list[DeadlineOut]
