"""Who may see and do what: roles come from memberships, each with an organisation and a district.

The checks are plain functions over the current user's grants (read once per request and cached on
the user object), so that ``visible_to(user)`` filters stay simple indexed column filters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from huanxin.core.models import AuditQuerySet

RowsT = TypeVar("RowsT", bound=QuerySet[Any])

# Roles are defined in accounts.Role; repeated here as strings so the kernel imports no app.
CITY_ROLES = frozenset({"reviewer", "finance_officer", "auditor", "administrator"})


@dataclass(frozen=True)
class Grant:
    """One membership: a role, in an organisation (or none), scoped to a district (or the whole city)."""

    role: str
    organisation_id: int | None
    district_code: str | None


def grants(user: Any) -> tuple[Grant, ...]:
    """The user's grants, cached on the user object for the rest of the request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    cached: tuple[Grant, ...] | None = getattr(user, "_huanxin_grants", None)
    if cached is None:
        rows = user.memberships.values_list("role", "organisation_id", "district_id")
        cached = tuple(Grant(role, org, district) for role, org, district in rows)
        if user.is_superuser:
            cached += (Grant("administrator", None, None),)
        user._huanxin_grants = cached
    return cached


def forget_grants(user: Any) -> None:
    """Drop the cached grants after memberships change."""
    if hasattr(user, "_huanxin_grants"):
        del user._huanxin_grants


def has_role(user: Any, *roles: str) -> bool:
    """Whether the user holds any of ``roles`` anywhere."""
    return any(grant.role in roles for grant in grants(user))


def organisations_for(user: Any, *roles: str) -> set[int]:
    """The organisations in which the user holds any of ``roles``."""
    return {g.organisation_id for g in grants(user) if g.role in roles and g.organisation_id is not None}


def districts_for(user: Any, *roles: str) -> set[str] | None:
    """Districts in which the user holds any of ``roles``: ``None`` means the whole city, empty means none."""
    districts: set[str] = set()
    for grant in grants(user):
        if grant.role in roles:
            if grant.district_code is None:
                return None
            districts.add(grant.district_code)
    return districts


def audit_scope(queryset: AuditQuerySet, user: Any) -> AuditQuerySet:
    """Auditors and administrators read the whole log; reviewers their districts; members their organisations."""
    if has_role(user, "auditor", "administrator"):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, "reviewer", "finance_officer")
    if districts is None:
        return queryset
    organisations = organisations_for(user, "merchant_manager", "recycler", "dismantler")
    condition = Q(actor=user)
    if districts:
        condition |= Q(district_code__in=districts)
    if organisations:
        condition |= Q(organisation_id__in=organisations)
    return queryset.filter(condition)


def district_scope(
    queryset: RowsT,
    user: Any,
    *,
    staff_roles: Iterable[str],
    district_field: str,
    member_roles: Iterable[str] = (),
    organisation_field: str = "",
    own: Q | None = None,
) -> RowsT:
    """The usual visibility rule: nobody signed out sees anything; staff holding ``staff_roles`` city-wide see
    every row; otherwise the user sees the rows of the districts they are staff in (``district_field``), of the
    organisations they are members of (``organisation_field``) and their own (``own``)."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *staff_roles)
    if districts is None:
        return queryset
    conditions = [own] if own is not None else []
    if organisation_field:
        conditions.append(Q(**{f"{organisation_field}__in": organisations_for(user, *member_roles)}))
    if districts:
        conditions.append(Q(**{f"{district_field}__in": districts}))
    if not conditions:
        return queryset.none()
    condition = conditions[0]
    for other in conditions[1:]:
        condition |= other
    return queryset.filter(condition)
