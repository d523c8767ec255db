"""Car applications whose legal clock is running out or has run out, told to their district: the periodic scan
that records the flags (and resolves them when the stage finishes), and the read side the page, the API and the
reviewers' queue use.

The scan computes every clock with ``application_queries.clock`` (the one definition of the three clocks and the
补正 pauses) but only for the applications that can be near their due day: a stage of N working days that
started after the last day from which N working days can still end by the warning horizon cannot be due yet,
and SQL leaves it out (a pause only moves a due day later, so this never leaves out one that is due). The rest
is read in chunks by primary key, and the flags, their resolutions and their audit rows are written in bulk,
one transaction per chunk.

Who sees the flags: the reviewers of the application's district (city-wide reviewers: every district) see every
stage. The pay stage also belongs to finance: the money leaves through settlement's payment batches, which
finance officers assemble, approve and reconcile with the bank, and a payment the bank refused waits on them
too. So finance officers (of the districts of their grant; city-wide: all) see the pay stage's flags and no
other stage's: accepting and deciding are the reviewers' and their flags say nothing finance can act on.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet
from django.utils import timezone

from huanxin.accounts.models import District
from huanxin.accounts.roles import FINANCE_OFFICERS, REVIEWERS
from huanxin.core import audit
from huanxin.core.domain.workdays import WorkCalendar, default_calendar
from huanxin.core.models import AuditEntry
from huanxin.core.permissions import districts_for
from huanxin.vehicles.application_models import CLOSED, CarApplication, CarClockFlag, CarProgrammeSettings
from huanxin.vehicles.application_queries import clock
from huanxin.vehicles.domain.applications import STAGE_TITLES, Clock, ClockLimits

logger = logging.getLogger("huanxin.vehicles.clock_flags")

# Applications whose clock may still be running: everything filed and not yet paid, refused or withdrawn.
OPEN_STATUSES = ("submitted", "accepted", "supplement", "reconsideration", "approved", "payment_failed")
CHUNK = 2000
DEFAULT_DUE_SOON_DAYS = 1
ACTOR = "定时任务：汽车补贴办理时限预警"
# What the clock reads of an application; nothing else is loaded.
CLOCK_FIELDS = (
    "id",
    "number",
    "programme_id",
    "district_id",
    "status",
    "submitted_on",
    "accepted_on",
    "decided_on",
    "paid_on",
    "pauses",
    "supplement_due_on",
)
Kind = CarClockFlag.Kind
Resolution = CarClockFlag.Resolution
# Application, stage, kind, due day: one flag each.
Key = tuple[int, str, str, datetime.date]


def due_soon_days() -> int:
    """Working days ahead of a due day from which a stage is flagged as due soon (a setting; 1 by default)."""
    return max(0, int(getattr(settings, "HUANXIN_CAR_CLOCK_DUE_SOON_DAYS", DEFAULT_DUE_SOON_DAYS)))


# ---------------------------------------------------------------- which stage is due when


@dataclass(frozen=True)
class RememberingCalendar(WorkCalendar):
    """The platform calendar remembering every count it made: a scan counts from the same few hundred start days
    over and over, and walking the days each time is most of its work."""

    _added: dict[tuple[datetime.date, int], datetime.date] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )
    _between: dict[tuple[datetime.date, datetime.date], int] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def of(cls, calendar: WorkCalendar) -> RememberingCalendar:
        return cls(calendar.holidays, calendar.workdays, calendar.years)

    def add_working_days(self, start: datetime.date, days: int) -> datetime.date:
        key = (start, days)
        found = self._added.get(key)
        if found is None:
            found = self._added[key] = super().add_working_days(start, days)
        return found

    def working_days_between(self, start: datetime.date, end: datetime.date) -> int:
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = self._between[key] = super().working_days_between(start, end)
        return found


def latest_start(calendar: WorkCalendar, days: int, horizon: datetime.date) -> datetime.date:
    """The last day a clock of ``days`` working days may start on and still end on or before ``horizon``: the
    day before the ``days``-th working day counted back from the horizon (inclusive)."""
    if days <= 0:
        return horizon
    day, counted = horizon, 0
    while True:
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return day - datetime.timedelta(days=1)
        day -= datetime.timedelta(days=1)


def programme_limits() -> dict[int, ClockLimits]:
    """Every car programme's clock limits that differ from the defaults (a programme without settings has them)."""
    return {
        s.programme_id: ClockLimits(s.accept_days, s.decide_days, s.pay_days)
        for s in CarProgrammeSettings.objects.all()
    }


