"""The read side of accounts: what each user may see, and which organisation a request acts for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest

from huanxin.accounts.models import Organisation, Person
from huanxin.accounts.roles import ADMINISTRATORS
from huanxin.core.errors import ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import has_role, organisations_for


def get_organisation_for_user(user: Any, pk: int) -> Organisation:
    """Fetch an organisation the user may see, or 404 (never 403: existence is not disclosed)."""
    organisation = Organisation.objects.visible_to(user).filter(pk=pk).select_related("district").first()
    if organisation is None:
        raise NotFoundError("机构不存在或无权查看", code="organisation_not_found")
    return organisation


def can_manage_organisations(user: Any) -> bool:
    """Only administrators enrol organisations and grant staff roles."""
    return has_role(user, *ADMINISTRATORS)


def acting_organisation(
    request: HttpRequest,
    *,
    roles: Sequence[str],
    kinds: Sequence[str] = (),
    requested: int | str | None = None,
    field: str = "organisation_id",
    first_by_default: bool = False,
    refusal: ForbiddenError | None = None,
) -> Organisation:
    """The organisation a request acts for, the one rule every page and endpoint asks.

    A request authenticated by an API token acts for the token's organisation only, and only while the
    token's holder holds one of ``roles`` there: naming any other organisation is refused. A signed-in user
    acts for an organisation where they hold one of ``roles``: the one ``requested``, or their only one; with
    several and none named, an endpoint asks which (422 on ``field``), while a page (``first_by_default``)
    takes the first of them by id, as it does for a choice that is not theirs. ``kinds``, when given, also
    limits the organisation's kind; ``refusal`` is the caller's own answer to a user who does not act for the
    organisation named.
    """
    from huanxin.accounts.models import Organisation

    wanted = _organisation_id(requested)
    named = requested is not None and requested != ""
    token = getattr(request, "api_token", None)
    if token is not None:
        if named and wanted != token.organisation_id:
            raise ForbiddenError("接口令牌只能代表其签发机构", code="token_other_organisation")
        if token.organisation_id not in organisations_for(request.user, *roles):
            raise refusal or ForbiddenError("接口令牌的持有人在其签发机构没有办理此项业务的角色", code="not_a_member")
        chosen: Organisation = token.organisation
        if kinds and chosen.kind not in kinds:
            raise ForbiddenError("该机构不能办理此项业务", code="wrong_organisation_kind")
        return chosen
    mine = sorted(organisations_for(request.user, *roles))
    if not mine:
        raise refusal or ForbiddenError("您不是相关机构的工作人员", code="not_a_member")
    if wanted not in mine:
        if first_by_default or (not named and len(mine) == 1):
            wanted = mine[0]
        elif not named:
            raise ValidationFailed.for_field(field, "required", "您在多个机构任职，请指定代表哪个机构")
        else:
            raise refusal or ForbiddenError("您不是该机构的工作人员", code="not_a_member")
    queryset = Organisation.objects.filter(pk=wanted)
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    organisation = queryset.first()
    if organisation is None:
        raise ForbiddenError("该机构不能办理此项业务", code="wrong_organisation_kind")
    return organisation


def _organisation_id(requested: int | str | None) -> int | None:
    """An organisation id as named in a form, a query string or a body; anything else names none."""
    if isinstance(requested, int) and not isinstance(requested, bool):
        return requested
    if isinstance(requested, str) and requested.isdigit() and len(requested) <= 18:
        return int(requested)
    return None


def persons_by_resident_id_digest(digests: Sequence[str]) -> dict[str, int]:
    """The ids of the persons whose resident ID has one of these blind indexes (``purpose="resident_id"``), by
    digest: another app links its records to a resident it knows only by the sealed ID number."""
    wanted = sorted(set(digests))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows = Person.objects.filter(resident_id_digest__in=wanted[start : start + 500])
        found.update((digest, pk) for digest, pk in rows.values_list("resident_id_digest", "pk") if digest)
    return found


def organisations_by_uscc(codes: Sequence[str]) -> dict[str, int]:
    """The ids of the organisations with these unified social credit codes, by code."""
    wanted = sorted(set(codes))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        found.update(Organisation.objects.filter(uscc__in=wanted[start : start + 500]).values_list("uscc", "pk"))
    return found
