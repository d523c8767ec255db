"""Flagging car subsidy applications whose legal clock is running out or has run out, over a year of applications,
against one SQL query that finds the same rows.

Run: .venv/bin/python bench/clock_flags.py [--applications 300000] [--today 2026-11-16] [--within 1]
                                           [--database huanxin_bench_clock_flags] [--keep] [--repeat 3]

What happens, in order:

1. A fresh PostgreSQL database (dropped at the end unless --keep), Django in this process against it, and
   ``huanxin migrate`` run as a command with the same environment.
2. The scene: the car programme cn-car-scrap-2026, one applicant with a payee (registered through settlement's
   service), and --applications applications written by one ``INSERT … SELECT … FROM generate_series`` (no
   Python loop), submitted evenly over the 365 days before --today and round-robin over Beijing's districts. Their
   status follows their age the way a working programme's do: the last days' mostly waiting to be accepted or
   decided, a few a month old still waiting (late), a fraction paused for 补正 (some past their deadline), two in
   five decided ones with a closed 补正 pause behind them, the older ones mostly paid or refused, and a few of
   every age late in each stage (about 9 % of all are open). Then VACUUM ANALYZE.
3. The baseline: one SQL query through psycopg that computes each open application's running stage, its due day
   on the platform calendar (a table of working days written from ``core.domain.workdays`` before timing, as
   the query cannot read Python) with its 补正 pauses, and returns the same (application, stage, kind, due day)
   rows the job flags. Run once to warm the cache, then the best of --repeat.
4. Timed: ``vehicles.clock_flags.scan(today)`` (the job: every flag, its audit row, one transaction per chunk),
   then the same scan again (it must change nothing), each with its statements and time waiting for PostgreSQL.
5. Checked: the flags the job wrote against the baseline's rows, one by one (a difference is a mismatch and is
   printed: it would be a bug), an audit row per flag, and nothing written by the second run.

``flags_per_s`` = flags written ÷ the first scan's seconds; ``ratio_vs_sql`` = the first scan's seconds ÷ the
baseline's. The one-minute load average before the run is printed and included as ``load_average_before``. The
last line printed is one JSON object. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from _common import add_database_arguments, bench_database, clocked, dsn, load_average, migrate

PROGRAMME = "cn-car-scrap-2026"
OPEN = ("submitted", "accepted", "supplement", "reconsideration", "approved", "payment_failed")

Flag = tuple[int, str, str, datetime.date]


@dataclasses.dataclass(frozen=True)
class Options:
    applications: int
    today: datetime.date
    within: int
    database: str
    keep: bool
    repeat: int


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applications", type=int, default=300_000, help="applications over the year (300000)")
    parser.add_argument("--today", type=datetime.date.fromisoformat, default=datetime.date(2026, 11, 16))
    parser.add_argument("--within", type=int, default=1, help="working days ahead flagged as due soon (1)")
    add_database_arguments(parser, "huanxin_bench_clock_flags")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the SQL baseline; the fastest counts")
    args = parser.parse_args(argv)
    return Options(
        max(args.applications, 1), args.today, max(args.within, 0), args.database, args.keep, max(args.repeat, 1)
    )


# ---------------------------------------------------------------------------------------------------------
# The scene
# ---------------------------------------------------------------------------------------------------------

# Per row i (1..N): age in days (0..364), a pseudo-random bucket h (0..99) and the status it gives.
STATUS_SQL = """
CASE
  WHEN age <= 5 THEN CASE WHEN h < 60 THEN 'submitted' ELSE 'accepted' END
  WHEN age <= 30 THEN CASE WHEN h < 8 THEN 'submitted' WHEN h < 14 THEN 'supplement' WHEN h < 70 THEN 'accepted'
                           WHEN h < 92 THEN 'approved' ELSE 'refused' END
  WHEN age <= 60 THEN CASE WHEN h < 2 THEN 'submitted' WHEN h < 5 THEN 'supplement' WHEN h < 15 THEN 'accepted'
                           WHEN h < 40 THEN 'approved' WHEN h < 43 THEN 'payment_failed' WHEN h < 90 THEN 'paid'
                           ELSE 'refused' END
  ELSE CASE WHEN h < 1 THEN 'accepted' WHEN h < 2 THEN 'approved' WHEN h < 3 THEN 'reconsideration'
            WHEN h < 88 THEN 'paid' WHEN h < 97 THEN 'refused' ELSE 'withdrawn' END
