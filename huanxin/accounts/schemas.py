from __future__ import annotations

import datetime

from ninja import Schema
from pydantic import Field

from huanxin.core.schemas import Int64


class PhoneCodeIn(Schema):
    phone: str = Field(..., max_length=20, description="中国大陆手机号")


class PhoneCodeOut(Schema):
    phone_masked: str
    expires_at: datetime.datetime
    resend_after: int = Field(..., description="再次获取验证码前须等待的秒数")


class ResidentRegisterIn(Schema):
    phone: str = Field(..., max_length=20)
    code: str = Field(..., max_length=10, description="短信验证码")
    password: str = Field(..., min_length=8, max_length=128)
    district: str | None = Field(None, max_length=12, description="居住区 GB/T 2260 代码")


class IdentityIn(Schema):
    name: str = Field(..., max_length=40, description="与身份证一致，2至20个汉字；少数民族姓名各部分之间用“·”分隔")
    resident_id: str = Field(
        ...,
        max_length=30,
        description="18位居民身份证号码；出生日期须在1900-01-01至今天之间，且年满城市设定的最低申领年龄",
    )
    district: str | None = Field(
        None,
        max_length=12,
        description="登记居住区 GB/T 2260 代码：申领的补贴计入该区预算。注册时未填写居住区则必填；填写则以此为准",
    )


class DistrictChangeIn(Schema):
    district: str = Field(
        ..., max_length=12, description="新的登记居住区 GB/T 2260 代码；每个项目年度（自然年）最多变更一次"
    )


class PersonOut(Schema):
    id: int
    name: str
    resident_id_masked: str
    phone_masked: str
    district: str | None = Field(None, alias="district_id")
    verified_at: datetime.datetime | None


class MembershipOut(Schema):
    role: str
    role_label: str
    organisation_id: int | None
    organisation_name: str | None
    district: str | None


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    memberships: list[MembershipOut]
    person: PersonOut | None


class DistrictOut(Schema):
    code: str
    name: str
    short_name: str
    kind: str


class OrganisationIn(Schema):
    name: str = Field(..., max_length=120)
    short_name: str = Field("", max_length=40)
    kind: str = Field(
        ..., max_length=20, description="merchant / recycler / dismantler / vehicle_scrapper / bank / government"
    )
    uscc: str = Field(..., max_length=30, description="统一社会信用代码（GB 32100）")
    district: str = Field(..., max_length=12)
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=60)


class LicenceOut(Schema):
    kind: str
    number: str
    valid_from: datetime.date
    valid_until: datetime.date | None


class OrganisationOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    uscc: str
    district: str = Field(..., alias="district_id")
    address: str
    status: str
    licences: list[LicenceOut] = []


class TokenIn(Schema):
    name: str = Field(..., max_length=80)
    user_id: Int64 | None = None
    expires_at: datetime.datetime | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    organisation_id: int
    created_at: datetime.datetime
    expires_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(..., description="只在签发时显示一次")
