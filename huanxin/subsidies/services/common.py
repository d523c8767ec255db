"""What the subsidies services share: the claim refusal, the published rules and the person's subsidy
history the rule engine reads, and who may act for a merchant."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import connection

from huanxin.accounts.models import Organisation, Person, User
from huanxin.accounts.roles import MERCHANT_STAFF
from huanxin.core import memo
from huanxin.core.errors import FieldError, ValidationFailed
from huanxin.core.permissions import organisations_for
from huanxin.policy.domain import RuleSet
from huanxin.policy.models import Programme, RuleSetVersion
from huanxin.policy.services import compiled, published_version
from huanxin.subsidies.models import (
    Qualification,
)


class ClaimRefused(ValidationFailed):
    """A claim the rules or the budget refuse; carries every reason checked."""

    status = 422
    default_code = "claim_refused"
    title = "无法申领"

    def __init__(
        self,
        detail: str,
        *,
        code: str,
        reasons: list[dict[str, Any]] | None = None,
        held_qualification_id: int | None = None,
    ) -> None:
        super().__init__(detail, code=code, errors=[FieldError("category", code, detail)])
        self.reasons = reasons or []
        # When the refusal is "already holding one", the qualification held, so the resident can open it.
        self.held_qualification_id = held_qualification_id

    def problem(self, instance: str = "", request_id: str = "") -> dict[str, Any]:
        body = super().problem(instance, request_id)
        body["reasons"] = self.reasons
        if self.held_qualification_id is not None:
            body["held_qualification_id"] = self.held_qualification_id
        return body


class Lost(Exception):
    """A compare-and-set lost to a concurrent change: turned into a conflict by the caller."""


def current_rules(programme: Programme) -> tuple[RuleSetVersion, RuleSet]:
    """The published rule set, looked up at most every few seconds per process."""
    version = memo.cached("rules", programme.code, 10.0, lambda: published_version(programme.code))
    if version is None:
        raise ClaimRefused("该项目尚未发布规则", code="no_rules")
    return version, compiled(version.content)


# The qualifications (alias q) that use up a quota: the condition of the subsidies_qual_quota_slot constraint.
CONSUMING_SQL = "(q.status IN (%s, %s) OR (q.status = %s AND q.quota_released = %s))"
CONSUMING_PARAMS = (
    Qualification.Status.ISSUED.value,
    Qualification.Status.REDEEMED.value,
    Qualification.Status.RETURNED.value,
    False,
)


def history_of(person: Person) -> tuple[list[tuple[int, str, int, str]], list[dict[str, str]]]:
    """The person's consuming qualifications (programme, category, slot, status) and the engine's history."""
    # Written out, not built by the ORM: this read is on every claim (see core.rows).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q.programme_id, q.category, q.slot, q.status, p.code FROM subsidies_qualification q "  # noqa: S608
            f"JOIN policy_programme p ON p.id = q.programme_id WHERE q.person_id = %s AND {CONSUMING_SQL}",
            [person.pk, *CONSUMING_PARAMS],
        )
        found = cursor.fetchall()
    consuming = [(p, c, s, st) for p, c, s, st, _ in found]
    history = [{"programme": code, "category": c} for _, c, _, st, code in found if st != Qualification.Status.ISSUED]
    return consuming, history


def other_region_categories(person_id: int, year: int) -> list[str]:
    """Categories the person was subsidised for in another province in ``year``, which the rules exclude.
    Written out, not built by the ORM: the claim path reads it on every call (see core.rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category FROM subsidies_externalsubsidy WHERE person_id = %s AND year = %s", [person_id, year]
        )
        return [category for (category,) in cursor.fetchall()]


def programme_categories(programme: Programme) -> set[str]:
    """The categories the programme's published rule set subsidises (none before a version is published).
    Read without the claim path's cache: these are rare actions, and a version published a moment ago counts."""
    version = published_version(programme.code)
    return set(compiled(version.content).categories) if version else set()


def is_member(actor: User, organisation: Organisation, roles: Sequence[str] = MERCHANT_STAFF) -> bool:
    """Whether the actor holds one of ``roles`` in the organisation (for this request: a token's only)."""
    return organisation.pk in organisations_for(actor, *roles)


def engine_input(qualification: Qualification, product: Any, price_fen: int, on: datetime.date) -> dict[str, Any]:
    """The rule engine's input for a purchase on a qualification: the product's category and grades, the final
    price, the day, the person's subsidy history and the categories another province subsidised that year."""
    _, history = history_of(qualification.person)
    elsewhere = other_region_categories(qualification.person_id, on.year)
    return {
        "category": product.category,
        "price_fen": price_fen,
        "energy_grade": product.energy_grade,
        "water_grade": product.water_grade,
        "purchased_on": on.isoformat(),
        "history": history,
        "other_region_categories": elsewhere,
    }