END
"""

INSERT_SQL = f"""
WITH rows AS (
    SELECT i, (i %% 365) AS age, ((i::bigint * 2654435761) %% 100)::integer AS h,
           (%(today)s::date - (i %% 365)) AS submitted_on
      FROM generate_series(1, %(n)s) AS i
), shaped AS (
    SELECT i, age, h, submitted_on, {STATUS_SQL} AS status FROM rows
), dated AS (
    SELECT *,
           CASE WHEN status = 'submitted' THEN NULL
                ELSE least(submitted_on + 2, %(today)s::date) END AS accepted_on,
           CASE WHEN status IN ('approved', 'payment_failed', 'paid', 'refused', 'reconsideration')
                THEN least(submitted_on + 2 + (age / 3), %(today)s::date) END AS decided_on
      FROM shaped
)
INSERT INTO vehicles_carapplication (
    number, programme_id, kind, applicant_id, filed_by_id, district_id, old_vin, new_vin, certificate_number,
    transfer_invoice_number, new_invoice_number, new_price_fen, new_energy, new_model_code, new_displacement_ml,
    new_weight_class, new_refrigerated, payee_id, consent_note, status, submitted_at, submitted_on, accepted_on,
    decided_on, reason_code,
    decision_note, reconsideration_requested, supplement_due_on, supplement_note, pauses, checks, amount_fen,
    paid_on, bank_reference, payment_failure
)
SELECT 'BC' || lpad(i::text, 10, '0'), %(programme)s, 'scrap', %(person)s, %(user)s,
       (%(districts)s::text[])[1 + i %% cardinality(%(districts)s::text[])],
       'LBO' || lpad(i::text, 14, '0'), 'LBN' || lpad(i::text, 14, '0'), '', '', 'FP' || i, 15000000, 'nev', '', 0,
       '', false, %(payee)s, '', status, submitted_on::timestamp AT TIME ZONE 'Asia/Shanghai', submitted_on,
       accepted_on, decided_on, '', '', status = 'reconsideration',
       CASE WHEN status = 'supplement' THEN submitted_on + 4 + (h %% 20) END, '',
       CASE
         WHEN status = 'supplement' THEN
           jsonb_build_array(jsonb_build_object('stage', 'decide', 'start', (submitted_on + 3)::text, 'end', NULL))
         WHEN decided_on IS NOT NULL AND h %% 5 < 2 OR status = 'accepted' AND age > 12 AND h %% 5 < 2 THEN
           jsonb_build_array(jsonb_build_object('stage', 'decide', 'start', (submitted_on + 3)::text,
                                                'end', least(submitted_on + 3 + (h %% 9), %(today)s::date)::text))
         ELSE '[]'::jsonb
       END,
       '[]'::jsonb, 0,
       CASE WHEN status = 'paid' THEN least(decided_on + 20, %(today)s::date) END, '', ''
  FROM dated
