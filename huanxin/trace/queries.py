"""The read side of traceability: items by code, their history, what an organisation holds, the staff search,
the events an export holds, and the checkpoints.

An item's record is public (anyone may verify where an old appliance went); what an organisation holds, the
take-backs waiting for codes and the event exports are scoped to the organisations a user records for, and
staff (``accounts.roles.OVERSIGHT_STAFF``) read everything.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, User
from huanxin.accounts.roles import MERCHANT_STAFF, OVERSIGHT_STAFF, TRACE_RECORDERS
from huanxin.core.errors import FieldError, NotFoundError, ValidationFailed
from huanxin.core.permissions import has_role, organisations_for
from huanxin.subsidies import queries as subsidies_queries
from huanxin.trace.domain.rules import TERMINAL
from huanxin.trace.models import ChainLink, Checkpoint, TraceEvent, TraceFlag, TraceItem
from huanxin.trace.services import canonical_code

UNKNOWN_CODE = "未找到该追溯码：请核对标签上的编码"
# The trades an organisation ships old items to from the workspace.
RECEIVING_KINDS = (OrganisationKind.RECYCLER, OrganisationKind.DISMANTLER, OrganisationKind.VEHICLE_SCRAPPER)


def is_staff(user: Any) -> bool:
    """Reviewers, auditors and administrators search every item and export every organisation's events."""
    return has_role(user, *OVERSIGHT_STAFF)


# ---------------------------------------------------------------- items


def get_item(code: str, *, field_name: str = "code") -> TraceItem:
    """The item a person's code names (any printed form); refused when the text is no code or not on record.

    Public: an item's record is what the verification page shows anyone.
    """
    item = (
        TraceItem.objects.select_related("holder", "destination")
        .filter(code=canonical_code(code, field_name=field_name))
        .first()
    )
    if item is None:
        raise NotFoundError(
            UNKNOWN_CODE, code="unknown_code", errors=[FieldError(field_name, "unknown_code", UNKNOWN_CODE)]
        )
    return item


def readable_code(text: str) -> str | None:
    """The stored form of a code, or None where the text is no code (a search term, say)."""
    try:
        return canonical_code(text)
    except ValidationFailed:
        return None


def items_by_codes(codes: Iterable[str]) -> list[TraceItem]:
    """The items on record among codes already in stored form, in the order they were created."""
    return list(TraceItem.objects.filter(code__in=set(codes)).order_by("pk"))


def item_history(item: TraceItem) -> list[ChainLink]:
    """An item's chain links in order, each with its event and the organisation that recorded it."""
    return list(ChainLink.objects.filter(item=item).select_related("event", "event__organisation").order_by("sequence"))


def items_held_by(organisation: Organisation, state: str | None = None, *, limit: int = 500) -> list[TraceItem]:
    """The items an organisation holds (in any state, or the one given), most recently moved first."""
    queryset = TraceItem.objects.filter(holder=organisation).select_related("holder", "destination")
    if state:
        queryset = queryset.filter(state=state)
    return list(queryset.order_by("-updated_at")[:limit])


def items_in_hand(organisation: Organisation, *, limit: int = 200) -> QuerySet[TraceItem]:
    """The workspace's list: live items an organisation holds or that are on their way to it, latest first."""
    return (
        TraceItem.objects.filter(Q(holder=organisation) | Q(destination=organisation))
        .exclude(state__in=TERMINAL)
        .select_related("holder", "destination")
        .order_by("-updated_at")[:limit]
    )


def search_items(text: str, *, limit: int = 100) -> list[TraceItem]:
    """Staff search: items whose code (any printed form) or original serial is the text, or whose holder's
    name contains it or credit code is it."""
    code = readable_code(text)
    return list(
        TraceItem.objects.filter(
            (Q(code=code) if code is not None else Q(pk__in=[]))
            | Q(serial__iexact=text)
            | Q(holder__name__icontains=text)
            | Q(holder__uscc=text)
        ).select_related("holder")[:limit]
    )


def state_totals() -> dict[str, int]:
    """How many items are in each state, for the staff board."""
    return {
        state: TraceItem.objects.filter(state=state).count()
        for state in ("held", "in_transit", "dismantled", "destroyed")
    }


def open_flags(*, limit: int = 100) -> QuerySet[TraceFlag]:
    """Unresolved flags (implausible dismantlings), newest first."""
    return (
        TraceFlag.objects.filter(resolved=False)
        .select_related("item", "event__organisation")
        .order_by("-created_at")[:limit]
    )


# ---------------------------------------------------------------- organisations and take-backs


