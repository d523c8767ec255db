"""Schemas of the recycling network API. Names start with ``NetworkSite`` so they stay unique across apps."""

from __future__ import annotations

from ninja import Schema
from pydantic import Field, StrictBool

from huanxin.core.schemas import Int64, QueryInt


class NetworkSiteIn(Schema):
    organisation_id: Int64 | None = Field(None, description="所属企业；只属于一家时可省略")
    kind: str = Field(
        ...,
        max_length=20,
        description="collection_point 回收网点 / sorting_centre 绿色分拣中心 / dismantling_plant 拆解处理厂",
    )
    name: str = Field(..., max_length=120, description="站点名称")
    district: str = Field(..., max_length=12, description="所在区（行政区划代码）")
    address: str = Field(..., max_length=200, description="地址")
    opening_hours: str = Field(..., max_length=80, description="营业时间，如 周一至周六 8:30-17:30")
    categories: list[str] = Field(..., max_length=40, description="接收品类代码")
    capacity_per_month: Int64 = Field(..., description="处理能力（台/月）")
    licence_id: Int64 = Field(..., description="本企业的资质证书（接收所依据的证书）")


class NetworkSiteActiveIn(Schema):
    organisation_id: Int64 | None = Field(None, description="所属企业；只属于一家时可省略")
    active: StrictBool = Field(..., description="true 启用 / false 停用")


class NetworkSitePublicOut(Schema):
    id: int
    kind: str
    kind_name: str
    name: str
    organisation_name: str
    district: str
    district_name: str
    address: str
    opening_hours: str
    categories: list[str]
    category_names: list[str]
    licence_number: str
    licence_valid_until: str | None = Field(None, description="资质证书有效期止（YYYY-MM-DD；长期有效为空）")


class NetworkSiteOut(NetworkSitePublicOut):
    organisation_id: int
    active: bool
    may_receive_today: bool
    refusal: str = Field("", description="今天不能接收的原因")
    capacity_per_month: int
    received_this_month: int = Field(..., description="本月本企业接收（上门回收、接收、卸车接收）的件数")
    shared_by: int = Field(..., description="追溯事件只记录企业、不记录站点：本企业启用站点数，本月件数由它们共用")
    organisation_capacity: int = Field(..., description="本企业启用站点的处理能力合计（台/月）")


class NetworkSiteFilter(Schema):
    district: str = Field("", max_length=12, description="所在区（行政区划代码）；留空为全市")
    category: str = Field("", max_length=30, description="接收品类代码；留空为全部")


class NetworkSiteMineFilter(Schema):
    organisation_id: QueryInt | None = Field(None, description="所属企业；只属于一家时可省略")