def candidates(
    calendar: WorkCalendar, today: datetime.date, horizon: datetime.date, limits: dict[int, ClockLimits]
) -> QuerySet[CarApplication]:
    """The open applications whose running stage can be due by ``horizon`` (or whose 补正 deadline passed)."""

    def started_early_enough(start_field: str, days_of: str) -> Q:
        default = latest_start(calendar, getattr(ClockLimits(), days_of), horizon)
        condition = ~Q(programme_id__in=list(limits)) & Q(**{f"{start_field}__lte": default})
        for programme_id, limit in limits.items():
            cutoff = latest_start(calendar, getattr(limit, days_of), horizon)
            condition |= Q(programme_id=programme_id, **{f"{start_field}__lte": cutoff})
        return condition

    # A paused stage is never flagged due (its clock stands still): only its 补正 deadline can lapse.
    accept = Q(status__in=("submitted", "reconsideration"), accepted_on__isnull=True) & started_early_enough(
        "submitted_on", "accept_days"
    )
    decide = Q(status__in=("accepted", "reconsideration"), accepted_on__isnull=False) & started_early_enough(
        "accepted_on", "decide_days"
    )
    pay = Q(status__in=("approved", "payment_failed")) & started_early_enough("decided_on", "pay_days")
    lapsed = Q(status="supplement", supplement_due_on__lt=today)
    return CarApplication.objects.filter(accept | decide | pay | lapsed)


@dataclass(frozen=True)
class Wanted:
    district_id: str
    number: str
    uncovered_years: tuple[int, ...]


def wanted_flags(
    application: CarApplication, current_clock: Clock, today: datetime.date, horizon: datetime.date
) -> dict[Key, Wanted]:
    """The flags one application should have today: its running stage due soon or overdue (never while 补正
    pauses it), or its 补正 deadline passed without the material."""
    current = current_clock.current
    if current is None:
        return {}
    if application.status == CarApplication.Status.SUPPLEMENT:
        due = application.supplement_due_on
        if due is not None and due < today:
            # A day the reviewer set, not counted on the calendar: nothing in it is a guess.
            lapsed = Wanted(application.district_id, application.number, ())
            return {(application.pk, current.code, Kind.SUPPLEMENT_LAPSED, due): lapsed}
        return {}
    if current.paused or current.due_on is None or current.started_on is None:
        return {}
    # Only the years this stage's count runs through: a later stage (the payment, often next year) reaching a
    # year without its holiday table does not make this due day a guess.
    first, last = current.started_on.year, current.due_on.year
    guessed = tuple(year for year in current_clock.uncovered_years if first <= year <= last)
    wanted = Wanted(application.district_id, application.number, guessed)
    if current.due_on < today:
        return {(application.pk, current.code, Kind.OVERDUE, current.due_on): wanted}
    if current.due_on <= horizon:
        return {(application.pk, current.code, Kind.DUE_SOON, current.due_on): wanted}
    return {}


def resolution_for(stage_code: str, kind: str, application: CarApplication, current_clock: Clock) -> str:
    """Why a flag no longer holds: its stage (or its 补正) finished, the application ended, or the due day moved."""
    if kind == Kind.SUPPLEMENT_LAPSED:
        if application.status in CLOSED:
            return Resolution.CLOSED  # refused (or withdrawn) while the material was still awaited
        return Resolution.MOVED if application.status == CarApplication.Status.SUPPLEMENT else Resolution.DONE
    stage = next(s for s in current_clock.stages if s.code == stage_code)
    if stage.done_on is not None:
        return Resolution.DONE
    if application.status in CLOSED:
        return Resolution.CLOSED
    return Resolution.MOVED


