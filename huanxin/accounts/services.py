"""The write side of accounts: registration, real-name verification, organisations, roles, tokens.

Every function here owns its transaction, checks who is acting, and writes the audit row itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts.identity import get_identity_verifier
from huanxin.accounts.models import (
    ROLES_BY_KIND,
    ApiToken,
    District,
    DistrictChange,
    Licence,
    Membership,
    Organisation,
    OrganisationKind,
    Person,
    PhoneChallenge,
    Role,
    User,
)
from huanxin.accounts.sms import SmsBackend, get_sms_backend
from huanxin.core import audit, crypto, ratelimit
from huanxin.core.domain.identifiers import (
    IdentifierError,
    age_on,
    resident_id_birth_date,
    validate_mobile,
    validate_resident_id,
    validate_resident_name,
    validate_uscc,
)
from huanxin.core.domain.masking import mask_mobile
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, RateLimitedError, ValidationFailed
from huanxin.core.permissions import forget_grants, has_role

OTP_LENGTH = 6
OTP_MAX_ATTEMPTS = 5
OTP_PER_PHONE_PER_HOUR = 5
PERSON_AUDIT_FIELDS = ("name", "resident_id_masked", "phone_masked", "district", "verified_at")


def _field(field: str, validator: Any, value: str) -> str:
    """Run an identifier validator and turn its refusal into a field-level validation error."""
    try:
        result: str = validator(value)
    except IdentifierError as exc:
        raise ValidationFailed.for_field(field, exc.code, exc.message) from None
    return result


def _district(code: str | None, field: str = "district") -> District | None:
    if not code:
        return None
    district = District.objects.filter(code=code).first()
    if district is None:
        raise ValidationFailed.for_field(field, "unknown_district", "所选行政区不存在")
    return district


def _code_digest(phone_digest: str, code: str) -> str:
    return crypto.blind_index(f"{phone_digest}:{code}", purpose="otp")


# ---------------------------------------------------------------- residents


@dataclass(frozen=True)
class CodeSent:
    expires_at: datetime.datetime
    phone_masked: str


def request_phone_code(*, phone: str, purpose: str = "register", sms_backend: SmsBackend | None = None) -> CodeSent:
    """Send a one-time code to a mobile number; at most five an hour per number."""
    backend = sms_backend or get_sms_backend()
    phone = _field("phone", validate_mobile, phone)
    phone_digest = crypto.blind_index(phone, purpose="phone")
    if not ratelimit.hit(f"otp:{phone_digest}", limit=OTP_PER_PHONE_PER_HOUR, window_seconds=3600):
        raise RateLimitedError("验证码发送过于频繁，请一小时后再试", code="otp_rate_limited")
    code = f"{secrets.randbelow(10**OTP_LENGTH):0{OTP_LENGTH}d}"
    expires_at = timezone.now() + datetime.timedelta(seconds=settings.HUANXIN_OTP_TTL_SECONDS)
    with transaction.atomic(durable=True):
        # A new code supersedes every earlier one for the same number and purpose.
        PhoneChallenge.objects.filter(phone_digest=phone_digest, purpose=purpose, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        )
        PhoneChallenge.objects.create(
            phone_digest=phone_digest,
            code_digest=_code_digest(phone_digest, code),
            purpose=purpose,
            expires_at=expires_at,
        )
        transaction.on_commit(lambda: backend.send_code(phone, code, purpose))
    return CodeSent(expires_at=expires_at, phone_masked=mask_mobile(phone))


def _consume_code(phone_digest: str, code: str, purpose: str) -> FieldError | None:
    """Check and use up a one-time code; wrong guesses count, five wrong ones burn the code.

    Returns the refusal instead of raising it, so that the caller can commit the attempt count first:
    a refusal raised inside the transaction would roll the count back and allow unlimited guessing.
    """
    challenge = (
        PhoneChallenge.objects.filter(
            phone_digest=phone_digest, purpose=purpose, consumed_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )
    expired = FieldError("code", "code_expired", "验证码已失效，请重新获取")
    if challenge is None or challenge.attempts >= OTP_MAX_ATTEMPTS:
        return expired
    if not hmac.compare_digest(challenge.code_digest, _code_digest(phone_digest, code.strip())):
        PhoneChallenge.objects.filter(pk=challenge.pk).update(attempts=F("attempts") + 1)
        return FieldError("code", "code_mismatch", "验证码不正确")
    used = PhoneChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())
    return None if used == 1 else expired


def register_resident(*, phone: str, code: str, password: str, district: str | None = None) -> User:
    """Create a resident's account once they prove they hold the mobile number. One number, one account."""
    phone = _field("phone", validate_mobile, phone)
    phone_digest = crypto.blind_index(phone, purpose="phone")
    district_obj = _district(district)
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed.for_field("password", "weak_password", "；".join(exc.messages)) from None
    if Person.objects.filter(phone_digest=phone_digest).exists():
        raise ValidationFailed.for_field("phone", "phone_taken", "该手机号已注册，请直接登录")
    # The code check commits on its own so that a wrong guess stays counted although we refuse.
    with transaction.atomic():
        refusal = _consume_code(phone_digest, code or "", "register")
    if refusal is not None:
        raise ValidationFailed(refusal.message, code=refusal.code, errors=[refusal])
    try:
        with transaction.atomic(durable=True):
            user = User(username=f"r{secrets.token_hex(6)}", display_name=f"居民 {mask_mobile(phone)}")
            user.set_password(password)
            user.save()
            person = Person(user=user, district=district_obj)
            person.set_phone(phone)
            person.save()
            Membership.objects.create(user=user, role=Role.CONSUMER)
            audit.record(
                actor=user,
                action="accounts.resident.register",
                target=person,
                after=audit.snapshot(person, ("phone_masked", "district")),
                district_code=district_obj.code if district_obj else "",
            )
    except IntegrityError:
        raise ValidationFailed.for_field("phone", "phone_taken", "该手机号已注册，请直接登录") from None
    return user


