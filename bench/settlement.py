"""Closing a settlement period of a million redemptions and assembling its payment batch, against one SQL query.

Run: .venv/bin/python bench/settlement.py [--redemptions 1000000] [--merchants 5000] [--clawbacks N]
                                          [--database huanxin_bench_settlement] [--keep] [--repeat 3]

What happens, in order:

1. A fresh PostgreSQL database (dropped at the end unless --keep), Django in this process against it
   (DATABASE_URL, HUANXIN_VAR_DIR in a temporary directory, deleted at the end unless --keep or the run
   fails), and ``huanxin migrate`` run as a command with the same environment.
2. The scene, small parts with the ORM and the bulk with set-based SQL (INSERT … SELECT … FROM
   generate_series, no Python loop over the rows; loaded with triggers off, as pg_restore
   --disable-triggers does, then every foreign key checked with one anti-join each; CHECK and UNIQUE
   constraints hold as the rows go in): cn-appliance-2026 opened on one Beijing day two days ago; a
   finance officer and a reviewer in a government unit; --merchants merchants, each with a store, one
   user who is its manager and clerk, and an approved enrolment with a bank account (one value sealed
   once with ``crypto.seal`` and reused by every merchant, so setup costs no AES per row); a budget slice
   per district; one verified resident (a profile, no sign-in account) per six redemptions (six
   categories, one slot each); a redeemed qualification per redemption; --redemptions redemptions
   round-robin over the merchants, spread evenly over the day in id order as a live system writes them,
   prices 1,000–20,000 元 and the subsidy the rule gives (15 %, cap 1,500 元), each with the engine's
   decision for a sale (its amount set per row); and --clawbacks returns of sales of that day, alternately
   full and partial, scattered over merchants and the day, each with its clawback later the same day. The
   budget slices end up with the spend the sales and returns leave. Then VACUUM ANALYZE, as autovacuum
   would have done by the time a day is closed.
3. The baseline: one SQL aggregation query through psycopg — per merchant, the count and sum of the day's
   redemptions minus the count and sum of the day's clawbacks, and the payable (never below zero) — run
   once untimed to warm the cache, then the best of --repeat.
4. Timed through the ORM: ``settlement.services.close_period`` on the day's period, then
   ``settlement.services.prepare_batch`` by the finance officer. Statements and the time spent waiting for
   PostgreSQL are counted per step.
5. Checked: every payable the service wrote, and every payment line of the batch, against the baseline,
   merchant by merchant (a difference counts as a mismatch and is printed: it would be a bug).

``seconds`` = close + batch; ``ratio_vs_sql`` = seconds / baseline seconds (target: at most 3). The
one-minute load average before the run (before the scene is generated, which would dominate it) is
printed and included in the JSON as ``load_average_before``: on a shared machine, figures taken under
load are not comparable. The last line printed is one JSON object. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

import psycopg
from _common import add_database_arguments, bench_database, clocked, dsn, load_average, migrate

PROGRAMME = "cn-appliance-2026"
CATEGORIES = ("fridge", "washer", "tv", "ac", "computer", "water_heater")
BANK_ACCOUNT = "6222021234567890123"
# The rule of cn-appliance-2026, as the generator applies it in SQL: 15 %, rounded half up, cap 1,500 元.
RATE_BP = 1500
CAP_FEN = 150_000

# One row of the baseline: merchant id → (redemptions, redemptions fen, clawbacks, clawbacks fen, payable fen).
Payables = dict[int, tuple[int, int, int, int, int]]

BASELINE_SQL = """
WITH sales AS (
    SELECT merchant_id, count(*) AS n, sum(subsidy_fen) AS fen
      FROM subsidies_redemption
     WHERE programme_id = %(programme)s AND redeemed_at >= %(start)s AND redeemed_at < %(end)s
     GROUP BY merchant_id
), clawed AS (
    SELECT merchant_id, count(*) AS n, sum(amount_fen) AS fen
      FROM subsidies_clawback
     WHERE programme_id = %(programme)s AND created_at >= %(start)s AND created_at < %(end)s
     GROUP BY merchant_id
)
SELECT merchant_id,
       coalesce(sales.n, 0), coalesce(sales.fen, 0), coalesce(clawed.n, 0), coalesce(clawed.fen, 0),
       greatest(coalesce(sales.fen, 0) - coalesce(clawed.fen, 0), 0)
  FROM sales FULL JOIN clawed USING (merchant_id)
