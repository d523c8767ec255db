from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field


class SettlementPayeeOut(Schema):
    id: int
    kind: str
    name: str
    reference: str
    organisation_id: int | None
    account_name: str
    bank_name: str
    account_masked: str


class SettlementUnmatchedOut(Schema):
    kind: str
    reference: str
    detail: str


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
    programme: str
    source_kind: str
    source: str
    source_ref: str
    payee: SettlementPayeeOut | None
    # A merchant's period payable (source consumer-subsidy) only; null for other sources.
    period_id: int | None
    recipient_id: int | None
    recipient: str | None
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
    source_kind: str
    payee_kind: str | None
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