def _resident_age_error(resident_id: str, today: datetime.date) -> FieldError | None:
    """The refusal for a resident younger than the city's minimum claim age on ``today``, if they are."""
    minimum = settings.HUANXIN_MIN_CLAIM_AGE
    if age_on(resident_id_birth_date(resident_id), today) >= minimum:
        return None
    return FieldError(
        "resident_id", "under_minimum_age", f"申领补贴须年满{minimum}周岁，按身份证上的出生日期您尚未满{minimum}周岁"
    )


def verify_identity(
    *,
    actor: User,
    name: str,
    resident_id: str,
    district: str | None = None,
    now: datetime.datetime | None = None,
) -> Person:
    """Real-name verification: bind a name, resident ID and registered district to the actor's profile.
    One ID, one account. The district (required unless registration gave one) is the budget every claim is
    charged to. Residents below the city's minimum claim age are refused: the account exists to claim."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    errors: list[FieldError] = []
    try:
        name = validate_resident_name(name)
    except IdentifierError as exc:
        errors.append(FieldError("name", exc.code, exc.message))
    try:
        resident_id = validate_resident_id(resident_id, today=today)
    except IdentifierError as exc:
        errors.append(FieldError("resident_id", exc.code, exc.message))
    else:
        too_young = _resident_age_error(resident_id, today)
        if too_young is not None:
            errors.append(too_young)
    district_obj: District | None = None
    if district:
        district_obj = District.objects.filter(code=district).first()
        if district_obj is None:
            errors.append(FieldError("district", "unknown_district", "所选行政区不存在"))
    person = Person.objects.filter(user=actor).first()
    if person is None:
        raise ForbiddenError("只有注册居民可以进行实名认证", code="not_a_resident")
    if not district and person.district_id is None:
        errors.append(FieldError("district", "required", "请选择登记居住区：申领的补贴计入该区预算"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    if person.is_verified:
        raise ConflictError("已完成实名认证，如需更正请联系客服", code="already_verified")
    digest = crypto.blind_index(resident_id, purpose="resident_id")
    if Person.objects.filter(resident_id_digest=digest).exclude(pk=person.pk).exists():
        raise ValidationFailed.for_field(
            "resident_id", "resident_id_taken", "该身份证号已绑定其他账户，每个身份证号只能注册一个账户"
        )
    result = get_identity_verifier().verify(name=name, resident_id=resident_id)
    if not result.verified:
        raise ValidationFailed.for_field("resident_id", "identity_rejected", result.message or "姓名与身份证号不匹配")
    try:
        with transaction.atomic(durable=True):
            before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
            person.name = name
            person.set_resident_id(resident_id)
            person.verified_at = now
            person.verification_method = result.method
            if district_obj is not None:
                person.district = district_obj
            updated = Person.objects.filter(pk=person.pk, verified_at__isnull=True).update(
                name=person.name,
                resident_id_cipher=person.resident_id_cipher,
                resident_id_digest=person.resident_id_digest,
                resident_id_masked=person.resident_id_masked,
                verified_at=person.verified_at,
                verification_method=person.verification_method,
                district=person.district_id,
            )
            if updated != 1:
                raise ConflictError("已完成实名认证", code="already_verified")
            audit.record(
                actor=actor,
                action="accounts.resident.verify_identity",
                target=person,
                before=before,
                after=audit.snapshot(person, PERSON_AUDIT_FIELDS),
                district_code=person.district_id or "",
            )
    except IntegrityError:
        raise ValidationFailed.for_field(
            "resident_id", "resident_id_taken", "该身份证号已绑定其他账户，每个身份证号只能注册一个账户"
        ) from None
    return person


def district_change_year(now: datetime.datetime) -> int:
    """The programme year a district change counts against: the calendar year in Beijing time, the span of
    the programmes' budgets."""
    return timezone.localdate(now).year


