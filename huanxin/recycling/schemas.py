"""Schemas of the recycling API. Names start with ``ReverseInvoice`` so they stay unique across apps."""

from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field

from huanxin.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, Int64, QueryInt


class ReverseInvoiceItemIn(Schema):
    name: str = Field(..., max_length=80, description="物品名称（如 废钢、废旧家电）")
    weight_g: Int64 = Field(..., description="重量（克）")
    price_fen: Int64 = Field(..., description="收购金额（分，不含增值税）")


class ReverseInvoiceIn(Schema):
    organisation_id: Int64 | None = Field(None, description="开票企业；只属于一家时可省略")
    seller_name: str = Field(..., max_length=40, description="出售者姓名（与身份证一致）")
    seller_id_number: str = Field(..., max_length=40, description="出售者居民身份证号码")
    purchased_on: datetime.date | None = Field(None, description="收购日期（默认今天，不能晚于今天）")
    items: list[ReverseInvoiceItemIn] = Field(..., max_length=20, description="收购物品，1至20项")


class ReverseInvoiceVoidIn(Schema):
    organisation_id: Int64 | None = Field(None, description="开票企业；只属于一家时可省略")
    reason: str = Field(..., max_length=400, description="作废原因")


class ReverseInvoiceItemOut(Schema):
    name: str
    weight_g: int
    price_fen: int


class ReverseInvoiceReasonOut(Schema):
    code: str
    passed: bool
    message: str


class ReverseInvoiceOut(Schema):
    id: int
    number: str = Field(..., description="平台发票号码（每个开票企业每年连续编号，不跳号）")
    tax_number: str | None = Field(None, description="数电发票号码（导入税务系统回执后记录）")
    status: str = Field(..., description="issued 已开具 / voided 已作废（作废发票不计入出售者额度）")
    issuer_id: int
    issuer_name: str
    qualification: str
    licence_numbers: str
    purchased_on: datetime.date
    issued_at: datetime.datetime
    seller_name: str
    seller_id_masked: str
    items: list[ReverseInvoiceItemOut]
    weight_g: int
    sale_fen: int
    vat_fen: int
    pit_fen: int
    rule_version: str
    reasons: list[ReverseInvoiceReasonOut]
    void_reason: str = ""
    voided_at: datetime.datetime | None = None


class ReverseInvoiceFilter(Schema):
    organisation_id: QueryInt | None = Field(None, description="开票企业；只属于一家时可省略")
    month: str = Field("", max_length=7, description="只看某月（YYYY-MM）")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="每页条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")


class ReverseInvoiceListOut(Schema):
    count: int
    items: list[ReverseInvoiceOut]


class ReverseInvoiceSummaryOut(Schema):
    month: str = Field(..., description="YYYY-MM")
    count: int = Field(..., description="有效发票张数（不含作废）")
    sale_fen: int
    vat_fen: int
    pit_fen: int
    weight_g: int
    exempt_count: int = Field(..., description="免征增值税的张数")
    taxed_count: int = Field(..., description="按征收率缴纳增值税的张数")
    voided_count: int
    tax_numbers_missing: int = Field(..., description="尚未取得数电发票号码的有效发票张数")


class ReverseInvoiceImportOut(Schema):
    """A file with any bad row is refused whole (422, one error per row, its line named in the message)."""

    recorded: int = Field(..., description="本次记录数电发票号码的发票张数")
    unchanged: int = Field(..., description="此前已记录相同号码的行数")


class ReverseInvoiceHeadroomOut(Schema):
    ceiling_fen: int = Field(..., description="连续12个月反向开票销售额上限（分，取自现行规则版本）")
    used_fen: int = Field(..., description="包含今天的任意连续12个月内已反向开票的最高销售额（分）")
    remaining_fen: int
    window_start: datetime.date
    window_end: datetime.date
    rule_version: str


class ReverseInvoiceMineOut(Schema):
    headroom: ReverseInvoiceHeadroomOut
    items: list[ReverseInvoiceOut]
