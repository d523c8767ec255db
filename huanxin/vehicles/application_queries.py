"""The read side of car subsidy applications: who sees which, the legal clocks, the reviewers' queue."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from huanxin.accounts.roles import REVIEWERS, TRUCK_APPLICANTS
from huanxin.core.domain.workdays import WorkCalendar, default_calendar
from huanxin.core.errors import NotFoundError
from huanxin.core.permissions import districts_for, in_person, organisations_for
from huanxin.vehicles.application_models import CarApplication, CarProgrammeSettings, EvidenceFile
from huanxin.vehicles.domain.applications import Clock, ClockLimits, Pause, compute_clock

QUEUE_STATUSES = ("submitted", "accepted", "supplement", "reconsideration")


def is_reviewer(user: Any) -> bool:
    districts = districts_for(user, *REVIEWERS)
    return districts is None or bool(districts)


def is_applicant(user: Any, application: CarApplication) -> bool:
    """Whether the user acts as the application's applicant: the resident themself, or for an organisation's
    application one of its staff who apply for it (through its API token, only that organisation's)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if application.applicant_organisation_id is not None:
        return application.applicant_organisation_id in organisations_for(user, *TRUCK_APPLICANTS)
    return application.applicant is not None and application.applicant.user_id == user.pk


def organisation_applications(organisation_id: int) -> QuerySet[CarApplication]:
    """An organisation's own applications (the caller has decided the user acts for it)."""
    return CarApplication.objects.filter(applicant_organisation_id=organisation_id).select_related("programme")


def can_read(user: Any, application: CarApplication) -> bool:
    return CarApplication.objects.visible_to(user).filter(pk=application.pk).exists()


def own_applications(user: Any) -> QuerySet[CarApplication]:
    # A resident's own rows are never reached through an organisation's API token.
    if not getattr(user, "is_authenticated", False) or not in_person(user):
        return CarApplication.objects.none()
    return CarApplication.objects.filter(applicant__user_id=user.pk).select_related("programme")


def get_application_for_user(user: Any, pk: int) -> CarApplication:
    application = (
        CarApplication.objects.visible_to(user)
        .select_related("programme", "applicant", "applicant_organisation", "payee")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise NotFoundError("申请不存在或无权查看", code="car_application_not_found")
    return application


def get_evidence_for_user(user: Any, application_pk: int, pk: int) -> EvidenceFile:
    """An evidence file, for its applicant and the reviewers of its district only."""
    application = get_application_for_user(user, application_pk)
    evidence = EvidenceFile.objects.filter(application=application, pk=pk).first()
    if evidence is None:
        raise NotFoundError("材料不存在", code="evidence_not_found")
    return evidence


def limits_for(application: CarApplication) -> ClockLimits:
    settings = CarProgrammeSettings.objects.filter(programme_id=application.programme_id).first()
    if settings is None:
        return ClockLimits()
    return ClockLimits(settings.accept_days, settings.decide_days, settings.pay_days)


def _pauses(application: CarApplication) -> list[Pause]:
    return [
        Pause(
            p["stage"],
            datetime.date.fromisoformat(p["start"]),
            datetime.date.fromisoformat(p["end"]) if p.get("end") else None,
        )
        for p in application.pauses
    ]


def clock(
    application: CarApplication,
    today: datetime.date | None = None,
    *,
    limits: ClockLimits | None = None,
    calendar: WorkCalendar | None = None,
) -> Clock:
    """The application's three legal clocks and when the money is expected (到账). A scan over many applications
    passes its programme's ``limits`` (read once) and may pass the platform ``calendar`` remembering its counts."""
    approved: bool | None = None
    if application.status in ("approved", "paid", "payment_failed"):
        approved = True
    elif application.status == "refused":
        approved = False
    return compute_clock(
        calendar=calendar or default_calendar(),
        limits=limits or limits_for(application),
        submitted_on=None if application.status == "prepared" else application.submitted_on,
        accepted_on=application.accepted_on,
        decided_on=application.decided_on if approved is not None else None,
        paid_on=application.paid_on,
        approved=approved,
        pauses=_pauses(application),
        today=today or timezone.localdate(),
    )


def review_queue(user: Any) -> list[tuple[CarApplication, Clock]]:
    """Open applications the reviewer may handle, soonest deadline first."""
    rows = (
        CarApplication.objects.visible_to(user)
        .filter(status__in=QUEUE_STATUSES)
        .select_related("programme", "applicant", "applicant_organisation")[:500]
    )
    today = timezone.localdate()
    items = [(a, clock(a, today)) for a in rows]

    def key(item: tuple[CarApplication, Clock]) -> datetime.date:
        current = item[1].current
        return current.due_on if current is not None and current.due_on is not None else datetime.date.max

    return sorted(items, key=key)
