"""Sign in with a mobile number (residents, looked up by keyed hash) or a user name (staff)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from huanxin.accounts.models import Person, User
from huanxin.core import crypto, rows
from huanxin.core.domain.identifiers import IdentifierError, validate_mobile


class PhoneOrUsernameBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or password is None:
            return None
        try:
            phone = validate_mobile(username)
        except IdentifierError:
            return super().authenticate(request, username=username, password=password, **kwargs)
        person = (
            Person.objects.filter(phone_digest=crypto.blind_index(phone, purpose="phone"), user__isnull=False)
            .select_related("user")
            .first()
        )
        if person is None or person.user is None:
            User().set_password(password)  # same work as a real check: no timing oracle for "number unknown"
            return None
        user = person.user
        if user.check_password(password) and self.user_can_authenticate(user):
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