def _district_change_limit(year: int) -> ValidationFailed:
    return ValidationFailed.for_field(
        "district",
        "district_change_limit",
        f"登记居住区每个项目年度只能变更一次：您{year}年已变更过，{year + 1}年1月1日起可再次变更",
    )


def _first_registered_district(actor: User, person: Person, target: District) -> Person:
    """A profile verified before the district was asked for registers one; that is not a change."""
    with transaction.atomic(durable=True):
        if not Person.objects.filter(pk=person.pk, district__isnull=True).update(district=target):
            raise ConflictError("登记居住区刚刚已被修改，请刷新后重试", code="district_changed_meanwhile")
        person.district = target
        audit.record(
            actor=actor,
            action="accounts.resident.register_district",
            target=person,
            before={"district": None},
            after={"district": target.code},
            district_code=target.code,
        )
    return person


def change_registered_district(*, actor: User, district: str, now: datetime.datetime | None = None) -> Person:
    """A verified resident moves their registered district — the budget their later claims are charged to —
    at most once per programme year. Qualifications already held stay charged to the district they were
    claimed in."""
    now = now or timezone.now()
    person = Person.objects.filter(user=actor).first()
    if person is None:
        raise ForbiddenError("只有注册居民可以变更登记居住区", code="not_a_resident")
    if not person.is_verified:
        raise ForbiddenError("请先完成实名认证", code="identity_required")
    target = District.objects.filter(code=district or "").first()
    if target is None:
        raise ValidationFailed.for_field("district", "unknown_district", "所选行政区不存在")
    if target.code == person.district_id:
        raise ValidationFailed.for_field("district", "district_unchanged", "所选区与当前登记居住区相同")
    if person.district_id is None:
        return _first_registered_district(actor, person, target)
    year = district_change_year(now)
    if DistrictChange.objects.filter(person=person, year=year).exists():
        raise _district_change_limit(year)
    previous = person.district_id
    try:
        with transaction.atomic(durable=True):
            # The unique (person, year) row decides between two changes racing each other.
            change = DistrictChange.objects.create(
                person=person, from_district_id=previous, to_district=target, year=year, changed_at=now
            )
            if not Person.objects.filter(pk=person.pk, district_id=previous).update(district=target):
                raise ConflictError("登记居住区刚刚已被修改，请刷新后重试", code="district_changed_meanwhile")
            person.district = target
            audit.record(
                actor=actor,
                action="accounts.resident.change_district",
                target=person,
                before={"district": previous},
                after={"district": target.code, "year": year, "change": change.pk},
                district_code=target.code,
            )
    except IntegrityError:
        raise _district_change_limit(year) from None
    return person


# ---------------------------------------------------------------- organisations and staff


