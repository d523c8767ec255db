"""Legal-clock flags of car applications: due days counted on the platform calendar (weekends, holidays, an
adjusted working Saturday), a 补正 pause moving the flag later, once per application, stage and due day however
often the job runs, resolved (not deleted) when the stage finishes, an audit row per change and none on a re-run,
a year without its holiday table reported, and each district seeing its own flags only."""

from __future__ import annotations

import datetime
import itertools
import random
from typing import Any

import pytest

from huanxin.accounts.models import OrganisationKind
from huanxin.accounts.roles import Role
from huanxin.conftest import api_client_for, client_for, make_member, make_organisation
from huanxin.core import jobs
from huanxin.core.domain import workdays
from huanxin.core.models import AuditEntry
from huanxin.vehicles import application_queries, clock_flags
from huanxin.vehicles import application_services as car
from huanxin.vehicles.application_models import CarApplication, CarClockFlag
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car
from huanxin.vehicles.tests.factories import new_vin

pytestmark = pytest.mark.django_db

D = datetime.date
_numbers = itertools.count(1)
FLAGGED = "vehicles.car_clock_flag.flagged"


@pytest.fixture
def base(personas):
    return base_application(personas)


def base_application(personas: Any) -> CarApplication:
    """One application filed through the service (a real applicant, payee and programme); the others are copies
    of it with the dates and status each test needs, as the job only reads those."""
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-FLAG-1")
    application = file_application(
        personas.consumer,
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF-FLAG-1",
    )
    # Out of the way: only the copies are scanned unless a test says otherwise.
    CarApplication.objects.filter(pk=application.pk).update(status="withdrawn")
    return application


def make(
    base: CarApplication,
    *,
    status: str,
    submitted_on: datetime.date,
    accepted_on: datetime.date | None = None,
    decided_on: datetime.date | None = None,
    pauses: list[dict[str, Any]] | None = None,
    supplement_due_on: datetime.date | None = None,
    district: str = "110105",
) -> CarApplication:
    return CarApplication.objects.create(
        number=f"CF-{next(_numbers):06d}",
        programme_id=base.programme_id,
        kind=base.kind,
        applicant_id=base.applicant_id,
        filed_by_id=base.filed_by_id,
        district_id=district,
        old_vin=new_vin(),
        new_vin=new_vin("LGX"),
        new_invoice_number="FP",
        new_price_fen=15_000_000,
        new_energy="nev",
        payee_id=base.payee_id,
        status=status,
        submitted_on=submitted_on,
        accepted_on=accepted_on,
        decided_on=decided_on,
        pauses=pauses or [],
        supplement_due_on=supplement_due_on,
    )


def flags(application: CarApplication) -> list[tuple[str, str, datetime.date, bool]]:
    return [
        (f.stage, f.kind, f.due_on, f.resolved_on is None)
        for f in CarClockFlag.objects.filter(application=application).order_by("pk")
    ]


@pytest.fixture
def calendar_2026_only(monkeypatch):
    """The calendar with 2026's holiday table only, whatever tables later ship: 2027 is then a year without one."""
    calendar = workdays.load_calendar([workdays.CALENDAR_DIR / "2026.toml"])
    monkeypatch.setattr(clock_flags, "default_calendar", lambda: calendar)
    monkeypatch.setattr(application_queries, "default_calendar", lambda: calendar)
    return calendar


# ---------------------------------------------------------------- the calendar


def test_the_sql_cutoff_is_exactly_the_last_start_that_can_be_due_by_the_horizon():
    calendar = workdays.default_calendar()
    for horizon in (D(2026, 2, 25), D(2026, 2, 14), D(2026, 10, 9), D(2026, 10, 3), D(2026, 5, 6)):
        for days in (0, 1, 3, 15, 30):
            cutoff = clock_flags.latest_start(calendar, days, horizon)
            for offset in range(-70, 5):
                start = horizon + datetime.timedelta(days=offset)
                assert (calendar.add_working_days(start, days) <= horizon) == (start <= cutoff), (horizon, days, start)