# ---------------------------------------------------------------- the scan


@dataclass
class ScanResult:
    day: datetime.date
    scanned: int = 0
    flagged: int = 0
    reopened: int = 0
    resolved: int = 0
    open: int = 0
    calendar_missing_years: tuple[int, ...] = ()
    by_kind: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        text = (
            f"{self.day:%Y-%m-%d}：检查 {self.scanned} 件，新增预警 {self.flagged} 条，恢复 {self.reopened} 条，"
            f"解除 {self.resolved} 条，未解除 {self.open} 条"
        )
        if self.calendar_missing_years:
            years = "、".join(str(y) for y in self.calendar_missing_years)
            text += f"；未载入 {years} 年节假日安排，涉及的截止日期按周一至周五估算"
        return text


def calendar_gaps(today: datetime.date, calendar: WorkCalendar | None = None) -> tuple[int, ...]:
    """The years an open application's clock can count through whose holiday table is not loaded: from the year
    of the oldest open application to the year a stage starting today can end in (a running stage never ends
    later than its full length from today, pauses included)."""
    calendar = calendar or default_calendar()
    oldest = CarApplication.objects.filter(status__in=OPEN_STATUSES).aggregate(first=Min("submitted_on"))["first"]
    longest = max(
        max(limits.accept_days, limits.decide_days, limits.pay_days)
        for limits in [ClockLimits(), *programme_limits().values()]
    )
    last = calendar.add_working_days(today, longest)
    first_year = min(oldest.year, today.year) if oldest is not None else today.year
    return tuple(year for year in range(first_year, last.year + 1) if year not in calendar.years)


def scan(today: datetime.date | None = None, *, within: int | None = None, chunk: int = CHUNK) -> ScanResult:
    """Record today's flags: new ones with an audit row each, those that hold again reopened, those that no
    longer hold resolved (each change audited); running it again the same day changes nothing."""
    today = today or timezone.localdate()
    within = due_soon_days() if within is None else within
    calendar = RememberingCalendar.of(default_calendar())
    horizon = calendar.add_working_days(today, within)
    limits = programme_limits()
    result = ScanResult(today)
    uncovered: set[int] = set(calendar_gaps(today, calendar))
    rows = candidates(calendar, today, horizon, limits).order_by("pk").only(*CLOCK_FIELDS)
    handled: set[int] = set()
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:chunk])
        if not batch:
            break
        last = batch[-1].pk
        clocks = {
            a.pk: clock(a, today, limits=limits.get(a.programme_id, ClockLimits()), calendar=calendar) for a in batch
        }
        wanted: dict[Key, Wanted] = {}
        for application in batch:
            wanted.update(wanted_flags(application, clocks[application.pk], today, horizon))
            uncovered.update(clocks[application.pk].uncovered_years)
        _apply(result, batch, clocks, wanted, today)
        handled.update(clocks)
        result.scanned += len(batch)
    # Open flags of applications the scan no longer reaches: their stage finished or moved on.
    open_ids = set(CarClockFlag.objects.filter(resolved_on__isnull=True).values_list("application_id", flat=True))
    leftover = sorted(open_ids - handled)
    for start in range(0, len(leftover), chunk):
        batch = list(CarApplication.objects.filter(pk__in=leftover[start : start + chunk]).only(*CLOCK_FIELDS))
        clocks = {
            a.pk: clock(a, today, limits=limits.get(a.programme_id, ClockLimits()), calendar=calendar) for a in batch
        }
        _apply(result, batch, clocks, {}, today)
    result.open = CarClockFlag.objects.filter(resolved_on__isnull=True).count()
    result.calendar_missing_years = tuple(sorted(uncovered))
    if uncovered:
        logger.warning(
            "car clock flags: no holiday table for %s; due days counted through them are Monday-Friday guesses",
            ", ".join(str(year) for year in result.calendar_missing_years),
        )
    return result


