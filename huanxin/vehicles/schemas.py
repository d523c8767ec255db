"""Schemas of the vehicles API. Names start with ``Vehicle``/``Scrap`` so they stay unique across apps."""

from __future__ import annotations

import datetime
from typing import Any

from ninja import Schema
from pydantic import Field

from huanxin.core.schemas import MAX_OFFSET, MAX_PAGE_SIZE, Int64, QueryInt


class VehicleSearchIn(Schema):
    vin: str = Field(..., max_length=40, description="车辆识别代号（17位；在请求体中发送，不出现在网址中）")


class VehicleEventOut(Schema):
    id: int
    kind: str = Field(..., description="registration / transfer / inspection / scrapping / deregistration")
    kind_name: str
    occurred_on: datetime.date
    owner_kind: str = Field(..., description="person / organisation；非所有权业务为空")
    owner_name: str = Field(..., description="所有人（个人姓名已脱敏）")
    owner_id_masked: str = Field(..., description="所有人证件号码（脱敏）")
    district: str | None = Field(None, description="登记区代码")
    use: str
    details: dict[str, Any]
    source: str
    reference: str
    recorded_at: datetime.datetime


class VehicleOut(Schema):
    id: int
    vin: str
    vehicle_type: str
    vehicle_type_name: str
    use: str = Field(..., description="operating（营运）/ non_operating（非营运）")
    fuel: str
    is_nev: bool = Field(..., description="是否新能源汽车")
    displacement_ml: int = Field(..., description="排量（毫升）；纯电动、燃料电池为 0")
    emission_standard: str = Field(..., description="guo1 … guo6；纯电动、燃料电池为空")
    registered_on: datetime.date
    status: str = Field(..., description="registered（在用）/ scrapped（已报废回收）/ deregistered（已注销）")
    owner_kind: str
    owner_name: str = Field(..., description="所有人（个人姓名已脱敏）")
    owner_id_masked: str
    owner_since: datetime.date
    district: str = Field(..., description="登记区代码")
    district_name: str
    last_inspection_on: datetime.date | None
    mileage_km: int | None
    scrapped_on: datetime.date | None
    deregistered_on: datetime.date | None
    events: list[VehicleEventOut] = Field(..., description="全部生命周期记录，按发生顺序")


class VehicleImportRowErrorOut(Schema):
    row: int = Field(..., description="文件中的行号（表头为第 1 行）")
    column: str
    column_label: str
    code: str
    message: str
    value: str


class VehicleImportReportOut(Schema):
    id: int = Field(..., validation_alias="import_id")
    file_name: str
    file_format: str
    uploaded_at: datetime.datetime
    uploaded_by: str
    good_rows_only: bool
    outcome: str = Field(..., description="imported（已导入）/ refused（有错误，未导入任何行）")
    total_rows: int
    recorded: int = Field(..., description="新记录的业务数")
    unchanged: int = Field(..., description="已记录过、内容相同的行数（重复导入不产生变化）")
    refused: int = Field(..., description="被拒绝的行数")
    withheld: int = Field(..., description="无误但因文件有错误而未导入的行数")
    errors: list[VehicleImportRowErrorOut]


class ScrapListFilter(Schema):
    as_of: datetime.date | None = Field(None, description="评估日期，默认今天（北京时间）")
    district: str | None = Field(None, max_length=12, description="登记区代码")
    vehicle_type: str | None = Field(None, max_length=30, description="车辆类型代码")
    bj_truck_only: bool = Field(False, description="只列 bj-truck-2024 覆盖的国四营运重型货车")
    limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE, description="每页条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")


class ScrapReasonOut(Schema):
    code: str
    passed: bool
    message: str


class ScrapListItemOut(Schema):
    vin: str
    vehicle_type: str
    vehicle_type_name: str
    use: str
    emission_standard: str
    district: str
    registered_on: datetime.date
    owner_kind: str
    owner_name: str
    status: str = Field(..., description="must_scrap / due_within_year / bj_truck_2024")
    status_name: str
    must_scrap: bool
    service_life_ends_on: datetime.date | None
    guide_mileage_reached: bool
    bj_truck_2024: bool = Field(..., description="bj-truck-2024（国四营运重型货车更新）覆盖")
    reasons: list[ScrapReasonOut]