"""


@dataclasses.dataclass(frozen=True)
class Options:
    redemptions: int
    merchants: int
    clawbacks: int
    database: str
    keep: bool
    repeat: int


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--redemptions", type=int, default=1_000_000, help="redemptions in the period (1000000)")
    parser.add_argument("--merchants", type=int, default=5_000, help="merchants they are spread over (5000)")
    parser.add_argument("--clawbacks", type=int, default=None, help="returns with a clawback (2 %% of redemptions)")
    add_database_arguments(parser, "huanxin_bench_settlement")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of the SQL baseline; the fastest counts")
    args = parser.parse_args(argv)
    redemptions = max(args.redemptions, 1)
    merchants = max(1, min(args.merchants, redemptions))
    clawbacks = redemptions // 50 if args.clawbacks is None else args.clawbacks
    if not 0 <= clawbacks <= redemptions:
        parser.error("--clawbacks must be between 0 and --redemptions")
    return Options(redemptions, merchants, clawbacks, args.database, args.keep, max(args.repeat, 1))


# ---------------------------------------------------------------------------------------------------------
# Migrations and statement counting
# ---------------------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------------------
# The scene
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scene:
    programme_id: int
    period_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    finance_user_id: int
    rows: dict[str, int]
    steps: dict[str, float]


def _price(i: str) -> str:
    """A price from 1,000 to 20,000 元 that varies with the row number, as SQL."""
    return f"(100000 + (({i})::bigint * 2654435761) %% 1900001)"


def _subsidy(price: str) -> str:
    """The subsidy the rule gives on a price (15 %, half up, capped), as SQL."""
    return f"least((({price}) * {RATE_BP} + 5000) / 10000, {CAP_FEN})"


def _reversed(i: str, kind: str) -> str:
    """Subsidy a return reverses: all of it (full), or what a quarter of the price no longer earns (partial)."""
    price = _price(i)
    kept = f"(({price}) - ({price}) * 3 / 4)"
    return f"(CASE WHEN {kind} = 'full' THEN {_subsidy(price)} ELSE {_subsidy(price)} - {_subsidy(kept)} END)"


def _decision_template() -> str:
    """The engine's decision for a typical sale, as stored on a redemption (its amount is set per row)."""
    from huanxin.policy import services as policy_services

    rule_set = policy_services.rule_set_for(PROGRAMME)
    decision = rule_set.evaluate(
        {"category": "fridge", "price_fen": 400_000, "energy_grade": 1, "water_grade": None, "history": []}
    ).to_dict()
    return json.dumps({**decision, "filed_price_fen": None}, ensure_ascii=False)


def _usccs(prefix: str, count: int) -> list[str]:
    """Unified social credit codes with valid check digits: ``prefix`` (10 characters) and a number."""
    from stdnum.cn import uscc

    codes = []
    for index in range(count):
        body = f"{prefix}{index:07d}"
        codes.append(body + uscc.calc_check_digit(body))
    return codes


def _stride(redemptions: int) -> int:
    """A multiplier coprime to ``redemptions`` near 0.618 of it: k ↦ k * stride scatters the returned rows."""
    stride = max(1, round(redemptions * 0.6180339887))
    while math.gcd(stride, redemptions) != 1:
        stride += 1
    return stride


def check_foreign_keys(cursor: Any) -> list[str]:
    """Every foreign key of every table, checked in one anti-join each: the constraints that the load did not."""
    cursor.execute(
        """SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text,
                  array_agg(a.attname ORDER BY k.ord), array_agg(b.attname ORDER BY k.ord)
             FROM pg_constraint c
             CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(child, parent, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.child
             JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = k.parent
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
            GROUP BY c.conname, c.conrelid, c.confrelid"""
    )
    broken = []
    for name, child, parent, child_columns, parent_columns in cursor.fetchall():
        joined = " AND ".join(f'p."{p}" = c."{c}"' for c, p in zip(child_columns, parent_columns, strict=True))
        present = " AND ".join(f'c."{c}" IS NOT NULL' for c in child_columns)
        cursor.execute(
            f"SELECT count(*) FROM {child} c WHERE {present} AND NOT EXISTS (SELECT FROM {parent} p WHERE {joined})"
        )
        missing = cursor.fetchone()[0]
        if missing:
            broken.append(f"{name}: {missing} rows of {child} point to no {parent}")
    return broken