def _require_administrator(actor: User) -> None:
    if not has_role(actor, Role.ADMINISTRATOR):
        raise ForbiddenError("只有系统管理员可以执行此操作", code="administrator_required")


ORGANISATION_AUDIT_FIELDS = ("name", "short_name", "kind", "uscc", "district", "address", "status")


def create_organisation(
    *,
    actor: User,
    name: str,
    kind: str,
    uscc: str,
    district: str,
    short_name: str = "",
    address: str = "",
    contact_name: str = "",
) -> Organisation:
    """Enrol an organisation under its unified social credit code (one record per code)."""
    _require_administrator(actor)
    errors: list[FieldError] = []
    name = (name or "").strip()
    if not 2 <= len(name) <= 120:
        errors.append(FieldError("name", "invalid_name", "机构名称应为2至120个字符"))
    if kind not in OrganisationKind.values:
        errors.append(FieldError("kind", "invalid_choice", "机构类型无效"))
    try:
        uscc = validate_uscc(uscc)
    except IdentifierError as exc:
        errors.append(FieldError("uscc", exc.code, exc.message))
    district_obj = District.objects.filter(code=district).first()
    if district_obj is None:
        errors.append(FieldError("district", "unknown_district", "所选行政区不存在"))
    if errors or district_obj is None:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic(durable=True):
            organisation = Organisation.objects.create(
                name=name,
                short_name=short_name.strip(),
                kind=kind,
                uscc=uscc,
                district=district_obj,
                address=address.strip(),
                contact_name=contact_name.strip(),
            )
            audit.record(
                actor=actor,
                action="accounts.organisation.create",
                target=organisation,
                after=audit.snapshot(organisation, ORGANISATION_AUDIT_FIELDS),
                organisation_id=organisation.pk,
                district_code=district_obj.code,
            )
    except IntegrityError:
        raise ValidationFailed.for_field("uscc", "uscc_taken", "该统一社会信用代码的机构已登记") from None
    return organisation


def add_licence(
    *,
    actor: User,
    organisation: Organisation,
    kind: str,
    number: str,
    valid_from: datetime.date,
    valid_until: datetime.date | None = None,
) -> Licence:
    """Record a licence with its validity period."""
    _require_administrator(actor)
    if kind not in Licence.Kind.values:
        raise ValidationFailed.for_field("kind", "invalid_choice", "证书类型无效")
    if valid_until is not None and valid_until < valid_from:
        raise ValidationFailed.for_field("valid_until", "invalid_range", "有效期止不能早于有效期起")
    try:
        with transaction.atomic(durable=True):
            licence = Licence.objects.create(
                organisation=organisation,
                kind=kind,
                number=number.strip(),
                valid_from=valid_from,
                valid_until=valid_until,
            )
            audit.record(
                actor=actor,
                action="accounts.licence.add",
                target=licence,
                after=audit.snapshot(licence, ("kind", "number", "valid_from", "valid_until")),
                organisation_id=organisation.pk,
                district_code=organisation.district_id,
            )
    except IntegrityError:
        raise ValidationFailed.for_field("number", "licence_taken", "该证书编号已登记") from None
    return licence


def create_staff_user(*, actor: User, username: str, password: str, display_name: str = "") -> User:
    """Create a staff sign-in (merchant clerks, reviewers …); roles are granted separately."""
    _require_administrator(actor)
    if User.objects.filter(username=username).exists():
        raise ValidationFailed.for_field("username", "username_taken", "该用户名已被使用")
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed.for_field("password", "weak_password", "；".join(exc.messages)) from None
    with transaction.atomic(durable=True):
        user = User(username=username, display_name=display_name)
        user.set_password(password)
        user.save()
        audit.record(
            actor=actor,
            action="accounts.user.create",
            target=user,
            after={"username": username, "display_name": display_name},
        )
    return user