def test_the_due_day_skips_the_spring_festival_and_counts_the_adjusted_saturday(base):
    # Friday 13 February 2026: Saturday 14 is a working day, 15–23 the holiday; 3 working days end on Wed 25.
    application = make(base, status="submitted", submitted_on=D(2026, 2, 13))
    # On Monday to Friday alone it would be due on Wednesday 18 (in the holiday): nothing is flagged then.
    for day in (D(2026, 2, 13), D(2026, 2, 14), D(2026, 2, 19), D(2026, 2, 23)):
        assert clock_flags.scan(day, within=1).flagged == 0, day
    assert flags(application) == []
    # Tuesday 24: due the next working day.
    assert clock_flags.scan(D(2026, 2, 24), within=1).flagged == 1
    assert flags(application) == [("accept", "due_soon", D(2026, 2, 25), True)]
    # Thursday 26: late; the due-soon flag gives way to the overdue one (kept, resolved).
    clock_flags.scan(D(2026, 2, 26), within=1)
    assert flags(application) == [
        ("accept", "due_soon", D(2026, 2, 25), False),
        ("accept", "overdue", D(2026, 2, 25), True),
    ]


def test_the_warning_distance_is_a_setting_in_working_days(base, settings):
    application = make(base, status="accepted", submitted_on=D(2026, 2, 26), accepted_on=D(2026, 3, 2))
    # Decide by Monday 23 March (15 working days). Three working days ahead is Wednesday 18.
    settings.HUANXIN_CAR_CLOCK_DUE_SOON_DAYS = 3
    assert clock_flags.scan(D(2026, 3, 17)).flagged == 0
    assert clock_flags.scan(D(2026, 3, 18)).flagged == 1
    assert flags(application) == [("decide", "due_soon", D(2026, 3, 23), True)]


def test_a_supplement_pause_delays_the_flag(base):
    # Accepted Monday 2 March: decide by 23 March; 补正 from 4 to 11 March paused 5 working days: 30 March.
    plain = make(base, status="accepted", submitted_on=D(2026, 2, 27), accepted_on=D(2026, 3, 2))
    paused = make(
        base,
        status="accepted",
        submitted_on=D(2026, 2, 27),
        accepted_on=D(2026, 3, 2),
        pauses=[{"stage": "decide", "start": "2026-03-04", "end": "2026-03-11"}],
    )
    clock_flags.scan(D(2026, 3, 24), within=1)
    assert flags(plain) == [("decide", "overdue", D(2026, 3, 23), True)]
    assert flags(paused) == []
    clock_flags.scan(D(2026, 3, 27), within=1)
    assert flags(paused) == [("decide", "due_soon", D(2026, 3, 30), True)]


def test_while_paused_only_the_supplement_deadline_is_flagged(base):
    waiting = make(
        base,
        status="supplement",
        submitted_on=D(2026, 2, 27),
        accepted_on=D(2026, 3, 2),
        pauses=[{"stage": "decide", "start": "2026-03-04", "end": None}],
        supplement_due_on=D(2026, 4, 10),
    )
    # Long after 23 March, but the clock stands still while the applicant is asked for material.
    assert clock_flags.scan(D(2026, 4, 10), within=1).flagged == 0
    clock_flags.scan(D(2026, 4, 13), within=1)
    assert flags(waiting) == [("decide", "supplement_lapsed", D(2026, 4, 10), True)]


# ---------------------------------------------------------------- once, resolved, audited


def test_running_twice_flags_once_with_one_audit_row_per_flag_and_none_on_a_rerun(base):
    late = make(base, status="submitted", submitted_on=D(2026, 3, 2))
    haidian = make(
        base,
        status="approved",
        submitted_on=D(2026, 1, 5),
        accepted_on=D(2026, 1, 7),
        decided_on=D(2026, 1, 20),
        district="110108",
    )
    first = clock_flags.scan(D(2026, 4, 1), within=1)
    assert (first.flagged, first.open) == (2, 2)
    audit_rows = AuditEntry.objects.filter(action=FLAGGED)
    assert sorted((e.object_id, e.district_code) for e in audit_rows) == sorted(
        (str(f.pk), f.district_id) for f in CarClockFlag.objects.all()
    )
    assert {e.after["application"] for e in audit_rows} == {late.pk, haidian.pk}
    entries = AuditEntry.objects.count()
    second = clock_flags.scan(D(2026, 4, 1), within=1)
    later_same_stage = clock_flags.scan(D(2026, 4, 2), within=1)
    assert (second.flagged, second.resolved, later_same_stage.flagged, later_same_stage.resolved) == (0, 0, 0, 0)
    assert CarClockFlag.objects.count() == 2
    assert AuditEntry.objects.count() == entries