def build_scene(options: Options) -> Scene:
    """Everything a day's close needs, the bulk in set-based SQL (see the module docstring)."""
    from django.db import connection
    from django.utils import timezone

    from huanxin.accounts.models import District, Membership, Organisation, OrganisationKind, Role, User
    from huanxin.catalogue.models import ProductModel
    from huanxin.core import crypto
    from huanxin.policy import services as policy_services
    from huanxin.policy.models import BudgetPool, Programme
    from huanxin.settlement import services
    from huanxin.settlement.models import SettlementPeriod

    redemptions, merchants, clawbacks = options.redemptions, options.merchants, options.clawbacks
    persons = -(-redemptions // len(CATEGORIES))
    now = timezone.now()
    day = timezone.localdate(now) - datetime.timedelta(days=2)

    policy_services.load_catalogue()
    programme = Programme.objects.get(code=PROGRAMME)
    Programme.objects.filter(pk=programme.pk).update(status=Programme.Status.OPEN, starts_on=day, ends_on=None)
    published = policy_services.published_version(PROGRAMME, day)
    if published is None:
        raise SystemExit(f"{PROGRAMME} has no published rule set on {day}")
    rule_version = f"{PROGRAMME}@{published.version}"
    decision = _decision_template()

    government = Organisation.objects.create(
        name="北京市财政局（基准测试）",
        kind=OrganisationKind.GOVERNMENT,
        uscc=_usccs("11110000MB", 1)[0],
        district_id="110102",
    )
    finance = User.objects.create(username="bench-finance", password="!", display_name="财政人员")
    reviewer = User.objects.create(username="bench-reviewer", password="!", display_name="审核人员")
    Membership.objects.create(user=finance, organisation=government, role=Role.FINANCE_OFFICER)
    Membership.objects.create(user=reviewer, organisation=government, role=Role.REVIEWER)
    products = [
        ProductModel.objects.create(
            brand="基准", model_number=f"BENCH-{category}", category=category, energy_grade=1
        ).pk
        for category in CATEGORIES
    ]
    districts = list(District.objects.order_by("sort_order", "code").values_list("code", flat=True))
    pools = BudgetPool.objects.bulk_create(BudgetPool(programme=programme, district_id=code) for code in districts)
    bank = crypto.seal(BANK_ACCOUNT, purpose="bank_account")
    phone = crypto.seal("13800000000", purpose="phone")
    resident = crypto.seal("110105199003070011", purpose="resident_id")

    start = datetime.datetime.combine(day, datetime.time(), timezone.get_current_timezone())
    end = start + datetime.timedelta(days=1)
    stride = _stride(redemptions)
    params: dict[str, Any] = {
        "redemptions": redemptions,
        "merchants": merchants,
        "clawbacks": clawbacks,
        "persons": persons,
        "stride": stride,
        "inverse": pow(stride, -1, redemptions) if redemptions > 1 else 0,
        "programme": programme.pk,
        "start": start,
        "end": end,
        "now": now,
        "categories": list(CATEGORIES),
        "products": products,
        "districts": districts,
        "pools": [p.pk for p in pools],
        "usccs": _usccs("91110105MB", merchants),
        "reviewer": reviewer.pk,
        "rule_version": rule_version,
        "decision": decision,
        "bank_cipher": bank.cipher,
        "bank_digest": bank.digest,
        "bank_masked": bank.masked,
        "phone_cipher": phone.cipher,
        "phone_masked": phone.masked,
        "resident_cipher": resident.cipher,
        "resident_masked": resident.masked,
    }
    # Row g (1-based) of the day: merchant (g-1) % merchants, category (g-1) % 6, resident (g-1) / 6 + 1,
    # sold at start + (g-1)/redemptions of the day. Return k = 1..clawbacks is of row g = 1 + (k-1) * stride
    # mod redemptions (stride coprime to redemptions, so the returned rows are distinct and scattered over
    # merchants and the day; row g is returned when (g-1) * inverse mod redemptions < clawbacks). An odd k
    # is a partial return (a quarter of the price kept), an even k a full one.
    kind = "(CASE WHEN {k} %% 2 = 0 THEN 'full' ELSE 'partial' END)"
    returned_k = (
        "(CASE WHEN ((g - 1)::bigint * %(inverse)s) %% %(redemptions)s < %(clawbacks)s"
        " THEN ((g - 1)::bigint * %(inverse)s) %% %(redemptions)s + 1 END)"
    )
    sold_at = "(%(start)s::timestamptz + (g - 1) * (86400.0 / %(redemptions)s) * interval '1 second')"
    clawed_at = f"({sold_at} + (%(end)s::timestamptz - {sold_at}) / 2)"
    statements = [
        "SET synchronous_commit = off",
        # Triggers off while loading, as pg_restore --disable-triggers does: the deferred foreign-key checks
        # would otherwise cost one row lookup per key per row. Every foreign key is checked afterwards,
        # set-based (check_foreign_keys); CHECK and UNIQUE constraints are enforced as the rows go in.
        "SET session_replication_role = replica",
        # Merchants: organisation, one user (manager and clerk), store, approved enrolment with a bank account.
        """CREATE TEMP TABLE bench_merchant AS
           SELECT n::int - 1 AS n, uscc, (%(districts)s::text[])[1 + (n::int - 1) %% cardinality(%(districts)s::text[])]
                  AS district, 0::bigint AS org_id, 0::bigint AS user_id, 0::bigint AS store_id
             FROM unnest(%(usccs)s::text[]) WITH ORDINALITY AS u(uscc, n)""",
        """INSERT INTO accounts_organisation (name, short_name, kind, uscc, address, contact_name, status, created_at,
                                              district_id)
           SELECT '基准家电销售有限公司' || n, '基准家电' || n, 'merchant', uscc, '北京市测试路' || n || '号', '王经理',
                  'active', %(now)s, district
             FROM bench_merchant ORDER BY n""",
        """INSERT INTO accounts_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                                      is_active, date_joined, display_name)
           SELECT '!', false, 'bench-merchant-' || n, '', '', '', false, true, %(now)s, '店长' || n
             FROM bench_merchant ORDER BY n""",
        """UPDATE bench_merchant m SET org_id = o.id, user_id = u.id
             FROM accounts_organisation o, accounts_user u
            WHERE o.uscc = m.uscc AND u.username = 'bench-merchant-' || m.n""",
        """INSERT INTO accounts_membership (role, created_at, district_id, user_id, organisation_id)
           SELECT role, %(now)s, NULL, user_id, org_id
             FROM bench_merchant, unnest(ARRAY['merchant_manager', 'merchant_clerk']) AS role""",
        """INSERT INTO subsidies_store (name, address, is_active, created_at, district_id, organisation_id)
           SELECT '基准门店' || n, '北京市测试路' || n || '号', true, %(now)s, district, org_id FROM bench_merchant""",
        """UPDATE bench_merchant m SET store_id = s.id FROM subsidies_store s WHERE s.organisation_id = m.org_id""",
        "ALTER TABLE bench_merchant ADD PRIMARY KEY (n)",
        """INSERT INTO subsidies_enrolment (status, categories, bank_name, account_name, bank_account_cipher,
                                            bank_account_digest, bank_account_masked, contact_name,
                                            contact_phone_cipher, contact_phone_masked, submitted_at, decided_at,
                                            decision_note, decided_by_id, organisation_id, programme_id,
                                            submitted_by_id)
           SELECT 'approved', to_jsonb(%(categories)s::text[]), '演示银行北京分行', '基准家电销售有限公司' || n,
                  %(bank_cipher)s, %(bank_digest)s, %(bank_masked)s, '王经理', %(phone_cipher)s, %(phone_masked)s,
                  %(now)s, %(now)s, '', %(reviewer)s, org_id, %(programme)s, user_id
             FROM bench_merchant""",
        """INSERT INTO subsidies_enrolment_stores (enrolment_id, store_id)
           SELECT e.id, m.store_id FROM subsidies_enrolment e JOIN bench_merchant m ON m.org_id = e.organisation_id""",
        # Residents: verified, one per six redemptions, round-robin over the districts.
        """INSERT INTO accounts_person (id, name, resident_id_cipher, resident_id_digest, resident_id_masked,
                                        phone_cipher, phone_digest, phone_masked, verified_at, verification_method,
                                        created_at, district_id, user_id)
           SELECT p, '李四', %(resident_cipher)s, md5('resident:' || p), %(resident_masked)s, %(phone_cipher)s,
                  md5('phone:' || p), '139****' || lpad((p %% 10000)::text, 4, '0'), %(now)s, 'bench', %(now)s,
                  (%(districts)s::text[])[1 + (p - 1) %% cardinality(%(districts)s::text[])], NULL
             FROM generate_series(1, %(persons)s) AS p""",
        # Qualifications: redeemed (returned after a full return), holding the cap, in the resident's district.
        f"""INSERT INTO subsidies_qualification (id, code, category, slot, held_fen, status, quota_released,
                                                 rule_version, issued_at, expires_at, closed_at, district_id,
                                                 person_id, pool_id, programme_id, round_id, round_slice_id)
           SELECT g, 'BQ' || lpad(g::text, 10, '0'), (%(categories)s::text[])[1 + (g - 1) %% 6], 0, {CAP_FEN},
                  CASE WHEN {kind.format(k=returned_k)} = 'full' THEN 'returned' ELSE 'redeemed' END, false,
                  %(rule_version)s, {sold_at} - interval '1 day', {sold_at} + interval '29 days', {sold_at},
                  (%(districts)s::text[])[1 + ((g - 1) / 6) %% cardinality(%(districts)s::text[])],
                  (g - 1) / 6 + 1, (%(pools)s::bigint[])[1 + ((g - 1) / 6) %% cardinality(%(pools)s::bigint[])],
                  %(programme)s, NULL, NULL
             FROM generate_series(1, %(redemptions)s) AS g""",
        f"""INSERT INTO subsidies_redemption (id, category, serial, price_fen, subsidy_fen, returned_fen, status,
                                              rule_version, decision, redeemed_at, withheld, clerk_id, merchant_id,
                                              product_id, programme_id, qualification_id, store_id)
           SELECT g, (%(categories)s::text[])[1 + (g - 1) %% 6], 'SN' || lpad(g::text, 12, '0'), {_price("g")},
                  {_subsidy(_price("g"))},
                  CASE WHEN {returned_k} IS NULL THEN 0 ELSE {_reversed("g", kind.format(k=returned_k))} END,
                  CASE WHEN {returned_k} IS NULL THEN 'completed'
                       WHEN {kind.format(k=returned_k)} = 'full' THEN 'returned' ELSE 'partial' END,
                  %(rule_version)s,
                  %(decision)s::jsonb || jsonb_build_object('amount_fen', {_subsidy(_price("g"))}), {sold_at}, false,
                  m.user_id, m.org_id, (%(products)s::bigint[])[1 + (g - 1) %% 6], %(programme)s, g, m.store_id
             FROM generate_series(1, %(redemptions)s) AS g JOIN bench_merchant m ON m.n = (g - 1) %% %(merchants)s""",
        # Returns and their clawbacks, later the same day.
        f"""INSERT INTO subsidies_return (id, kind, refund_fen, reversed_fen, reason, recorded_at, recorded_by_id,
                                          redemption_id)
           SELECT k, {kind.format(k="k")},
                  CASE WHEN k %% 2 = 0 THEN {_price("g")} ELSE {_price("g")} * 3 / 4 END,
                  {_reversed("g", kind.format(k="k"))}, '顾客退货', {clawed_at}, m.user_id, g
             FROM (SELECT k, (1 + (k - 1)::bigint * %(stride)s %% %(redemptions)s)::int AS g
                     FROM generate_series(1, %(clawbacks)s) AS k) AS returned
             JOIN bench_merchant m ON m.n = (g - 1) %% %(merchants)s""",
        f"""INSERT INTO subsidies_clawback (id, amount_fen, status, created_at, merchant_id, programme_id,
                                            return_record_id)
           SELECT k, {_reversed("g", kind.format(k="k"))}, 'open', {clawed_at}, m.org_id, %(programme)s, k
             FROM (SELECT k, (1 + (k - 1)::bigint * %(stride)s %% %(redemptions)s)::int AS g
                     FROM generate_series(1, %(clawbacks)s) AS k) AS returned
             JOIN bench_merchant m ON m.n = (g - 1) %% %(merchants)s""",
        # Budget slices: what the sales spent net of returns, with as much again still available.
        """UPDATE policy_budgetpool p SET spent_fen = s.fen, available_fen = s.fen, allocated_fen = 2 * s.fen
             FROM (SELECT q.pool_id, sum(r.subsidy_fen - r.returned_fen) AS fen
                     FROM subsidies_redemption r JOIN subsidies_qualification q ON q.id = r.qualification_id
                    GROUP BY q.pool_id) AS s
            WHERE s.pool_id = p.id""",
        """UPDATE policy_programme SET total_budget_fen = (SELECT sum(allocated_fen) FROM policy_budgetpool
                                                            WHERE programme_id = %(programme)s)
            WHERE id = %(programme)s""",
    ]
    steps: dict[str, float] = {}
    with connection.cursor() as cursor:
        for statement in statements:
            started = time.perf_counter()
            cursor.execute(statement, params)
            label = " ".join(statement.split()[:3])
            steps[label] = steps.get(label, 0.0) + time.perf_counter() - started
        for table in (
            "accounts_person",
            "subsidies_qualification",
            "subsidies_redemption",
            "subsidies_return",
            "subsidies_clawback",
        ):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        cursor.execute("DROP TABLE bench_merchant")
        cursor.execute("RESET session_replication_role")
        cursor.execute("RESET synchronous_commit")
        started = time.perf_counter()
        broken = check_foreign_keys(cursor)
        steps["foreign keys checked"] = time.perf_counter() - started
        if broken:
            raise SystemExit("generated rows break foreign keys: " + "; ".join(broken))
        started = time.perf_counter()
        cursor.execute("VACUUM (ANALYZE)")
        steps["VACUUM (ANALYZE)"] = time.perf_counter() - started

    programme.refresh_from_db()
    services.ensure_periods(programme=programme, until=day)
    period = SettlementPeriod.objects.get(programme=programme, starts_at=start)
    return Scene(
        programme_id=programme.pk,
        period_id=period.pk,
        starts_at=start,
        ends_at=end,
        finance_user_id=finance.pk,
        rows={
            "merchants": merchants,
            "stores": merchants,
            "enrolments": merchants,
            "residents": persons,
            "qualifications": redemptions,
            "redemptions": redemptions,
            "returns": clawbacks,
            "clawbacks": clawbacks,
        },
        steps=steps,
    )


# ---------------------------------------------------------------------------------------------------------
# The baseline, the timed service calls and the check
# ---------------------------------------------------------------------------------------------------------


def baseline(scene: Scene, database: str, repeat: int) -> tuple[float, Payables]:
    """The payables from one SQL query through psycopg: once to warm the cache, then the best of ``repeat``."""
    params = {"programme": scene.programme_id, "start": scene.starts_at, "end": scene.ends_at}
    best = float("inf")
    rows: list[tuple[Any, ...]] = []
    with psycopg.connect(dsn(database), autocommit=True) as connection:
        connection.execute(BASELINE_SQL, params).fetchall()
        for _ in range(repeat):
            started = time.perf_counter()
            rows = connection.execute(BASELINE_SQL, params).fetchall()
            best = min(best, time.perf_counter() - started)
    return best, {int(row[0]): (row[1], row[2], row[3], row[4], row[5]) for row in rows}


@dataclasses.dataclass(frozen=True)
class Timed:
    seconds: float
    statements: int
    database_seconds: float


def close_and_prepare(scene: Scene) -> tuple[Timed, Timed, Any]:
    """The timed part: close the period, then assemble the batch as the finance officer."""
    from huanxin.accounts.models import User
    from huanxin.policy.models import Programme
    from huanxin.settlement import services
    from huanxin.settlement.models import SettlementPeriod

    period = SettlementPeriod.objects.get(pk=scene.period_id)
    programme = Programme.objects.get(pk=scene.programme_id)
    finance = User.objects.get(pk=scene.finance_user_id)
    with clocked() as clock:
        started = time.perf_counter()
        if not services.close_period(period=period, actor="settlement-bench"):
            raise SystemExit("the period was closed already")
        close = Timed(time.perf_counter() - started, clock.statements, clock.seconds)
    with clocked() as clock:
        started = time.perf_counter()
        batch = services.prepare_batch(actor=finance, programme=programme)
        prepare = Timed(time.perf_counter() - started, clock.statements, clock.seconds)
    return close, prepare, batch


def mismatches(scene: Scene, expected: Payables, batch: Any) -> list[str]:
    """Differences between what the services wrote (payables, payment lines) and the baseline, per merchant."""
    from huanxin.settlement.models import Payable, PaymentLine

    written: Payables = {
        row[0]: row[1:]
        for row in Payable.objects.filter(period_id=scene.period_id).values_list(
            "recipient_id", "redemption_count", "redemptions_fen", "clawback_count", "clawbacks_fen", "amount_fen"
        )
    }
    lines: dict[int, list[int]] = {}
    for recipient, amount in PaymentLine.objects.filter(batch=batch).values_list("payable__recipient_id", "amount_fen"):
        lines.setdefault(recipient, []).append(amount)
    problems = []
    for merchant in sorted(set(expected) | set(written) | set(lines)):
        want, got = expected.get(merchant), written.get(merchant)
        if want != got:
            problems.append(f"merchant {merchant}: payable {got} (count, fen, clawbacks, fen, amount), SQL {want}")
            continue
        paid = [want[4]] if want and want[4] > 0 else []
        if lines.get(merchant, []) != paid:
            problems.append(f"merchant {merchant}: payment lines {lines.get(merchant, [])}, SQL payable {paid}")
    return problems


# ---------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Build the scene, time the SQL baseline and the services, check, print; the last line is JSON."""
    options = parse_options(argv)
    # Other work on the machine skews both sides; read before this run adds its own load (the scene's
    # generation keeps the cores busy for a minute at full size and would dominate the figure).
    load_before = load_average()
    print(
        f"settlement bench: {options.redemptions:,} redemptions, {options.merchants:,} merchants, "
        f"{options.clawbacks:,} clawbacks, database {options.database}, "
        f"load average {load_before:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    setup_started = time.perf_counter()
    with bench_database(options.database, keep=options.keep, prefix="huanxin-bench-settlement-"):
        migrate()
        migrated = time.perf_counter()
        scene = build_scene(options)
        generated = time.perf_counter()
        sql_seconds, expected = baseline(scene, options.database, options.repeat)
        close, prepare, batch = close_and_prepare(scene)
        problems = mismatches(scene, expected, batch)

    seconds = close.seconds + prepare.seconds
    ratio = seconds / sql_seconds
    payable_fen = sum(row[4] for row in expected.values())
    print()
    print("rows generated: " + ", ".join(f"{count:,} {name}" for name, count in scene.rows.items()))
    print(
        f"setup: {generated - setup_started:.1f} s (database and migrate {migrated - setup_started:.1f} s, "
        f"scene in SQL and VACUUM ANALYZE {generated - migrated:.1f} s)"
    )
    slowest = sorted(scene.steps.items(), key=lambda item: -item[1])[:6]
    print("  slowest steps: " + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in slowest))
    print(f"load average (1 min) before the run: {load_before:.2f}")
    print(f"SQL baseline (one query, best of {options.repeat}): {sql_seconds:.3f} s, {len(expected):,} merchants")
    for label, timed in (("close_period", close), ("prepare_batch", prepare)):
        print(
            f"{label:<14} {timed.seconds:7.3f} s  {timed.statements:>4} statements, "
            f"{timed.database_seconds:.3f} s waiting for PostgreSQL, "
            f"{timed.seconds - timed.database_seconds:.3f} s in Python"
        )
    print(f"total          {seconds:7.3f} s  = {ratio:.2f} × the SQL baseline (target ≤ 3)")
    print(
        f"batch {batch.number}: {batch.line_count:,} lines, {batch.total_fen:,} fen "
        f"(payables due by the baseline: {payable_fen:,} fen)"
    )
    print(f"mismatches against the baseline: {len(problems)}")
    for problem in problems[:20]:
        print(f"  {problem}")
    result = {
        "bench": "settlement",
        "seconds": round(seconds, 3),
        "ratio_vs_sql": round(ratio, 2),
        "close_s": round(close.seconds, 3),
        "batch_s": round(prepare.seconds, 3),
        "sql_s": round(sql_seconds, 3),
        "mismatches": len(problems),
        "lines": batch.line_count,
        "total_fen": batch.total_fen,
        "redemptions": options.redemptions,
        "merchants": options.merchants,
        "clawbacks": options.clawbacks,
        "load_average_before": round(load_before, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