"""


@dataclasses.dataclass(frozen=True)
class Scene:
    rows: int
    open: int
    by_status: dict[str, int]


def build_scene(options: Options) -> Scene:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from huanxin.accounts.models import District, Person
    from huanxin.policy.models import Programme
    from huanxin.settlement.services.payees import register_payee

    programme, _ = Programme.objects.get_or_create(
        code=PROGRAMME, defaults={"name": "汽车报废更新", "family": "car", "slices_per_district": 1, "status": "open"}
    )
    user = get_user_model().objects.create(username="bench-applicant")
    person = Person(user=user, district_id="110105", name="李四")
    person.save()
    with transaction.atomic():
        payee = register_payee(
            reference=f"person:{person.pk}",
            kind="person",
            name="李四",
            account_name="李四",
            bank_name="中国工商银行",
            account_number="6222020200112233445",
            actor=user,
            person=person,
        )
    districts = list(District.objects.filter(kind="district").values_list("code", flat=True)) or ["110105"]
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_SQL,
            {
                "today": options.today,
                "n": options.applications,
                "programme": programme.pk,
                "person": person.pk,
                "user": user.pk,
                "payee": payee.pk,
                "districts": districts,
            },
        )
        cursor.execute("VACUUM ANALYZE vehicles_carapplication")
        cursor.execute("SELECT status, count(*) FROM vehicles_carapplication GROUP BY status ORDER BY status")
        by_status = dict(cursor.fetchall())
    return Scene(options.applications, sum(by_status.get(s, 0) for s in OPEN), by_status)


# ---------------------------------------------------------------------------------------------------------
# The baseline: one query
# ---------------------------------------------------------------------------------------------------------

BASELINE_SQL = """
WITH running AS (
    SELECT a.id, a.status, a.pauses, a.supplement_due_on,
           CASE WHEN a.status = 'supplement' THEN
                     (SELECT p->>'stage' FROM jsonb_array_elements(a.pauses) p WHERE p->>'end' IS NULL LIMIT 1)
                WHEN a.accepted_on IS NULL THEN 'accept'
                WHEN a.status IN ('accepted', 'reconsideration') THEN 'decide'
                ELSE 'pay' END AS stage,
           CASE WHEN a.accepted_on IS NULL THEN a.submitted_on
                WHEN a.status IN ('accepted', 'reconsideration') THEN a.accepted_on
                ELSE a.decided_on END AS started_on,
           CASE WHEN a.accepted_on IS NULL THEN coalesce(s.accept_days, 3)
                WHEN a.status IN ('accepted', 'reconsideration') THEN coalesce(s.decide_days, 15)
                ELSE coalesce(s.pay_days, 30) END AS days
      FROM vehicles_carapplication a
      LEFT JOIN vehicles_carprogrammesettings s ON s.programme_id = a.programme_id
     WHERE a.status IN ('submitted', 'accepted', 'supplement', 'reconsideration', 'approved', 'payment_failed')
), timed AS (
    SELECT r.*, coalesce((
               SELECT sum(e.n - b.n)
                 FROM jsonb_array_elements(r.pauses) p
                 JOIN bench_calendar b ON b.day = (p->>'start')::date
                 JOIN bench_calendar e ON e.day = coalesce((p->>'end')::date, %(today)s::date)
                WHERE p->>'stage' = r.stage), 0) AS paused
      FROM running r
     WHERE r.status <> 'supplement'
), due AS (
    SELECT t.id, t.status, t.stage, t.supplement_due_on, w.day AS due_on
      FROM timed t
      JOIN bench_calendar c ON c.day = t.started_on
      JOIN bench_working w ON w.n = c.n + t.days + t.paused
)
SELECT id, stage, 'supplement_lapsed', supplement_due_on FROM running
 WHERE status = 'supplement' AND supplement_due_on < %(today)s::date
UNION ALL
SELECT id, stage, CASE WHEN due_on < %(today)s::date THEN 'overdue' ELSE 'due_soon' END, due_on FROM due
 WHERE status <> 'supplement' AND due_on <= %(horizon)s::date