def test_the_unique_constraint_holds_one_flag_per_application_stage_kind_and_day(base):
    from django.db import IntegrityError, transaction

    application = make(base, status="submitted", submitted_on=D(2026, 3, 2))
    clock_flags.scan(D(2026, 4, 1), within=1)
    flag = CarClockFlag.objects.get(application=application)
    with pytest.raises(IntegrityError), transaction.atomic():
        CarClockFlag.objects.create(
            application=application,
            district_id=flag.district_id,
            stage=flag.stage,
            kind=flag.kind,
            due_on=flag.due_on,
            flagged_on=D(2026, 4, 2),
        )


def test_the_job_runs_through_the_jobs_registry_and_a_finished_stage_resolves_its_flag(base, personas):
    today = car.today_local()
    application = make(base, status="submitted", submitted_on=today - datetime.timedelta(days=30))
    run = jobs.run_job("vehicles.clock_flags")
    assert run is not None
    assert run.status == "done", run.detail
    [flag] = CarClockFlag.objects.filter(application=application)
    assert (flag.stage, flag.kind, flag.resolved_on) == ("accept", "overdue", None)
    # The reviewer accepts (the service, as the page does): the next run resolves the flag and keeps it.
    car.accept(actor=personas.district_reviewer, application=application)
    result = clock_flags.scan()
    assert result.resolved == 1
    flag.refresh_from_db()
    assert (flag.resolved_on, flag.resolution) == (today, "done")
    resolved = AuditEntry.objects.get(action="vehicles.car_clock_flag.resolved")
    assert (resolved.object_id, resolved.district_code, resolved.after["resolution"]) == (
        str(flag.pk),
        "110105",
        "done",
    )
    # The decide clock has just started: nothing new.
    assert CarClockFlag.objects.filter(resolved_on__isnull=True).count() == 0


def test_a_withdrawn_application_closes_its_flag_and_a_supplied_one_its_lapse(base):
    withdrawn = make(base, status="submitted", submitted_on=D(2026, 3, 2))
    lapsed = make(
        base,
        status="supplement",
        submitted_on=D(2026, 3, 2),
        pauses=[{"stage": "accept", "start": "2026-03-03", "end": None}],
        supplement_due_on=D(2026, 3, 20),
    )
    clock_flags.scan(D(2026, 3, 25), within=1)
    CarApplication.objects.filter(pk=withdrawn.pk).update(status="withdrawn")
    CarApplication.objects.filter(pk=lapsed.pk).update(
        status="submitted", pauses=[{"stage": "accept", "start": "2026-03-03", "end": "2026-03-25"}]
    )
    clock_flags.scan(D(2026, 3, 25), within=1)
    assert CarClockFlag.objects.get(application=withdrawn).resolution == "closed"
    assert CarClockFlag.objects.get(application=lapsed, kind="supplement_lapsed").resolution == "done"


def test_a_lapse_refused_while_waiting_is_closed_not_done(base, personas):
    lapsed = make(
        base,
        status="supplement",
        submitted_on=D(2026, 3, 2),
        pauses=[{"stage": "accept", "start": "2026-03-03", "end": None}],
        supplement_due_on=D(2026, 3, 20),
    )
    clock_flags.scan(D(2026, 3, 25), within=1)
    CarApplication.objects.filter(pk=lapsed.pk).update(status="refused", decided_on=D(2026, 3, 25))
    clock_flags.scan(D(2026, 3, 25), within=1)
    assert CarClockFlag.objects.get(application=lapsed, kind="supplement_lapsed").resolution == "closed"
    # A filter outside the known stages and kinds is refused, not answered with an empty list.
    client = api_client_for(personas.reviewer)
    for query in ("stage=approve", "kind=late", "district=chaoyang"):
        assert client.get(f"/api/v1/vehicles/applications/clock-flags?{query}").status_code == 422


