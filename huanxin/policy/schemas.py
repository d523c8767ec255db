from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from huanxin.core.schemas import Int64


class TermOut(Schema):
    subject: str = Field(..., description="适用对象，如 冰箱、洗衣机 或 购买新能源乘用车")
    text: str = Field(..., description="补贴标准（比例、上限、能效要求、日期等），取自现行规则版本")


class ProgrammeOut(Schema):
    code: str
    name: str
    family: str
    status: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    measure: int | None = Field(None, description="所属措施序号")
    description: str
    terms: list[TermOut] = Field(default_factory=list, description="现行规则版本的补贴标准，逐条")
    categories: dict[str, str] = Field(default_factory=dict, description="品类代码 → 中文名称")
    rule_version: str | None = None
    source: str | None = None


class PoolOut(Schema):
    district: str
    district_name: str
    allocated_fen: int
    held_fen: int
    spent_fen: int
    available_fen: int


class BudgetOut(Schema):
    programme: str
    total_budget_fen: int
    pools: list[PoolOut]


class BudgetIn(Schema):
    total_fen: Int64 = Field(..., ge=0)
    allocations: dict[str, Int64] = Field(..., description="行政区代码 → 分配额度（分）")


class StatusIn(Schema):
    status: str = Field(..., description="open 或 closed")


class RuleSetOut(Schema):
    id: int
    programme: str
    version: int
    status: str
    digest: str
    source: str
    effective_from: datetime.date
    prepared_by: str | None
    approved_by: str | None
    prepared_at: datetime.datetime
    decided_at: datetime.datetime | None
    note: str


class RuleSetIn(Schema):
    content: str = Field(..., max_length=100_000, description="完整的规则目录文件（TOML）")
    note: str = Field("", max_length=500)


class DecideIn(Schema):
    note: str = Field("", max_length=500)


class TargetOut(Schema):
    code: str
    name: str
    unit: str


class MeasureOut(Schema):
    number: int
    numeral: str
    area: str
    title: str
    summary: str
    targets: list[TargetOut]
    lead_unit: str
    other_units: list[str]
    period: str
    state: str
    state_label: str


class ReportIn(Schema):
    unit: str = Field(..., max_length=40, description="责任单位简称，如 市商务局")
    period: str = Field(..., max_length=7, description="YYYY-MM")
    narrative: str = Field(..., max_length=5000)
    indicators: dict[str, Any] = Field(default_factory=dict)


class ReportOut(Schema):
    id: int
    measure: int
    unit: str
    period: str
    narrative: str
    indicators: dict[str, Any]
    submitted_at: datetime.datetime
