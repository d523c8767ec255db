"""The read side of accounts: what each user may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import districts_for, has_role, organisations_for

if TYPE_CHECKING:
    from huanxin.accounts.models import Organisation, OrganisationQuerySet, PersonQuerySet

GOVERNMENT_ROLES = ("reviewer", "finance_officer", "auditor", "administrator")
MEMBER_ROLES = ("merchant_clerk", "merchant_manager", "recycler", "dismantler", "finance_officer")


def person_scope(queryset: PersonQuerySet, user: Any) -> PersonQuerySet:
    """Residents see themselves; government users see residents of their districts; others nobody."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, "reviewer", "auditor", "administrator")
    if districts is None:
        return queryset
    if districts:
        return queryset.filter(district_id__in=districts) | queryset.filter(user=user)
    return queryset.filter(user=user)


def organisation_scope(queryset: OrganisationQuerySet, user: Any) -> OrganisationQuerySet:
    """Government users see organisations in their districts; members see their own organisations."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *GOVERNMENT_ROLES)
    if districts is None:
        return queryset
    own = organisations_for(user, *MEMBER_ROLES)
    if districts:
        return queryset.filter(district_id__in=districts) | queryset.filter(pk__in=own)
    return queryset.filter(pk__in=own)


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    """Fetch an organisation the user may see, or 404 (never 403: existence is not disclosed)."""
    from huanxin.accounts.models import Organisation

    organisation = Organisation.objects.visible_to(user).filter(pk=pk).select_related("district").first()
    if organisation is None:
        raise NotFoundError("机构不存在或无权查看", code="organisation_not_found")
    return organisation


def can_manage_organisations(user: Any) -> bool:
    """Only administrators enrol organisations and grant staff roles."""
    return has_role(user, "administrator")