def _apply(
    result: ScanResult,
    batch: Sequence[CarApplication],
    clocks: dict[int, Clock],
    wanted: dict[Key, Wanted],
    today: datetime.date,
) -> None:
    """Write one chunk's changes in one transaction; a flag inserted meanwhile by another scan (the unique
    constraint refuses the second) makes it read the chunk's flags again and retry (each retry finds at least the
    flags that refused it)."""
    for attempt in range(1, 4):
        try:
            with transaction.atomic():
                _apply_once(result, batch, clocks, wanted, today)
            return
        except IntegrityError:
            if attempt == 3:
                raise


def _apply_once(
    result: ScanResult,
    batch: Sequence[CarApplication],
    clocks: dict[int, Clock],
    wanted: dict[Key, Wanted],
    today: datetime.date,
) -> None:
    by_id = {a.pk: a for a in batch}
    # Read as plain rows: most of them stay as they are, and only those that change become model instances.
    rows = (
        CarClockFlag.objects.select_for_update()
        .filter(application_id__in=list(by_id))
        .values_list("id", "application_id", "district_id", "stage", "kind", "due_on", "resolved_on")
    )
    existing: dict[Key, tuple[int, str, datetime.date | None]] = {
        (application_id, stage, kind, due_on): (pk, district_id, resolved_on)
        for pk, application_id, district_id, stage, kind, due_on, resolved_on in rows
    }
    new = {key: want for key, want in wanted.items() if key not in existing}
    reopen = [
        (key, pk, district_id)
        for key, (pk, district_id, resolved_on) in existing.items()
        if key in wanted and resolved_on is not None
    ]
    stale: dict[str, list[tuple[Key, int, str]]] = defaultdict(list)
    for key, (pk, district_id, resolved_on) in existing.items():
        if key not in wanted and resolved_on is None:
            reason = resolution_for(key[1], key[2], by_id[key[0]], clocks[key[0]])
            stale[reason].append((key, pk, district_id))
    changes: list[Change] = []
    if new:
        ids = _insert_flags(new, today)
        changes += [Change(ids[key], key, want.district_id, "flagged", {}) for key, want in new.items()]
        for key in new:
            result.by_kind[key[2]] = result.by_kind.get(key[2], 0) + 1
    if reopen:
        CarClockFlag.objects.filter(pk__in=[pk for _, pk, _ in reopen]).update(
            resolved_on=None, resolution="", flagged_on=today
        )
        changes += [Change(pk, key, district_id, "reopened", {}) for key, pk, district_id in reopen]
    for reason, flags in stale.items():
        CarClockFlag.objects.filter(pk__in=[pk for _, pk, _ in flags]).update(resolved_on=today, resolution=reason)
        changes += [Change(pk, key, district_id, "resolved", {"resolution": reason}) for key, pk, district_id in flags]
    if changes:
        _write_audit(changes, {a.pk: a.number for a in batch})
    result.flagged += len(new)
    result.reopened += len(reopen)
    result.resolved += sum(len(flags) for flags in stale.values())