"""


def write_calendar(database: str, options: Options) -> datetime.date:
    """The working-day calendar as two tables the query can join: every day with the count of working days up to
    it, and every working day by that count. Returns the horizon (the last due day flagged as due soon)."""
    from huanxin.core.domain.workdays import default_calendar

    calendar = default_calendar()
    start = options.today - datetime.timedelta(days=800)
    days, count = [], 0
    for offset in range(1200):
        day = start + datetime.timedelta(days=offset)
        if calendar.is_working_day(day):
            count += 1
        days.append((day, count, calendar.is_working_day(day)))
    with psycopg.connect(dsn(database), autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_calendar, bench_working")
        connection.execute("CREATE TABLE bench_calendar (day date PRIMARY KEY, n integer NOT NULL)")
        connection.execute("CREATE TABLE bench_working (n integer PRIMARY KEY, day date NOT NULL)")
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO bench_calendar VALUES (%s, %s)", [(d, n) for d, n, _ in days])
            cursor.executemany("INSERT INTO bench_working VALUES (%s, %s)", [(n, d) for d, n, w in days if w])
        connection.execute("ANALYZE bench_calendar")
        connection.execute("ANALYZE bench_working")
    return calendar.add_working_days(options.today, options.within)


def baseline(database: str, options: Options, horizon: datetime.date) -> tuple[float, set[Flag]]:
    best = float("inf")
    rows: set[Flag] = set()
    with psycopg.connect(dsn(database)) as connection:
        connection.execute(BASELINE_SQL, {"today": options.today, "horizon": horizon}).fetchall()  # warm
        for _ in range(options.repeat):
            started = time.perf_counter()
            fetched = connection.execute(BASELINE_SQL, {"today": options.today, "horizon": horizon}).fetchall()
            best = min(best, time.perf_counter() - started)
            rows = {(int(a), str(s), str(k), d) for a, s, k, d in fetched}
    return best, rows


# ---------------------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Timed:
    seconds: float
    statements: int
    database_seconds: float
    result: Any


def timed_scan(options: Options) -> Timed:
    from huanxin.vehicles import clock_flags

    with clocked() as clock:
        started = time.perf_counter()
        result = clock_flags.scan(options.today, within=options.within)
        seconds = time.perf_counter() - started
    return Timed(seconds, clock.statements, clock.seconds, result)


def check(expected: set[Flag]) -> tuple[list[str], int]:
    from huanxin.core.models import AuditEntry
    from huanxin.vehicles.application_models import CarClockFlag

    written = {
        (a, s, k, d) for a, s, k, d in CarClockFlag.objects.values_list("application_id", "stage", "kind", "due_on")
    }
    problems = [f"flagged by the job only: {row}" for row in sorted(written - expected)[:50]]
    problems += [f"found by the baseline only: {row}" for row in sorted(expected - written)[:50]]
    audited = AuditEntry.objects.filter(action="vehicles.car_clock_flag.flagged").count()
    if audited != len(written):
        problems.append(f"{audited} audit rows for {len(written)} flags")
    return problems, len(written)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    load_before = load_average()
    print(
        f"clock flags bench: {options.applications:,} applications, today {options.today}, "
        f"due soon within {options.within} working day(s), database {options.database}, "
        f"load average {load_before:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    started = time.perf_counter()
    with bench_database(options.database, keep=options.keep, prefix="huanxin-bench-clock-flags-"):
        migrate()
        scene = build_scene(options)
        horizon = write_calendar(options.database, options)
        generated = time.perf_counter()
        sql_seconds, expected = baseline(options.database, options, horizon)
        first = timed_scan(options)
        again = timed_scan(options)
        problems, flags = check(expected)
    print()
    print(f"setup (database, migrate, scene in SQL, calendar tables): {generated - started:.1f} s")
    print("applications by status: " + ", ".join(f"{s} {n:,}" for s, n in scene.by_status.items()))
    print(f"open: {scene.open:,}; scanned by the job (after the SQL pre-filter): {first.result.scanned:,}")
    print(f"SQL baseline (one query, best of {options.repeat}): {sql_seconds:.3f} s, {len(expected):,} rows")
    for label, run in (("scan", first), ("scan again", again)):
        print(
            f"{label:<11} {run.seconds:7.3f} s  {run.statements:>5} statements, {run.database_seconds:.3f} s waiting "
            f"for PostgreSQL, {run.seconds - run.database_seconds:.3f} s in Python — {run.result}"
        )
    ratio = first.seconds / sql_seconds
    print(f"ratio: {ratio:.2f} × the SQL baseline")
    changed_again = again.result.flagged + again.result.resolved + again.result.reopened
    if changed_again:
        problems.append(f"the second run changed {changed_again} flags")
    print(f"mismatches against the baseline: {len(problems)}")
    for problem in problems[:20]:
        print(f"  {problem}")
    result = {
        "bench": "clock_flags",
        "applications": options.applications,
        "open": scene.open,
        "scanned": first.result.scanned,
        "flags": flags,
        "flags_per_s": round(flags / first.seconds, 1),
        "seconds": round(first.seconds, 3),
        "rerun_s": round(again.seconds, 3),
        "sql_s": round(sql_seconds, 3),
        "ratio_vs_sql": round(ratio, 2),
        "statements": first.statements,
        "mismatches": len(problems),
        "calendar_missing_years": list(first.result.calendar_missing_years),
        "load_average_before": load_before,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
