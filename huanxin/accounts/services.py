"""The write side of accounts: registration, real-name verification, organisations, roles, tokens.

Every function here owns its transaction, checks who is acting, and writes the audit row itself.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from huanxin.accounts import signin
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
from huanxin.accounts.roles import ADMINISTRATORS, MERCHANT_MANAGERS
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
from huanxin.core.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    RateLimitedError,
    ValidationFailed,
    formula_errors,
)
from huanxin.core.permissions import forget_grants, has_role, organisations_for, require_in_person

OTP_LENGTH = 6
OTP_MAX_ATTEMPTS = 5
OTP_PER_PHONE_PER_HOUR = 5
OTP_PER_SOURCE_PER_HOUR = 30
# What a one-time code may be used for; a code sent for one purpose is refused for any other.
CODE_PURPOSES = {"register": "注册", "login": "登录", "reset": "找回密码"}
PERSON_AUDIT_FIELDS = ("name", "resident_id_masked", "phone_masked", "district", "verified_at")


def _field(field: str, validator: Any, value: str) -> str:
    """Run an identifier validator and turn its refusal into a field-level validation error."""
    try:
        result: str = validator(value)
    except IdentifierError as exc:
        raise ValidationFailed.for_field(field, exc.code, exc.message) from None
    return result


def _password_problems(exc: DjangoValidationError) -> str:
    """Django's password validator messages as one sentence each ("这个密码太常见了。密码只包含数字。")."""
    return "".join(message if message.endswith("。") else f"{message}。" for message in exc.messages)


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
    resend_after: int


class TryAgainLater(RateLimitedError):
    """A refusal that lifts by itself: ``retry_after`` seconds from now the same request is taken."""

    def __init__(self, message: str, *, code: str, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, code=code, errors=[FieldError(field, code, message)] if field else [])
        self.retry_after = retry_after


def _wait_minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def _account_of_phone(phone_digest: str) -> User | None:
    person = Person.objects.filter(phone_digest=phone_digest, user__isnull=False).select_related("user").first()
    return person.user if person is not None else None


def request_phone_code(
    *, phone: str, purpose: str = "register", client_ip: str = "", sms_backend: SmsBackend | None = None
) -> CodeSent:
    """Send a one-time code to a mobile number: registration codes to new numbers only, sign-in and reset
    codes to registered ones; one code per ``HUANXIN_OTP_RESEND_SECONDS`` and five an hour per number, and
    ``OTP_PER_SOURCE_PER_HOUR`` an hour per client address."""
    backend = sms_backend or get_sms_backend()
    errors: list[FieldError] = []
    if purpose not in CODE_PURPOSES:
        errors.append(FieldError("purpose", "invalid_choice", "验证码用途无效"))
    try:
        phone = validate_mobile(phone)
    except IdentifierError as exc:
        errors.append(FieldError("phone", exc.code, exc.message))
    if errors:
        raise ValidationFailed.from_errors(errors)
    phone_digest = crypto.blind_index(phone, purpose="phone")
    if client_ip:
        source = f"otp:source:{client_ip}"
        if not ratelimit.hit(source, limit=OTP_PER_SOURCE_PER_HOUR, window_seconds=3600):
            wait = ratelimit.retry_after(source, limit=OTP_PER_SOURCE_PER_HOUR)
            raise TryAgainLater(
                f"您所在网络获取验证码过于频繁，请 {_wait_minutes(wait)} 分钟后再试",
                code="otp_source_limited",
                retry_after=wait,
            )
    if purpose == "register":
        if Person.objects.filter(phone_digest=phone_digest).exists():
            raise ValidationFailed.for_field("phone", "phone_taken", "该手机号已注册，请直接登录")
    elif _account_of_phone(phone_digest) is None:
        raise ValidationFailed.for_field("phone", "phone_not_registered", "该手机号尚未注册，请先注册")
    cooldown = int(settings.HUANXIN_OTP_RESEND_SECONDS)
    resend = f"otp:resend:{phone_digest}"
    if cooldown > 0 and not ratelimit.hit(resend, limit=1, window_seconds=cooldown):
        wait = ratelimit.retry_after(resend, limit=1)
        raise TryAgainLater(
            f"请在 {wait} 秒后重新获取验证码", code="otp_resend_cooldown", retry_after=wait, field="phone"
        )
    hourly = f"otp:{phone_digest}"
    if not ratelimit.hit(hourly, limit=OTP_PER_PHONE_PER_HOUR, window_seconds=3600):
        wait = ratelimit.retry_after(hourly, limit=OTP_PER_PHONE_PER_HOUR)
        raise TryAgainLater(
            f"该手机号获取验证码过于频繁，请 {_wait_minutes(wait)} 分钟后再试",
            code="otp_rate_limited",
            retry_after=wait,
            field="phone",
        )
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
    return CodeSent(expires_at=expires_at, phone_masked=mask_mobile(phone), resend_after=cooldown)