def grant_role(
    *, actor: User, user: User, role: str, organisation: Organisation | None = None, district: str | None = None
) -> Membership:
    """Give a user a role in an organisation; the role must suit the organisation's kind."""
    _require_administrator(actor)
    if role not in Role.values:
        raise ValidationFailed.for_field("role", "invalid_choice", "角色无效")
    if role == Role.CONSUMER:
        if organisation is not None:
            raise ValidationFailed.for_field("organisation", "not_allowed", "消费者角色不属于任何机构")
    elif organisation is None:
        raise ValidationFailed.for_field("organisation", "required", "请选择机构")
    elif role not in ROLES_BY_KIND[organisation.kind]:
        raise ValidationFailed.for_field("role", "role_not_for_kind", "该角色不适用于此类机构")
    district_obj = _district(district)
    if district_obj is not None and (organisation is None or organisation.kind != OrganisationKind.GOVERNMENT):
        raise ValidationFailed.for_field("district", "not_allowed", "只有政府用户可以设置辖区")
    try:
        with transaction.atomic(durable=True):
            membership = Membership.objects.create(
                user=user, organisation=organisation, role=role, district=district_obj
            )
            audit.record(
                actor=actor,
                action="accounts.membership.grant",
                target=membership,
                after={
                    "user": user.pk,
                    "role": role,
                    "organisation": organisation.pk if organisation else None,
                    "district": district_obj.code if district_obj else None,
                },
                organisation_id=organisation.pk if organisation else None,
                district_code=district_obj.code if district_obj else "",
            )
    except IntegrityError:
        raise ValidationFailed.for_field("role", "role_taken", "该用户在此机构已有此角色") from None
    forget_grants(user)
    return membership


# ---------------------------------------------------------------- API tokens

TOKEN_PREFIX = "hx"


def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    plaintext: str


def issue_api_token(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    user: User | None = None,
    expires_at: datetime.datetime | None = None,
) -> IssuedToken:
    """Issue a token for a POS or system client acting as ``user`` in ``organisation``; shown once."""
    holder = user or actor
    is_manager = organisation.pk in {
        m.organisation_id for m in Membership.objects.filter(user=actor, role=Role.MERCHANT_MANAGER)
    }
    if not (has_role(actor, Role.ADMINISTRATOR) or is_manager):
        raise ForbiddenError("只有机构负责人或系统管理员可以签发接口令牌", code="token_issue_forbidden")
    if not Membership.objects.filter(user=holder, organisation=organisation).exists():
        raise ValidationFailed.for_field("user", "not_a_member", "令牌持有人必须是该机构成员")
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise ValidationFailed.for_field("name", "invalid_name", "请填写令牌名称（80字以内）")
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    plaintext = f"{TOKEN_PREFIX}_{prefix}_{secret}"
    with transaction.atomic(durable=True):
        token = ApiToken.objects.create(
            user=holder,
            organisation=organisation,
            name=name,
            prefix=prefix,
            digest=_token_digest(plaintext),
            expires_at=expires_at,
        )
        audit.record(
            actor=actor,
            action="accounts.token.issue",
            target=token,
            after={"name": name, "prefix": prefix, "user": holder.pk},
            organisation_id=organisation.pk,
            district_code=organisation.district_id,
        )
    return IssuedToken(token=token, plaintext=plaintext)


def revoke_api_token(*, actor: User, token: ApiToken) -> ApiToken:
    """Revoke a token at once; later calls with it are refused."""
    allowed = (
        has_role(actor, Role.ADMINISTRATOR)
        or token.user_id == actor.pk
        or Membership.objects.filter(
            user=actor, organisation_id=token.organisation_id, role=Role.MERCHANT_MANAGER
        ).exists()
    )
    if not allowed:
        raise ForbiddenError("无权吊销此令牌", code="token_revoke_forbidden")
    with transaction.atomic(durable=True):
        now = timezone.now()
        if ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now) != 1:
            raise ConflictError("令牌已被吊销", code="token_already_revoked")
        token.revoked_at = now
        audit.record(
            actor=actor,
            action="accounts.token.revoke",
            target=token,
            before={"revoked_at": None},
            after={"revoked_at": now},
            organisation_id=token.organisation_id,
        )
    return token


def authenticate_token(plaintext: str) -> ApiToken | None:
    """The active token for a presented bearer value, or ``None``; constant-time digest comparison."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    token = ApiToken.objects.filter(prefix=parts[1]).select_related("user", "organisation").first()
    if token is None or not hmac.compare_digest(token.digest, _token_digest(plaintext)) or not token.is_active:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    # Last-used is informational; updated at most once a minute so a busy POS does not write every call.
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
