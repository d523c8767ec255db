"""Request types for views that only run for signed-in users (``@login_required``)."""

from __future__ import annotations

from django.http import HttpRequest

from huanxin.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    user: User
