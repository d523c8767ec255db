from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from huanxin.core.schemas import Int64, QueryInt


class ProductFilter(Schema):
    q: str | None = Field(None, max_length=60, description="品牌、型号或名称中包含的文字")
    brand: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60, description="型号中包含的文字（不区分大小写、全角半角）")
    category: str | None = Field(None, max_length=30, description="品类代码（如 fridge）或中文名称")


class ProductOut(Schema):
    id: int
    brand: str
    model_number: str
    category: str
    category_name: str
    energy_grade: int | None = Field(None, description="能效等级 1–5，1 最优；无则为 null")
    water_grade: int | None = Field(None, description="水效等级 1–5，1 最优；无则为 null")
    label_number: str = Field(..., description="中国能效标识备案编号")
    name: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class RowErrorOut(Schema):
    row: int = Field(..., description="文件中的行号（表头为第 1 行）")
    column: str
    column_label: str
    code: str
    message: str
    value: str


class ImportReportOut(Schema):
    """The API's view of ``services.ImportReport``: read from its attributes, with its ``import_id`` as ``id``."""

    id: int = Field(..., validation_alias="import_id")
    file_name: str
    file_format: str
    uploaded_at: datetime.datetime
    uploaded_by: str
    total_rows: int
    created: int
    updated: int
    unchanged: int
    refused: int = Field(..., description="被拒绝的行数")
    errors: list[RowErrorOut] = Field(..., description="每一条拒绝原因（一行可有多条）")


class PriceFilingIn(Schema):
    merchant_id: Int64
    product_id: Int64
    price_fen: Int64 = Field(..., description="备案价格（分），大于 0")
    effective_from: datetime.date = Field(..., description="生效日期，不早于今天（北京时间）")
    note: str = Field("", max_length=200)


class PriceFilter(Schema):
    merchant: QueryInt | None = Field(None, description="商户 ID")
    product: QueryInt | None = Field(None, description="产品 ID")


class PriceFilingOut(Schema):
    id: int
    merchant_id: int
    merchant_name: str = Field(..., alias="merchant.name")
    product_id: int
    product: str = Field(..., description="品牌 型号")
    price_fen: int
    effective_from: datetime.date
    filed_by: str
    filed_at: datetime.datetime
    note: str

    @staticmethod
    def resolve_product(obj: Any) -> str:
        return str(obj.product)

    @staticmethod
    def resolve_filed_by(obj: Any) -> str:
        return str(obj.filed_by)
