"""The read side of accounts: what each user may see."""

from __future__ import annotations

from typing import Any

from huanxin.accounts.models import Organisation
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import has_role


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    """Fetch an organisation the user may see, or 404 (never 403: existence is not disclosed)."""
    organisation = Organisation.objects.visible_to(user).filter(pk=pk).select_related("district").first()
    if organisation is None:
        raise NotFoundError("机构不存在或无权查看", code="organisation_not_found")
    return organisation


def can_manage_organisations(user: Any) -> bool:
    """Only administrators enrol organisations and grant staff roles."""
    return has_role(user, "administrator")