def _insert_flags(new: dict[Key, Wanted], today: datetime.date) -> dict[Key, int]:
    """Insert the new flags; their ids by key. On PostgreSQL one ``INSERT … SELECT … FROM unnest(arrays)`` (a
    backlog of thousands of late applications is a few statements, not thousands of model instances)."""
    if connection.vendor != "postgresql":
        flags = CarClockFlag.objects.bulk_create(
            CarClockFlag(
                application_id=key[0],
                district_id=want.district_id,
                stage=key[1],
                kind=key[2],
                due_on=key[3],
                flagged_on=today,
                uncovered_years=list(want.uncovered_years),
            )
            for key, want in new.items()
        )
        return {(f.application_id, f.stage, f.kind, f.due_on): f.pk for f in flags}
    rows = [
        {
            "application_id": key[0],
            "district_id": want.district_id,
            "stage": key[1],
            "kind": key[2],
            "due_on": key[3].isoformat(),
            "years": list(want.uncovered_years),
        }
        for key, want in new.items()
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO vehicles_carclockflag (application_id, district_id, stage, kind, due_on, flagged_on, "
            "created_at, uncovered_years, resolved_on, resolution) "
            "SELECT r.application_id, r.district_id, r.stage, r.kind, r.due_on, %s, %s, r.years, NULL, '' "
            "FROM jsonb_to_recordset(%s::jsonb) "
            "AS r(application_id bigint, district_id text, stage text, kind text, due_on date, years jsonb) "
            "RETURNING id, application_id, stage, kind, due_on",
            [today, timezone.now(), json.dumps(rows)],
        )
        return {(a, s, k, d): pk for pk, a, s, k, d in cursor.fetchall()}


@dataclass(frozen=True)
class Change:
    """One flag's change to audit: flagged, reopened or resolved."""

    flag_id: int
    key: Key
    district_id: str
    action: str
    extra: dict[str, Any]


def _write_audit(changes: Sequence[Change], numbers: dict[int, str]) -> None:
    """One audit row per change, in the chunk's transaction: the row ``audit.record`` writes (``audit.entry``
    builds it, once per action, and each change fills in its flag, label, district and values); on PostgreSQL all
    of them go in as one ``INSERT … SELECT … FROM jsonb_to_recordset``."""
    templates: dict[str, AuditEntry] = {}
    rows = []
    for change in changes:
        template = templates.get(change.action)
        if template is None:
            template = templates[change.action] = audit.entry(
                actor=ACTOR, action=f"vehicles.car_clock_flag.{change.action}", target=CarClockFlag(pk=0)
            )
        application_id, stage, kind, due_on = change.key
        number = numbers[application_id]
        rows.append(
            {
                "actor_label": template.actor_label,
                "action": template.action,
                "object_type": template.object_type,
                "object_id": str(change.flag_id),
                "object_label": f"{number} {STAGE_TITLES.get(stage, stage)} {Kind(kind).label}"[:200],
                "after": {
                    "application": application_id,
                    "number": number,
                    "stage": stage,
                    "kind": kind,
                    "due_on": due_on.isoformat(),
                    **change.extra,
                },
                "district_code": change.district_id,
                "request_id": template.request_id,
            }
        )
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(AuditEntry(**row) for row in rows)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_auditentry (occurred_at, actor_id, actor_label, action, object_type, object_id, "
            "object_label, before, after, organisation_id, district_code, request_id) "
            "SELECT %s, NULL, r.actor_label, r.action, r.object_type, r.object_id, r.object_label, NULL, r.after, "
            "NULL, r.district_code, r.request_id "
            "FROM jsonb_to_recordset(%s::jsonb) AS r(actor_label text, action text, object_type text, "
            "object_id text, object_label text, after jsonb, district_code text, request_id text)",
            [timezone.now(), json.dumps(rows, ensure_ascii=False)],
        )


def run_job() -> ScanResult:
    """The periodic job's target (``huanxin jobs run vehicles.clock_flags`` runs it now)."""
    return scan()


# ---------------------------------------------------------------- who sees the flags


def visible_flags(user: Any) -> QuerySet[CarClockFlag]:
    """Reviewers: every stage of their districts (city-wide: all); finance officers: the pay stage of theirs."""
    if not getattr(user, "is_authenticated", False):
        return CarClockFlag.objects.none()
    reviewing = districts_for(user, *REVIEWERS)
    paying = districts_for(user, *FINANCE_OFFICERS)
    conditions: list[Q] = []
    if reviewing is None:
        return CarClockFlag.objects.all()
    if reviewing:
        conditions.append(Q(district_id__in=reviewing))
    if paying is None:
        conditions.append(Q(stage="pay"))
    elif paying:
        conditions.append(Q(stage="pay", district_id__in=paying))
    if not conditions:
        return CarClockFlag.objects.none()
    condition = conditions[0]
    for other in conditions[1:]:
        condition |= other
    return CarClockFlag.objects.filter(condition)


def can_read_flags(user: Any) -> bool:
    reviewing = districts_for(user, *REVIEWERS)
    paying = districts_for(user, *FINANCE_OFFICERS)
    return reviewing is None or paying is None or bool(reviewing) or bool(paying)


def reviews(user: Any, district_id: str) -> bool:
    """Whether the user reviews the district's applications (and so may open them)."""
    reviewing = districts_for(user, *REVIEWERS)
    return reviewing is None or district_id in reviewing


@dataclass(frozen=True)
class FlagRow:
    flag: CarClockFlag
    application_id: int
    number: str
    district_name: str
    stage_title: str
    kind_name: str
    working_days_late: int
    can_open: bool


@dataclass(frozen=True)
class DistrictCount:
    district_id: str
    district_name: str
    overdue: int
    due_soon: int
    supplement_lapsed: int

    @property
    def total(self) -> int:
        return self.overdue + self.due_soon + self.supplement_lapsed


@dataclass(frozen=True)
class FlagPage:
    counts: list[DistrictCount]
    rows: list[FlagRow]
    total: int
    calendar_missing_years: tuple[int, ...]
    today: datetime.date


MAX_ROWS = 500


def open_flags(user: Any, *, district: str = "", stage: str = "", kind: str = "", limit: int = MAX_ROWS) -> FlagPage:
    """The open flags the user sees, the latest (most days late) first and then the soonest due; the counts per
    district above them (of every open flag the user sees, whatever the filters)."""
    today = timezone.localdate()
    calendar = default_calendar()
    visible = visible_flags(user).filter(resolved_on__isnull=True)
    names = dict(District.objects.values_list("code", "name"))
    tally: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for district_id, flag_kind, count in visible.values_list("district_id", "kind").annotate(n=Count("id")):
        tally[district_id][flag_kind] = count
    counts = [
        DistrictCount(
            code,
            names.get(code, code),
            tally[code][Kind.OVERDUE],
            tally[code][Kind.DUE_SOON],
            tally[code][Kind.SUPPLEMENT_LAPSED],
        )
        for code in sorted(tally, key=lambda c: (-sum(tally[c].values()), c))
    ]
    chosen = visible
    if district:
        chosen = chosen.filter(district_id=district)
    if stage:
        chosen = chosen.filter(stage=stage)
    if kind:
        chosen = chosen.filter(kind=kind)
    total = chosen.count()
    flags = list(chosen.annotate(number=F("application__number")).order_by("due_on", "pk")[:limit])
    rows = [
        FlagRow(
            flag=f,
            application_id=f.application_id,
            number=f.number,
            district_name=names.get(f.district_id, f.district_id),
            stage_title=STAGE_TITLES.get(f.stage, f.stage),
            kind_name=Kind(f.kind).label,
            working_days_late=calendar.working_days_between(f.due_on, today),
            can_open=reviews(user, f.district_id),
        )
        for f in flags
    ]
    missing = set(calendar_gaps(today, calendar))
    for f in flags:
        missing.update(f.uncovered_years)
    return FlagPage(counts, rows, total, tuple(sorted(missing)), today)


def open_marks(application_ids: Iterable[int]) -> dict[int, str]:
    """The mark the reviewers' queue shows per application: 已逾期 before 补正逾期 before 即将到期."""
    rank = {Kind.OVERDUE: 0, Kind.SUPPLEMENT_LAPSED: 1, Kind.DUE_SOON: 2}
    marks: dict[int, str] = {}
    rows = CarClockFlag.objects.filter(application_id__in=list(application_ids), resolved_on__isnull=True)
    for application_id, flag_kind in rows.values_list("application_id", "kind"):
        known = marks.get(application_id)
        if known is None or rank[Kind(flag_kind)] < rank[Kind(known)]:
            marks[application_id] = flag_kind
    return marks
