"""Request types for views that only run for signed-in users (``@login_required``)."""

from __future__ import annotations

from django.http import HttpRequest

from huanxin.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User


def current_user(request: HttpRequest) -> User:
    """The signed-in user of an API call that required authentication (session or token)."""
    user = request.user
    if not isinstance(user, User):
        from huanxin.core.errors import ForbiddenError

        raise ForbiddenError("请先登录", code="not_authenticated")
    return user