def test_the_sql_prefilter_misses_nothing_a_full_scan_would_flag(base):
    """Every open application's clock computed with no SQL filter at all gives the same flags as the scan."""
    rng = random.Random(2026)
    today = D(2026, 6, 10)
    for _ in range(60):
        submitted = today - datetime.timedelta(days=rng.randint(0, 80))
        accepted = submitted + datetime.timedelta(days=rng.randint(1, 8))
        decided = accepted + datetime.timedelta(days=rng.randint(5, 30))
        status = rng.choice(["submitted", "accepted", "supplement", "reconsideration", "approved", "payment_failed"])
        if status == "submitted":
            make(base, status=status, submitted_on=submitted)
        elif status == "supplement":
            start = accepted + datetime.timedelta(days=2)
            make(
                base,
                status=status,
                submitted_on=submitted,
                accepted_on=accepted,
                pauses=[{"stage": "decide", "start": start.isoformat(), "end": None}],
                supplement_due_on=start + datetime.timedelta(days=rng.randint(3, 20)),
            )
        elif status in ("accepted", "reconsideration"):
            pause_start = accepted + datetime.timedelta(days=1)
            pauses = (
                [
                    {
                        "stage": "decide",
                        "start": pause_start.isoformat(),
                        "end": (pause_start + datetime.timedelta(days=9)).isoformat(),
                    }
                ]
                if rng.random() < 0.4
                else []
            )
            make(
                base,
                status=status,
                submitted_on=submitted,
                accepted_on=accepted,
                pauses=pauses,
                decided_on=decided if status == "reconsideration" else None,
            )
        else:
            make(base, status=status, submitted_on=submitted, accepted_on=accepted, decided_on=min(decided, today))
    horizon = workdays.default_calendar().add_working_days(today, 2)
    expected: set[tuple[int, str, str, datetime.date]] = set()
    for application in CarApplication.objects.filter(status__in=clock_flags.OPEN_STATUSES):
        expected |= set(
            clock_flags.wanted_flags(application, application_queries.clock(application, today), today, horizon)
        )
    result = clock_flags.scan(today, within=2, chunk=7)  # small chunks: several round trips
    assert result.scanned < CarApplication.objects.filter(status__in=clock_flags.OPEN_STATUSES).count()
    assert {(f.application_id, f.stage, f.kind, f.due_on) for f in CarClockFlag.objects.all()} == expected
    assert expected  # the data does have due and late stages


# ---------------------------------------------------------------- the calendar without a year's table


def test_a_year_without_its_holiday_table_is_reported_not_guessed_quietly(base, personas, calendar_2026_only):
    application = make(base, status="submitted", submitted_on=D(2026, 12, 30))
    result = clock_flags.scan(D(2027, 1, 6), within=1)
    assert 2027 in result.calendar_missing_years
    assert "2027" in str(result)
    [flag] = CarClockFlag.objects.filter(application=application)
    assert flag.uncovered_years == [2027]
    assert calendar_2026_only.covers(D(2026, 12, 30))
    assert not calendar_2026_only.covers(flag.due_on)
    page = client_for(personas.district_reviewer).get("/vehicles/applications/clock-flags/").content.decode()
    assert 'data-calendar-missing="2027"' in page
    assert "按周一至周五估算" in page
    body = api_client_for(personas.district_reviewer).get("/api/v1/vehicles/applications/clock-flags").json()
    assert 2027 in body["calendar_missing_years"]
    assert body["flags"][0]["calendar_missing_years"] == [2027]


def test_a_due_day_inside_a_covered_year_is_not_marked_a_guess(base, personas, calendar_2026_only):
    # Filed in November and not accepted: the accept clock ends in November (2026's table covers it), even
    # though this application's later stages, counted from today, reach into 2027.
    application = make(base, status="submitted", submitted_on=D(2026, 11, 25))
    clock_flags.scan(D(2026, 12, 3), within=1)
    [flag] = CarClockFlag.objects.filter(application=application)
    assert flag.kind == "overdue"
    assert flag.due_on.year == 2026
    assert flag.uncovered_years == []
    assert 2027 in application_queries.clock(application, D(2026, 12, 3)).uncovered_years


def test_the_gap_is_reported_before_any_clock_reaches_into_it(base, calendar_2026_only):
    # In December a pay clock of 30 working days already ends in January.
    assert clock_flags.calendar_gaps(D(2026, 12, 3), calendar_2026_only) == (2027,)
    assert clock_flags.calendar_gaps(D(2026, 6, 3), calendar_2026_only) == ()


# ---------------------------------------------------------------- who sees them


@pytest.fixture
def flagged(base):
    chaoyang_accept = make(base, status="submitted", submitted_on=D(2026, 3, 2))
    chaoyang_pay = make(
        base, status="approved", submitted_on=D(2026, 1, 5), accepted_on=D(2026, 1, 7), decided_on=D(2026, 1, 20)
    )
    haidian_decide = make(
        base, status="accepted", submitted_on=D(2026, 2, 2), accepted_on=D(2026, 2, 4), district="110108"
    )
    clock_flags.scan(D(2026, 4, 1), within=1)
    return chaoyang_accept, chaoyang_pay, haidian_decide