class ScrapSummaryOut(Schema):
    district: str
    district_name: str
    vehicle_type: str
    vehicle_type_name: str
    must_scrap: int
    due_within_year: int
    bj_truck_2024: int


class ScrapListOut(Schema):
    as_of: datetime.date
    count: int
    summary: list[ScrapSummaryOut] = Field(..., description="按登记区和车辆类型汇总")
    items: list[ScrapListItemOut]


# ---------------------------------------------------------------- scrapping


class ScrapCertificateIn(Schema):
    organisation_id: Int64 | None = Field(None, description="办理企业（报废机动车回收拆解企业）；只属于一家时可省略")
    vin: str = Field(..., max_length=40, description="车辆识别代号（17位）")
    owner_id_number: str = Field(
        ...,
        max_length=40,
        description="交车时出示的登记所有人证件号码：个人为居民身份证号码，单位为统一社会信用代码；须与机动车登记一致",
    )
    intake_on: datetime.date | None = Field(None, description="回收日期（默认今天）")


class ScrapCertificateRevokeIn(Schema):
    organisation_id: Int64 | None = Field(None, description="开具企业；只属于一家时可省略")
    reason: str = Field(
        ..., max_length=20, description="作废原因：wrong_vehicle / not_handed_over / duplicate / fraud / other"
    )
    note: str = Field("", max_length=200, description="作废说明（原因为 other 时必填）")


class ScrapAssemblyIn(Schema):
    assembly: str = Field(..., max_length=12, description="engine / steering / gearbox / axles / frame")
    destination: str = Field(..., max_length=20, description="remanufacturing（再制造企业）/ smelting（钢铁企业冶炼）")
    receiver_name: str = Field(..., max_length=120, description="接收单位名称")


class ScrapAssembliesIn(Schema):
    organisation_id: Int64 | None = None
    assemblies: list[ScrapAssemblyIn] = Field(..., max_length=10, description="五大总成各一项")


class ScrapBatteryIn(Schema):
    organisation_id: Int64 | None = None
    battery_code: str = Field(..., max_length=60, description="动力蓄电池编码（GB/T 34014，24位）")
    recycler_id: Int64 = Field(..., description="接收企业（持有有效梯次利用或再生利用资质）")


class ScrapAssemblyOut(Schema):
    assembly: str
    assembly_name: str
    destination: str
    destination_name: str
    receiver_name: str
    recorded_at: datetime.datetime


class ScrapBatteryOut(Schema):
    id: int
    battery_code: str
    trace_code: str
    recycler_id: int
    recycler_name: str
    handed_over_at: datetime.datetime


class ScrapCertificateOut(Schema):
    id: int
    number: str
    vin: str
    vehicle_type: str
    vehicle_type_name: str
    fuel: str
    is_nev: bool
    enterprise_id: int
    enterprise_name: str
    licence_number: str
    intake_on: datetime.date
    status: str
    owner_kind: str
    owner_name: str = Field(..., description="所有人（个人姓名已脱敏）")
    owner_id_masked: str
    issued_at: datetime.datetime
    owner_checked_at: datetime.datetime | None = Field(None, description="交车时核验所有人证件的时间")
    revoked_at: datetime.datetime | None = None
    revocation_reason: str = Field("", description="作废原因代码")
    revocation_reason_name: str = ""
    check_url: str = Field(..., description="公开核验页地址（二维码内容）")
    assemblies: list[ScrapAssemblyOut]
    batteries: list[ScrapBatteryOut]


class ScrapCertificateCheckOut(Schema):
    """What anyone may learn about a certificate: never the owner."""

    number: str
    valid: bool
    status: str
    status_name: str
    vin_masked: str
    vehicle_type_name: str
    enterprise_name: str
    intake_on: datetime.date


class ScrapCertificateFilter(Schema):
    organisation_id: QueryInt | None = Field(None, description="办理企业；只属于一家时可省略")
    limit: int = Field(50, ge=1, le=MAX_PAGE_SIZE, description="每页条数（1–500）")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="跳过的条数")


class ScrapCertificateListOut(Schema):
    count: int
    items: list[ScrapCertificateOut]
