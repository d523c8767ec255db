"""Sign in with a mobile number (residents, looked up by keyed hash) or a user name (staff).

Every password sign-in in the project (the sign-in page, the admin login, anything calling
``django.contrib.auth.authenticate``) passes through this backend, so this is where the attempt limits of
:mod:`huanxin.accounts.signin` are applied: counted before the password is checked.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from huanxin.accounts import signin
from huanxin.accounts.models import User
from huanxin.core import ratelimit, rows


class PhoneOrUsernameBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if not username or password is None:
            return None
        account = signin.resolve(username)
        client_ip = ratelimit.client_ip(request) if request is not None else None
        refusal = signin.take_password_slot(account, client_ip)
        if refusal is not None:
            signin.remember_refusal(request, refusal)
            # PermissionDenied stops authenticate() at once: no other backend gets to check the password.
            raise PermissionDenied(refusal.message)
        user = account.user
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for "unknown account"
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            signin.succeeded(account.bucket, client_ip)
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in user of a request, read on every authenticated request: through ``core.rows``
        instead of a freshly compiled ORM query (same row, same check of ``is_active``)."""
        try:
            pk = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = rows.get_by(User, "id", pk)
        return user if user is not None and self.user_can_authenticate(user) else None
