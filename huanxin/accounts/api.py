"""Accounts API: resident registration and real-name verification, organisations, API tokens."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status
from ninja.pagination import paginate

from huanxin.accounts import services
from huanxin.accounts.http import current_user
from huanxin.accounts.models import ApiToken, District, Membership, Organisation, Person, Role
from huanxin.accounts.queries import get_organisation_for_user
from huanxin.accounts.schemas import (
    DistrictChangeIn,
    DistrictOut,
    IdentityIn,
    IssuedTokenOut,
    MembershipOut,
    MeOut,
    OrganisationIn,
    OrganisationOut,
    PersonOut,
    PhoneCodeIn,
    PhoneCodeOut,
    ResidentRegisterIn,
    TokenIn,
    TokenOut,
)
from huanxin.core import ratelimit
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import confining_organisation
from huanxin.core.schemas import Pagination, QueryInt

router = Router(tags=["账户与机构"])


@router.get("/districts", response=list[DistrictOut], auth=None, summary="行政区列表")
def list_districts(request: HttpRequest) -> Any:
    return District.objects.all()


@router.post(
    "/phone-codes",
    response={202: PhoneCodeOut},
    auth=None,
    summary="发送注册短信验证码",
    openapi_extra={"x-problems": [429]},
)
def send_phone_code(request: HttpRequest, payload: PhoneCodeIn) -> Any:
    sent = services.request_phone_code(phone=payload.phone, client_ip=ratelimit.client_ip(request))
    return Status(
        202, PhoneCodeOut(phone_masked=sent.phone_masked, expires_at=sent.expires_at, resend_after=sent.resend_after)
    )


@router.post(
    "/residents",
    response={201: MeOut},
    auth=None,
    summary="居民注册（手机号 + 验证码）",
    openapi_extra={"x-problems": [429]},
)
def register_resident(request: HttpRequest, payload: ResidentRegisterIn) -> Any:
    user = services.register_resident(
        phone=payload.phone, code=payload.code, password=payload.password, district=payload.district
    )
    return Status(201, _me(user))


@router.post("/me/identity", response=PersonOut, summary="实名认证（姓名 + 身份证号 + 登记居住区）")
def verify_identity(request: HttpRequest, payload: IdentityIn) -> Any:
    return services.verify_identity(
        actor=current_user(request), name=payload.name, resident_id=payload.resident_id, district=payload.district
    )


@router.post(
    "/me/district",
    response=PersonOut,
    summary="变更登记居住区（每个项目年度一次）",
    description="申领的补贴资格计入登记居住区的预算。同一自然年内第二次变更返回 422，字段 district，"
    "代码 district_change_limit；与当前相同返回 district_unchanged。已持有的资格仍计入原区。",
)
def change_district(request: HttpRequest, payload: DistrictChangeIn) -> Any:
    return services.change_registered_district(actor=current_user(request), district=payload.district)


def _me(user: Any) -> MeOut:
    memberships = Membership.objects.filter(user=user).select_related("organisation")
    confined_to = confining_organisation(user)
    if confined_to is not None:
        # A token speaks for its organisation only, and does not tell of the holder's other memberships.
        memberships = memberships.filter(organisation_id=confined_to)
    person = Person.objects.filter(user=user).first()
    return MeOut(
        id=user.pk,
        username=user.username,
        display_name=user.display_name,
        memberships=[
            MembershipOut(
                role=m.role,
                role_label=Role(m.role).label,
                organisation_id=m.organisation_id,
                organisation_name=m.organisation.name if m.organisation else None,
                district=m.district_id,
            )
            for m in memberships
        ],
        person=PersonOut.from_orm(person) if person else None,
    )


@router.get("/me", response=MeOut, summary="当前用户、角色与实名信息（脱敏）")
def me(request: HttpRequest) -> Any:
    return _me(request.user)


@router.get("/organisations", response=list[OrganisationOut], summary="机构列表（按权限范围）")
@paginate(Pagination)
def list_organisations(request: HttpRequest, kind: str | None = None, district: str | None = None) -> Any:
    queryset = Organisation.objects.visible_to(request.user).prefetch_related("licences").order_by("pk")
    if kind:
        queryset = queryset.filter(kind=kind)
    if district:
        queryset = queryset.filter(district_id=district)
    return queryset


@router.post("/organisations", response={201: OrganisationOut}, summary="登记机构（系统管理员）")
def create_organisation(request: HttpRequest, payload: OrganisationIn) -> Any:
    organisation = services.create_organisation(actor=current_user(request), **payload.dict())
    return Status(201, organisation)


@router.get("/organisations/{organisation_id}", response=OrganisationOut, summary="机构详情")
def get_organisation(request: HttpRequest, organisation_id: QueryInt) -> Any:
    return get_organisation_for_user(request.user, organisation_id)


@router.post(
    "/organisations/{organisation_id}/tokens", response={201: IssuedTokenOut}, summary="签发接口令牌（只显示一次）"
)
def issue_token(request: HttpRequest, organisation_id: QueryInt, payload: TokenIn) -> Any:
    organisation = get_organisation_for_user(request.user, organisation_id)
    holder = None
    if payload.user_id is not None:
        holder = (
            Membership.objects.filter(user_id=payload.user_id, organisation=organisation).select_related("user").first()
        )
        if holder is None:
            from huanxin.core.errors import ValidationFailed

            raise ValidationFailed.for_field("user_id", "not_a_member", "令牌持有人必须是该机构成员")
    issued = services.issue_api_token(
        actor=current_user(request),
        organisation=organisation,
        name=payload.name,
        user=holder.user if holder else None,
        expires_at=payload.expires_at,
    )
    out = TokenOut.from_orm(issued.token).dict()
    return Status(201, IssuedTokenOut(**out, token=issued.plaintext))


@router.post("/tokens/{token_id}/revoke", response=TokenOut, summary="吊销接口令牌")
def revoke_token(request: HttpRequest, token_id: QueryInt) -> Any:
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None:
        raise NotFoundError("令牌不存在", code="token_not_found")
    return services.revoke_api_token(actor=current_user(request), token=token)