def organisations_by_uscc(usccs: Iterable[str]) -> dict[str, Organisation]:
    """The registered organisations among these credit codes, by credit code."""
    wanted = set(usccs)
    return {o.uscc: o for o in Organisation.objects.filter(uscc__in=wanted)} if wanted else {}


def destination_choices(organisation: Organisation) -> list[tuple[int, str]]:
    """Where an organisation may ship old items from the workspace: every other recycler or dismantler."""
    return [
        (o.pk, o.name)
        for o in Organisation.objects.filter(kind__in=RECEIVING_KINDS)
        .exclude(pk=organisation.pk)
        .order_by("kind", "name")
    ]


def organisation_or_none(pk: int | str | None) -> Organisation | None:
    """The organisation with this id (a form's choice may be text), or None (no id, or none on record)."""
    return Organisation.objects.filter(pk=pk or 0).first()


def pending_take_backs(merchant: Organisation) -> QuerySet[Any]:
    """Old items this merchant took back at checkout that have no code yet (subsidies owns take-backs)."""
    return subsidies_queries.take_backs_waiting_for_codes(merchant)


def take_backs_of(merchant: Organisation, pks: Iterable[Any]) -> QuerySet[Any]:
    """The merchant's own take-backs among those chosen (others' are left out)."""
    return subsidies_queries.take_backs_of_merchant(merchant, pks)


def get_take_back_for_user(user: User, pk: int) -> Any:
    """A take-back its merchant's staff may see; to anyone else it does not exist (404, not 403)."""
    take_back = subsidies_queries.take_back_or_none(pk)
    if take_back is None or take_back.redemption.merchant_id not in organisations_for(user, *MERCHANT_STAFF):
        raise NotFoundError("回收记录不存在", code="take_back_not_found")
    return take_back


# ---------------------------------------------------------------- events (EPCIS export)


def events_visible_to(user: User) -> QuerySet[TraceEvent]:
    """Staff read every organisation's events; others those of the organisations they record events for."""
    if is_staff(user):
        return TraceEvent.objects.all()
    return TraceEvent.objects.filter(organisation_id__in=organisations_for(user, *TRACE_RECORDERS))


def _window(
    queryset: QuerySet[TraceEvent], since: datetime.datetime | None, until: datetime.datetime | None
) -> QuerySet[TraceEvent]:
    if since is not None:
        queryset = queryset.filter(event_time__gte=since)
    if until is not None:
        queryset = queryset.filter(event_time__lt=until)
    return queryset.order_by("recorded_at", "pk")


def _exported(queryset: QuerySet[TraceEvent]) -> QuerySet[TraceEvent]:
    # An export reads the canonical text; the database's JSON copy of it is not fetched.
    return queryset.defer("document")


def events_for_item(code: str) -> QuerySet[TraceEvent]:
    """Every event of one item's chain (any printed form of its code), in the order recorded. Public."""
    return _exported(TraceEvent.objects.filter(links__item__code=canonical_code(code))).order_by("recorded_at", "pk")


def events_for_organisation(
    organisation: Organisation | int,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[TraceEvent]:
    """The events an organisation recorded whose event time is in [since, until), in the order recorded."""
    return _window(_exported(TraceEvent.objects.filter(organisation=organisation)), since, until)


def events_in_window(since: datetime.datetime | None, until: datetime.datetime | None) -> QuerySet[TraceEvent]:
    """All events whose event time is in [since, until) (an open end when None), in the order recorded."""
    return _window(_exported(TraceEvent.objects.all()), since, until)


def events_for_export(
    user: User,
    organisation: Organisation | int | None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[TraceEvent]:
    """The events an export holds: those the user may read, of one organisation when named, with an event time
    in [since, until), in the order recorded."""
    queryset = events_visible_to(user)
    if organisation:
        queryset = queryset.filter(organisation=organisation)
    return _window(_exported(queryset), since, until)


# ---------------------------------------------------------------- checkpoints


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time(), timezone.get_default_timezone())
    return start, start + datetime.timedelta(days=1)


def day_hashes(day: datetime.date) -> list[str]:
    """The event hashes recorded on a Beijing day, in the order they were recorded: the Merkle leaves."""
    start, end = _day_bounds(day)
    return list(
        TraceEvent.objects.filter(recorded_at__gte=start, recorded_at__lt=end)
        .order_by("recorded_at", "pk")
        .values_list("hash", flat=True)
    )


def checkpoint_of(day: datetime.date) -> Checkpoint | None:
    """The signed checkpoint of a Beijing day, None until it is published."""
    return Checkpoint.objects.filter(day=day).first()


def recent_checkpoints(limit: int) -> list[Checkpoint]:
    """The latest published checkpoints, newest day first. Public."""
    return list(Checkpoint.objects.order_by("-day")[:limit])