def _consume_code(phone_digest: str, code: str, purpose: str) -> FieldError | None:
    """Check and use up a one-time code; every guess counts, and after five the code is burnt.

    The attempt is counted with a guarded update *before* the comparison, so that of any number of
    concurrent guesses at most ``OTP_MAX_ATTEMPTS`` are ever compared. Returns the refusal instead of
    raising it, so that the caller can commit the attempt count first: a refusal raised inside the
    transaction would roll the count back and allow unlimited guessing.
    """
    challenge = (
        PhoneChallenge.objects.filter(
            phone_digest=phone_digest, purpose=purpose, consumed_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )
    expired = FieldError("code", "code_expired", "验证码已失效，请重新获取")
    if challenge is None:
        return expired
    counted = PhoneChallenge.objects.filter(
        pk=challenge.pk, consumed_at__isnull=True, attempts__lt=OTP_MAX_ATTEMPTS
    ).update(attempts=F("attempts") + 1)
    if not counted:
        return expired
    if not hmac.compare_digest(challenge.code_digest, _code_digest(phone_digest, code.strip())):
        return FieldError("code", "code_mismatch", "验证码不正确")
    used = PhoneChallenge.objects.filter(pk=challenge.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())
    return None if used == 1 else expired


def _check_code(phone_digest: str, code: str, purpose: str) -> None:
    """Use up a code in a transaction of its own (so a wrong guess stays counted), then raise any refusal."""
    with transaction.atomic():
        refusal = _consume_code(phone_digest, code or "", purpose)
    if refusal is not None:
        raise ValidationFailed(refusal.message, code=refusal.code, errors=[refusal])


def _holder_of_number(*, phone: str, code: str, purpose: str, client_ip: str) -> User:
    """The account whose holder proved, with a code sent for ``purpose``, that they hold its number.

    Counted in the per-source sign-in limit like every sign-in; not in the account's password limit, which
    is what keeps this way in open to the owner of an account someone else locked by guessing passwords.
    """
    phone = _field("phone", validate_mobile, phone)
    refusal = signin.take_source_slot(client_ip) if client_ip else None
    if refusal is not None:
        raise TryAgainLater(refusal.message, code=refusal.code, retry_after=refusal.retry_after)
    phone_digest = crypto.blind_index(phone, purpose="phone")
    user = _account_of_phone(phone_digest)
    if user is None or not user.is_active:
        # No code was ever sent for such a number; answer as for a stale code, without checking anything.
        raise ValidationFailed.for_field("code", "code_expired", "验证码已失效，请重新获取")
    _check_code(phone_digest, code, purpose)
    signin.succeeded(None, client_ip or None)
    return user


def sign_in_with_code(*, phone: str, code: str, client_ip: str = "") -> User:
    """SMS sign-in for residents: the right, unexpired, unused code sent to the number for signing in."""
    return _holder_of_number(phone=phone, code=code, purpose="login", client_ip=client_ip)


@dataclass(frozen=True)
class PasswordResetGrant:
    """Proof that the holder of an account's number may now choose its password; spent once it changes."""

    user: User
    token: str


def verify_password_reset_code(*, phone: str, code: str, client_ip: str = "") -> PasswordResetGrant:
    """First step of a password reset: the code sent for resetting proves the resident holds the number."""
    user = _holder_of_number(phone=phone, code=code, purpose="reset", client_ip=client_ip)
    # Django's reset token hashes the current password: it stops working the moment the password changes.
    return PasswordResetGrant(user=user, token=default_token_generator.make_token(user))


def reset_password(*, actor: User, token: str, password: str) -> User:
    """Second step: set a new password (Django's password validators apply) with an unspent grant.

    Every other session of the account ends, because Django checks each session against a hash of the
    password; and the account's password-sign-in pause is lifted, since the owner has just proved who they are.
    """
    if not default_token_generator.check_token(actor, token):
        raise ConflictError("找回密码的验证已失效，请重新获取验证码", code="reset_expired")
    try:
        validate_password(password, user=actor)
    except DjangoValidationError as exc:
        raise ValidationFailed.for_field("password", "weak_password", _password_problems(exc)) from None
    old_hash = actor.password
    actor.set_password(password)
    with transaction.atomic(durable=True):
        # Compare-and-set on the old hash: of two requests with the same grant only one changes the password.
        if User.objects.filter(pk=actor.pk, password=old_hash).update(password=actor.password) != 1:
            actor.password = old_hash
            raise ConflictError("找回密码的验证已失效，请重新获取验证码", code="reset_expired")
        audit.record(actor=actor, action="accounts.user.password_reset", target=actor, after={"method": "sms"})
    ratelimit.reset(signin.account_bucket(actor))
    return actor


def register_resident(*, phone: str, code: str, password: str, district: str | None = None) -> User:
    """Create a resident's account once they prove they hold the mobile number. One number, one account."""
    phone = _field("phone", validate_mobile, phone)
    phone_digest = crypto.blind_index(phone, purpose="phone")
    district_obj = _district(district)
    try:
        # The number is what identifies the account to its owner (the stored username is random), so the
        # similarity check compares the password with it.
        validate_password(password, user=User(username=phone))
    except DjangoValidationError as exc:
        raise ValidationFailed.for_field("password", "weak_password", _password_problems(exc)) from None
    if Person.objects.filter(phone_digest=phone_digest).exists():
        raise ValidationFailed.for_field("phone", "phone_taken", "该手机号已注册，请直接登录")
    # The code check commits on its own so that a wrong guess stays counted although we refuse.
    _check_code(phone_digest, code, "register")
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
    require_in_person(actor)
    now = now or timezone.now()
    identity = _check_identity(name=name, resident_id=resident_id, district=district, today=timezone.localdate(now))
    person = Person.objects.filter(user=actor).first()
    if person is None:
        raise ForbiddenError("只有注册居民可以进行实名认证", code="not_a_resident")
    errors = list(identity.errors)
    if not district and person.district_id is None:
        errors.append(FieldError("district", "required", "请选择登记居住区：申领的补贴计入该区预算"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    if person.is_verified:
        raise ConflictError("已完成实名认证，如需更正请联系客服", code="already_verified")
    digest = crypto.blind_index(identity.resident_id, purpose="resident_id")
    if Person.objects.filter(resident_id_digest=digest).exclude(pk=person.pk).exists():
        raise _resident_id_taken()
    result = get_identity_verifier().verify(name=identity.name, resident_id=identity.resident_id)
    if not result.verified:
        raise ValidationFailed.for_field("resident_id", "identity_rejected", result.message or "姓名与身份证号不匹配")
    _bind_identity(actor=actor, person=person, identity=identity, method=result.method, now=now)
    return person


@dataclass(frozen=True)
class _Identity:
    """A name, resident ID and district as typed, checked: the cleaned values and every problem found."""

    name: str
    resident_id: str
    district: District | None
    errors: tuple[FieldError, ...]


def _check_identity(*, name: str, resident_id: str, district: str | None, today: datetime.date) -> _Identity:
    """Check the name, the resident ID (and the minimum claim age it gives) and the district, if one is given,
    reporting every problem at once."""
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
    return _Identity(name=name, resident_id=resident_id, district=district_obj, errors=tuple(errors))


def _bind_identity(*, actor: User, person: Person, identity: _Identity, method: str, now: datetime.datetime) -> None:
    """Write the verified identity onto the person once (compare-and-set on "not yet verified"), with its
    audit row; an ID another account bound in the meantime is refused by the unique digest."""
    try:
        with transaction.atomic(durable=True):
            before = audit.snapshot(person, PERSON_AUDIT_FIELDS)
            person.name = identity.name
            person.set_resident_id(identity.resident_id)
            person.verified_at = now
            person.verification_method = method
            if identity.district is not None:
                person.district = identity.district
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
        raise _resident_id_taken() from None


def _resident_id_taken() -> ValidationFailed:
    return ValidationFailed.for_field(
        "resident_id", "resident_id_taken", "该身份证号已绑定其他账户，每个身份证号只能注册一个账户"
    )


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
    require_in_person(actor)
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
    if not has_role(actor, *ADMINISTRATORS):
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
    errors += formula_errors(
        {
            "name": ("机构名称", name),
            "short_name": ("简称", short_name.strip()),
            "contact_name": ("联系人", contact_name.strip()),
            "address": ("地址", address.strip()),
        }
    )
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
    refused = formula_errors({"display_name": ("显示名称", display_name)})
    if refused:
        raise ValidationFailed.from_errors(refused)
    try:
        validate_password(password, user=User(username=username, display_name=display_name))
    except DjangoValidationError as exc:
        raise ValidationFailed.for_field("password", "weak_password", _password_problems(exc)) from None
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
    # Through the grants, so that a token issues tokens for its own organisation only.
    is_manager = organisation.pk in organisations_for(actor, *MERCHANT_MANAGERS)
    if not (has_role(actor, *ADMINISTRATORS) or is_manager):
        raise ForbiddenError("只有机构负责人或系统管理员可以签发接口令牌", code="token_issue_forbidden")
    if not Membership.objects.filter(user=holder, organisation=organisation).exists():
        raise ValidationFailed.for_field("user", "not_a_member", "令牌持有人必须是该机构成员")
    name = (name or "").strip()
    if not 1 <= len(name) <= 80:
        raise ValidationFailed.for_field("name", "invalid_name", "请填写令牌名称（80字以内）")
    if expires_at is not None:
        # A time without an offset is Beijing time; a token that is expired when issued is a mistake.
        if timezone.is_naive(expires_at):
            expires_at = timezone.make_aware(expires_at)
        if expires_at <= timezone.now():
            raise ValidationFailed.for_field("expires_at", "expires_in_past", "令牌有效期须晚于当前时间")
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
        has_role(actor, *ADMINISTRATORS)
        or token.user_id == actor.pk
        or token.organisation_id in organisations_for(actor, *MERCHANT_MANAGERS)
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
