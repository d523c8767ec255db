"""Schemas of the car application API. Names start with ``CarApp`` so they stay unique across apps."""

from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field, StrictBool

from huanxin.core.schemas import Int64


class CarAppIn(Schema):
    programme_code: str = Field(..., max_length=40, description="cn-car-scrap-2026 或 cn-car-replace-2026 等")
    old_vin: str = Field(..., max_length=40, description="旧车车辆识别代号")
    new_vin: str = Field(..., max_length=40, description="新车车辆识别代号")
    certificate_number: str = Field("", max_length=60, description="报废机动车回收证明编号（报废更新必填）")
    transfer_invoice_number: str = Field("", max_length=40, description="旧车转让发票号码（置换更新必填）")
    new_invoice_number: str = Field(..., max_length=40, description="新车发票号码")
    new_car_price_fen: Int64 = Field(..., description="新车价格（分，发票金额）")
    new_energy: str = Field(..., description="nev（新能源）或 fuel（燃油）")
    new_model_code: str = Field("", max_length=40, description="新车车辆型号（新能源车按目录核验）")
    new_displacement_ml: Int64 = Field(0, description="燃油车排量（毫升）")
    bank_name: str = Field(..., max_length=100, description="开户银行")
    account_number: str = Field(..., max_length=40, description="银行账号（加密保存，仅显示脱敏号码）")


class CarAppTruckIn(Schema):
    """An organisation's bj-truck-2024 application: an old truck scrapped, a new truck bought, or both."""

    organisation_id: Int64 | None = Field(
        None, description="申请单位（接口令牌只能代表其签发单位；在多个单位任职的登录用户须指定）"
    )
    old_vin: str = Field("", max_length=40, description="淘汰的旧车车辆识别代号（仅购置新车时留空）")
    certificate_number: str = Field("", max_length=60, description="报废机动车回收证明编号（淘汰旧车时必填）")
    new_vin: str = Field("", max_length=40, description="购置的新车车辆识别代号（仅淘汰旧车时留空）")
    new_energy: str = Field("", max_length=6, description="新车类型：guo6（国六排放）或 nev（新能源）")
    new_weight_class: str = Field("", max_length=8, description="新车重量类别：heavy / medium / light")
    new_refrigerated: StrictBool = Field(False, description="新车为冷藏车")
    new_invoice_number: str = Field("", max_length=40, description="新车发票号码")
    new_truck_price_fen: Int64 = Field(0, description="新车价格（分，发票金额；不购置新车时为0）")
    bank_name: str = Field(..., max_length=100, description="开户银行")
    account_number: str = Field(..., max_length=40, description="单位银行账号（加密保存，仅显示脱敏号码）")


class CarAppCheckOut(Schema):
    code: str
    title: str
    result: str = Field(..., description="pass / fail / unknown / not_applicable（不适用）")
    message: str


class CarAppStepOut(Schema):
    kind: str
    title: str
    reason_code: str
    note: str
    at: datetime.datetime


class CarAppStageOut(Schema):
    code: str = Field(..., description="accept / decide / pay")
    title: str
    started_on: datetime.date | None
    due_on: datetime.date | None
    done_on: datetime.date | None
    paused: bool
    paused_days: int


class CarAppClockOut(Schema):
    stages: list[CarAppStageOut]
    expected_payment_on: datetime.date | None = Field(None, description="预计到账日期（法定时限的最晚日期）")
    calendar_missing_years: list[int] = Field(
        ..., description="时限跨越但平台尚未载入节假日安排的年份：其中日期按周一至周五估算，须人工核对"
    )


class CarAppEvidenceOut(Schema):
    id: int
    kind: str
    kind_name: str
    file_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime.datetime


class CarAppOut(Schema):
    id: int
    number: str
    programme: str
    kind: str
    status: str
    status_name: str
    applicant: str = Field(..., description="申请人（个人脱敏；单位为全称）")
    applicant_kind: str = Field(..., description="person（居民个人）或 organisation（单位）")
    applicant_organisation_id: int | None = Field(None, description="申请单位")
    old_vin: str
    new_vin: str
    certificate_number: str
    transfer_invoice_number: str
    new_invoice_number: str
    new_price_fen: int
    new_energy: str
    new_model_code: str
    new_displacement_ml: int
    new_weight_class: str = Field(..., description="新货车重量类别（营运货车申请）")
    new_refrigerated: bool = Field(..., description="新货车为冷藏车（营运货车申请）")
    account_masked: str
    prepared: bool = Field(..., description="由企业代办")
    submitted_on: datetime.date
    accepted_on: datetime.date | None
    decided_on: datetime.date | None
    paid_on: datetime.date | None
    reason_code: str
    amount_fen: int
    supplement_due_on: datetime.date | None
    supplement_note: str
    reconsideration_requested: bool
    checks: list[CarAppCheckOut]
    steps: list[CarAppStepOut]
    clock: CarAppClockOut
    evidence: list[CarAppEvidenceOut]


class CarAppSummaryOut(Schema):
    id: int
    number: str
    programme: str
    status: str
    status_name: str
    submitted_on: datetime.date
    due_on: datetime.date | None = Field(None, description="当前环节的截止日期")
    stage: str | None
    expected_payment_on: datetime.date | None


class CarAppSupplementIn(Schema):
    note: str = Field(..., max_length=500)
    due_on: datetime.date


class CarAppDecisionIn(Schema):
    approve: StrictBool
    reason_code: str = Field(
        ..., max_length=30, description="批准：all_checks_passed / checked_by_hand；不予批准：见 reason_codes"
    )
    note: str = Field("", max_length=500)


class CarAppReconsiderationIn(Schema):
    note: str = Field(..., max_length=500)


class CarAppNevImportOut(Schema):
    added: int = Field(..., description="新增的车型数（已有的车型不变）")


class CarAppPrepareIn(Schema):
    resident_id: str = Field(..., max_length=18, description="申请人身份证号（须已在平台实名认证）")
    consent_note: str = Field(..., max_length=200, description="申请人授权说明（如授权书编号）")
    programme_code: str = Field(..., max_length=40)
    old_vin: str = Field(..., max_length=40)
    new_vin: str = Field(..., max_length=40)
    certificate_number: str = Field("", max_length=60)
    transfer_invoice_number: str = Field("", max_length=40)
    new_invoice_number: str = Field(..., max_length=40)
    new_car_price_fen: Int64
    new_energy: str
    new_model_code: str = Field("", max_length=40)
    new_displacement_ml: Int64 = 0


class CarAppConfirmIn(Schema):
    bank_name: str = Field(..., max_length=100)
    account_number: str = Field(..., max_length=40, description="申请人本人银行账号（加密保存）")