def test_a_district_reviewer_sees_their_district_only_on_the_page_and_the_api(flagged, personas):
    chaoyang_accept, chaoyang_pay, haidian_decide = flagged
    haidian_reviewer = make_member(
        Role.REVIEWER, make_organisation(OrganisationKind.GOVERNMENT, "110108", name="海淀区商务局"), district="110108"
    )
    page = client_for(personas.district_reviewer).get("/vehicles/applications/clock-flags/")
    text = page.content.decode()
    assert page.status_code == 200
    assert chaoyang_accept.number in text
    assert chaoyang_pay.number in text
    assert haidian_decide.number not in text
    assert "海淀区" not in text
    assert f'href="/vehicles/applications/{chaoyang_accept.pk}/"' in text
    api = api_client_for(personas.district_reviewer).get("/api/v1/vehicles/applications/clock-flags").json()
    assert {f["number"] for f in api["flags"]} == {chaoyang_accept.number, chaoyang_pay.number}
    assert [(c["district"], c["overdue"]) for c in api["counts"]] == [("110105", 2)]
    # Asking for another district's flags by name gives nothing.
    other = api_client_for(personas.district_reviewer).get("/api/v1/vehicles/applications/clock-flags?district=110108")
    assert other.json()["flags"] == []
    assert (
        haidian_decide.number
        not in client_for(personas.district_reviewer)
        .get("/vehicles/applications/clock-flags/?district=110108")
        .content.decode()
    )
    haidian = api_client_for(haidian_reviewer).get("/api/v1/vehicles/applications/clock-flags").json()
    assert [f["number"] for f in haidian["flags"]] == [haidian_decide.number]
    # The city-wide reviewer: every district, the latest first.
    city = api_client_for(personas.reviewer).get("/api/v1/vehicles/applications/clock-flags").json()
    assert [f["number"] for f in city["flags"]] == [
        CarApplication.objects.get(pk=f.application_id).number for f in CarClockFlag.objects.order_by("due_on")
    ]
    assert [f["due_on"] for f in city["flags"]] == sorted(f["due_on"] for f in city["flags"])
    assert len(city["flags"]) == 3
    assert {c["district"] for c in city["counts"]} == {"110105", "110108"}
    staged = api_client_for(personas.reviewer).get("/api/v1/vehicles/applications/clock-flags?stage=decide").json()
    assert [f["number"] for f in staged["flags"]] == [haidian_decide.number]


def test_finance_sees_the_pay_stage_only_and_everyone_else_is_refused(flagged, personas):
    chaoyang_accept, chaoyang_pay, _haidian_decide = flagged
    finance = api_client_for(personas.finance).get("/api/v1/vehicles/applications/clock-flags").json()
    assert [(f["number"], f["stage"]) for f in finance["flags"]] == [(chaoyang_pay.number, "pay")]
    page = client_for(personas.finance).get("/vehicles/applications/clock-flags/").content.decode()
    assert chaoyang_pay.number in page
    assert chaoyang_accept.number not in page
    # Finance cannot open the application: the row leads to the car subsidy payables.
    assert f'href="/vehicles/applications/{chaoyang_pay.pk}/"' not in page
    for user in (personas.consumer, personas.clerk, personas.manager, personas.auditor, personas.outsider):
        assert client_for(user).get("/vehicles/applications/clock-flags/").status_code == 403
        response = api_client_for(user).get("/api/v1/vehicles/applications/clock-flags")
        assert response.status_code == 403
        assert chaoyang_accept.number not in response.content.decode()


def test_the_queue_marks_the_flagged_rows(flagged, base, personas):
    _chaoyang_accept, _, _ = flagged
    # Friday 27 March: accept by Wednesday 1 April, the day of the scan.
    due_soon = make(base, status="submitted", submitted_on=D(2026, 3, 27))
    clock_flags.scan(D(2026, 4, 1), within=1)
    assert flags(due_soon) == [("accept", "due_soon", D(2026, 4, 1), True)]
    text = client_for(personas.district_reviewer).get("/vehicles/applications/queue/").content.decode()
    assert text.count('data-mark="overdue"') == 1
    assert text.count('data-mark="due_soon"') == 1
    assert "/vehicles/applications/clock-flags/" in text
