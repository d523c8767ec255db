from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field, StrictBool, StrictInt

from huanxin.core.domain.money import MAX_FEN
from huanxin.core.schemas import Int32, Int64


class ClaimIn(Schema):
    programme: str = Field(..., max_length=40, description="补贴项目代码")
    category: str = Field(..., max_length=30, description="品类代码")
    district: str | None = Field(
        None,
        max_length=12,
        description="不需填写：资格一律计入本人登记居住区的预算。为兼容旧客户端仍可发送，"
        "但与登记居住区不同时返回 422（字段 district，代码 district_mismatch），不会改计到其他区",
        json_schema_extra={"deprecated": True},
    )


class QualificationOut(Schema):
    id: int
    code: str
    code_display: str
    programme: str
    programme_name: str
    category: str
    district: str
    held_fen: int
    status: str
    status_label: str
    issued_at: datetime.datetime
    expires_at: datetime.datetime
    rule_version: str


class QualificationLookupOut(Schema):
    code: str
    programme: str
    programme_name: str
    category: str
    status: str
    status_label: str
    max_subsidy_fen: int
    expires_at: datetime.datetime
    holder: str = Field(..., description="持有人（脱敏）")


class RefusalOut(Schema):
    programme: str
    category: str
    code: str
    message: str
    reasons: list[dict[str, object]]
    created_at: datetime.datetime


class TakeBackIn(Schema):
    category: str = Field(..., max_length=30)
    condition: str = Field(..., description="working / damaged / scrap")
    to_recycler: StrictBool = True
    description: str = Field("", max_length=200)


class RedeemIn(Schema):
    code: str = Field(..., max_length=30, description="资格码（可含空格或短横线）")
    store_id: Int64
    product_id: Int64
    serial: str = Field(..., max_length=60, description="序列号；手机填写IMEI")
    price_fen: StrictInt = Field(..., gt=0, le=MAX_FEN, description="最终成交价（分），整数")
    merchant_id: Int64 | None = Field(None, description="会话登录且属于多个商户时必填；令牌调用时取令牌所属商户")
    take_back: TakeBackIn | None = None


class RedeemConfirmIn(RedeemIn):
    confirmed_subsidy_fen: StrictInt = Field(
        ...,
        ge=0,
        le=MAX_FEN,
        description=(
            "向顾客展示并经确认的补贴金额（分），取自 /redemptions/quote；"
            "与核销时计算的金额不同则拒绝（409 quote_changed）"
        ),
    )


class QuoteOut(Schema):
    qualification_code: str
    product_id: int
    category: str
    price_fen: int
    subsidy_fen: int
    paid_fen: int = Field(..., description="顾客实付（分）= 成交价 − 补贴")
    filed_price_fen: int | None = Field(None, description="本商户该型号的备案价（分），无备案为空")
    held: bool = Field(..., description="核销后该笔清算款是否暂扣待复核")
    hold_reason: str = Field("", description="暂扣原因代码：above_filed_price、no_filed_price")
    hold_message: str = ""
    rule_version: str
    reasons: list[dict[str, object]]


class HoldDecisionIn(Schema):
    note: str = Field("", max_length=200, description="复核意见；驳回必填")


class HoldOut(Schema):
    id: int
    redemption_id: int
    merchant_id: int
    district: str
    reason: str
    reasons: list[dict[str, object]]
    status: str
    status_label: str
    price_fen: int
    subsidy_fen: int
    placed_at: datetime.datetime
    decided_at: datetime.datetime | None
    note: str


class RedemptionOut(Schema):
    id: int
    qualification_code: str
    programme: str
    merchant_id: int
    store_id: int
    product_id: int
    category: str
    serial: str
    price_fen: int
    subsidy_fen: int
    returned_fen: int
    status: str
    rule_version: str
    redeemed_at: datetime.datetime
    reasons: list[dict[str, object]]
    withheld: bool = Field(..., description="核销时被暂扣：清算款待复核后才支付")
    hold_status: str = Field("", description="暂扣状态：held、cleared、rejected；未暂扣为空")


class ReturnPreviewIn(Schema):
    kind: str = Field(
        ...,
        description="full：整单退货（退还顾客实付全额，补贴全部冲回）；partial：部分退货（须给出新的最终成交价）",
        examples=["full", "partial"],
    )
    new_price_fen: Int64 | None = Field(
        None, description="部分退货：顾客保留商品后继续支付的最终成交价（分，补贴之前），须大于0且低于原成交价"
    )


class ReturnIn(ReturnPreviewIn):
    reason: str = Field(..., max_length=200)


class ReturnQuoteOut(Schema):
    kind: str
    new_price_fen: int
    new_subsidy_fen: int
    refund_fen: int = Field(..., description="退还顾客的金额（分）")
    clawback_fen: int = Field(..., description="冲回预算、由商户退还的补贴（分）")
    quota_released: bool = Field(..., description="顾客的名额是否恢复")


class ReturnOut(Schema):
    id: int
    redemption_id: int
    kind: str
    new_price_fen: int | None
    new_subsidy_fen: int
    refund_fen: int
    reversed_fen: int
    quota_released: bool
    reason: str
    recorded_at: datetime.datetime


class StoreIn(Schema):
    merchant_id: Int64
    name: str = Field(..., max_length=100)
    address: str = Field(..., max_length=200)
    district: str = Field(..., max_length=12)


class StoreOut(Schema):
    id: int
    merchant_id: int
    name: str
    address: str
    district: str
    is_active: bool


class EnrolmentIn(Schema):
    merchant_id: Int64
    programme: str = Field(..., max_length=40)
    categories: list[str]
    store_ids: list[Int64]
    bank_name: str = Field(..., max_length=100)
    account_name: str = Field(..., max_length=120)
    bank_account: str = Field(..., max_length=40)
    contact_name: str = Field(..., max_length=60)
    contact_phone: str = Field(..., max_length=20)


class EnrolmentOut(Schema):
    id: int
    merchant_id: int
    merchant_name: str
    programme: str
    status: str
    status_label: str
    categories: list[str]
    store_ids: list[int]
    bank_name: str
    bank_account_masked: str
    contact_name: str
    contact_phone_masked: str
    decision_note: str


class EnrolmentDecisionIn(Schema):
    action: str = Field(..., description="approve / refuse / suspend / resume")
    note: str = Field("", max_length=500)


class RoundIn(Schema):
    programme: str = Field(..., max_length=40)
    name: str = Field(..., max_length=60)
    opens_at: datetime.datetime
    closes_at: datetime.datetime | None = None
    limits: dict[str, Int32] = Field(default_factory=dict, description="品类 → 本批次名额")


class RoundOut(Schema):
    id: int
    programme: str
    name: str
    opens_at: datetime.datetime
    closes_at: datetime.datetime | None
    limits: dict[str, int]
    issued: dict[str, int]
