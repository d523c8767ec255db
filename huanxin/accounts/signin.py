"""One limiter for every way of signing in: the resident and staff sign-in page, the admin login, SMS codes.

Two kinds of bucket, both counted in the database before any password or code is checked:

* **per account** — password checks for one account, however its identifier was written (a mobile number
  is normalised first, and a known account is counted under its id). After ``HUANXIN_LOGIN_MAX_FAILURES``
  failed checks, password sign-in for that account pauses until ``HUANXIN_LOGIN_LOCK_SECONDS`` after the
  first failure. SMS sign-in is not counted here: someone who only knows the number cannot keep its owner out.
* **per source** — attempts of any kind (passwords and SMS codes) from one client address
  (:func:`huanxin.core.ratelimit.client_ip`), ten times the account limit because many residents share one
  carrier-grade NAT address.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from huanxin.accounts.models import Person, User
from huanxin.core import crypto, ratelimit
from huanxin.core.domain.identifiers import IdentifierError, validate_mobile

# Multiplier of the per-account limit for one client address.
SOURCE_FACTOR = 10


@dataclass(frozen=True)
class Account:
    """The account a typed sign-in identifier names (``None`` when it names none) and its bucket."""

    user: User | None
    bucket: str
    # Named by a mobile number: only residents have one, and only they can sign in by SMS instead. Decided
    # by what was typed, not by whether the account exists, so the message reveals nothing about accounts.
    by_phone: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused without being checked, and how long until attempts are taken again."""

    code: str
    message: str
    retry_after: int


def resolve(identifier: str) -> Account:
    """Find the account of a mobile number (any accepted format) or a user name, as the sign-in checks it."""
    text = unicodedata.normalize("NFKC", identifier or "").strip()
    try:
        phone = validate_mobile(text)
    except IdentifierError:
        user = User.objects.filter(username=text).first()
        if user is not None:
            return Account(user, f"signin:account:user:{user.pk}")
        # Keyed hash: what someone typed (perhaps a password in the wrong field) is not stored.
        return Account(None, "signin:account:name:" + crypto.blind_index(text.casefold(), purpose="signin"))
    digest = crypto.blind_index(phone, purpose="phone")
    person = Person.objects.filter(phone_digest=digest, user__isnull=False).select_related("user").first()
    if person is not None and person.user is not None:
        return Account(person.user, f"signin:account:user:{person.user.pk}", by_phone=True)
    return Account(None, f"signin:account:phone:{digest}", by_phone=True)


def account_bucket(user: User) -> str:
    return f"signin:account:user:{user.pk}"


def source_bucket(client_ip: str) -> str:
    return f"signin:source:{client_ip}"


def _limit() -> int:
    return int(settings.HUANXIN_LOGIN_MAX_FAILURES)


def _window() -> int:
    return int(settings.HUANXIN_LOGIN_LOCK_SECONDS)


def _minutes(seconds: int) -> int:
    return max(1, math.ceil(seconds / 60))


def take_source_slot(client_ip: str) -> Refusal | None:
    """Count one sign-in attempt from ``client_ip``; the refusal when the address used up its window."""
    bucket = source_bucket(client_ip)
    limit = _limit() * SOURCE_FACTOR
    if ratelimit.hit(bucket, limit=limit, window_seconds=_window()):
        return None
    wait = ratelimit.retry_after(bucket, limit=limit)
    return Refusal("signin_source_limited", f"您所在网络的登录尝试过多，请 {_minutes(wait)} 分钟后再试", wait)


def take_password_slot(account: Account, client_ip: str | None) -> Refusal | None:
    """Count one password check for ``account`` (and its source) before it is made; the refusal instead
    when either is used up, in which case the password must not be checked at all."""
    if client_ip is not None:
        refusal = take_source_slot(client_ip)
        if refusal is not None:
            return refusal
    if ratelimit.hit(account.bucket, limit=_limit(), window_seconds=_window()):
        return None
    if client_ip is not None:
        ratelimit.release(source_bucket(client_ip))  # nothing was checked: the source keeps its slot
    wait = ratelimit.retry_after(account.bucket, limit=_limit())
    message = f"登录失败次数过多，该账户的密码登录已暂停，请 {_minutes(wait)} 分钟后再试"
    return Refusal("login_locked", message + ("，或使用短信验证码登录" if account.by_phone else ""), wait)


def succeeded(bucket: str | None, client_ip: str | None) -> None:
    """A sign-in succeeded: the account's failures are forgiven and the source gets its slot back."""
    if bucket is not None:
        ratelimit.reset(bucket)
    if client_ip is not None:
        ratelimit.release(source_bucket(client_ip))


# Django's authenticate() turns a backend's PermissionDenied into a plain "no user"; the refusal travels to
# the sign-in form on the request so that the form can say why (and that nothing was checked).
_REFUSAL_ATTRIBUTE = "_huanxin_signin_refusal"


def remember_refusal(request: HttpRequest | None, refusal: Refusal) -> None:
    if request is not None:
        setattr(request, _REFUSAL_ATTRIBUTE, refusal)


def refusal_of(request: HttpRequest | None) -> Refusal | None:
    refusal = getattr(request, _REFUSAL_ATTRIBUTE, None)
    return refusal if isinstance(refusal, Refusal) else None
