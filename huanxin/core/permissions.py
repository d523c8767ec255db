"""Who may see and do what: roles come from memberships, each with an organisation and a district.

The checks are plain functions over the current user's grants (read once per request and cached on
the user object), so that ``visible_to(user)`` filters stay simple indexed column filters. A request
authenticated by an API token is confined to the token's organisation: its grants are only those held there,
so every check and every ``visible_to`` filter sees that organisation and no other.

The kernel names no app: the roles its own rules need (who reads the audit trail, what a superuser is) are
supplied at start-up by accounts, which owns the vocabulary (``use_roles``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.db.models import Q, QuerySet

from huanxin.core.errors import ForbiddenError

if TYPE_CHECKING:
    from huanxin.core.models import AuditQuerySet

RowsT = TypeVar("RowsT", bound=QuerySet[Any])


@dataclass(frozen=True)
class KernelRoles:
    """The role groups the kernel's own rules check; empty until accounts supplies them, so nobody is let in
    by a vocabulary that was never loaded."""

    superuser: str = ""
    audit_whole_log: tuple[str, ...] = ()
    audit_by_district: tuple[str, ...] = ()
    audit_by_organisation: tuple[str, ...] = ()
    audit_page: tuple[str, ...] = ()
    # Roles that carry public authority (pay, review, audit, administer) only when held in an organisation of
    # this kind: elsewhere (a bank's staff hold the finance officer role) they make a member, nothing more.
    authority_kind: str = ""
    authority_roles: tuple[str, ...] = ()


_roles = KernelRoles()


def use_roles(roles: KernelRoles) -> None:
    """Set the roles the kernel checks (called once by accounts when the apps are ready)."""
    global _roles  # noqa: PLW0603 - set once at start-up, read on every check
    _roles = roles


def kernel_roles() -> KernelRoles:
    """The roles the kernel checks, as supplied by accounts."""
    return _roles


@dataclass(frozen=True)
class Grant:
    """One membership: a role, in an organisation (or none), scoped to a district (or the whole city)."""

    role: str
    organisation_id: int | None
    district_code: str | None
    # False for a role of public authority held outside a government organisation: it counts for membership
    # of that organisation (``organisations_for``) and for no capability (``has_role``, ``districts_for``).
    authority: bool = True


def grants(user: Any) -> tuple[Grant, ...]:
    """The user's grants, cached on the user object for the rest of the request; only those held in the
    confining organisation when the request is confined to one (an API token's)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ()
    cached: tuple[Grant, ...] | None = getattr(user, "_huanxin_grants", None)
    if cached is None:
        confined_to = confining_organisation(user)
        rows = user.memberships.values_list("role", "organisation_id", "district_id", "organisation__kind")
        if confined_to is not None:
            rows = rows.filter(organisation_id=confined_to)
        cached = tuple(
            Grant(role, org, district, authority=_carries_authority(role, kind)) for role, org, district, kind in rows
        )
        if user.is_superuser and confined_to is None and _roles.superuser:
            cached += (Grant(_roles.superuser, None, None),)
        user._huanxin_grants = cached
    return cached


def _carries_authority(role: str, organisation_kind: str | None) -> bool:
    """A role of public authority counts as such only in a government organisation (or in none)."""
    if role not in _roles.authority_roles or organisation_kind is None:
        return True
    return organisation_kind == _roles.authority_kind


def forget_grants(user: Any) -> None:
    """Drop the cached grants after memberships change (a confinement stays)."""
    if hasattr(user, "_huanxin_grants"):
        del user._huanxin_grants


def confine_to_organisation(user: Any, organisation_id: int) -> None:
    """From now on the user acts for ``organisation_id`` only: grants held elsewhere, and a superuser's
    standing, do not count. Set for a request authenticated by an API token, which acts for the organisation
    it was issued for and never for another one its holder belongs to."""
    user._huanxin_confined_to = organisation_id
    forget_grants(user)


def confining_organisation(user: Any) -> int | None:
    """The organisation the user is confined to for this request, or ``None`` when not confined."""
    confined: int | None = getattr(user, "_huanxin_confined_to", None)
    return confined


def in_person(user: Any) -> bool:
    """Whether the user acts as themself (a signed-in session), not for an organisation through its API token:
    a resident's own rows and personal actions are never reached through a till's or a company's token."""
    return confining_organisation(user) is None


def require_in_person(user: Any) -> None:
    """Refuse a personal action (claim, cancel, verify identity, move district, read one's own refusals)
    asked through an organisation's API token."""
    if not in_person(user):
        raise ForbiddenError("机构接口令牌不能办理个人事务，请本人登录后办理", code="token_not_personal")


def has_role(user: Any, *roles: str) -> bool:
    """Whether the user holds any of ``roles`` anywhere (a role of public authority only where it carries it)."""
    return any(grant.role in roles and grant.authority for grant in grants(user))


def organisations_for(user: Any, *roles: str) -> set[int]:
    """The organisations in which the user holds any of ``roles``."""
    return {g.organisation_id for g in grants(user) if g.role in roles and g.organisation_id is not None}


def districts_for(user: Any, *roles: str) -> set[str] | None:
    """Districts in which the user holds any of ``roles``: ``None`` means the whole city, empty means none."""
    districts: set[str] = set()
    for grant in grants(user):
        if grant.role in roles and grant.authority:
            if grant.district_code is None:
                return None
            districts.add(grant.district_code)
    return districts


def can_open_audit_page(user: Any) -> bool:
    """The audit page is for those who read more of the trail than their own actions."""
    return has_role(user, *_roles.audit_page)


def audit_scope(queryset: AuditQuerySet, user: Any) -> AuditQuerySet:
    """Auditors and administrators read the whole log; reviewers their districts; those who speak for an
    organisation its rows; everyone their own actions."""
    if has_role(user, *_roles.audit_whole_log):
        return queryset
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = districts_for(user, *_roles.audit_by_district)
    if districts is None:
        return queryset
    organisations = organisations_for(user, *_roles.audit_by_organisation)
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
    # A token acts for its organisation: the holder's own (personal) rows are not the organisation's.
    conditions = [own] if own is not None and in_person(user) else []
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
