"""A burst of subsidy claims over HTTP against a budget smaller than demand, checked in the database,
and compared with the same SQL statements executed directly through psycopg.

Run: .venv/bin/python bench/claims.py [--residents 3000] [--clients 32] [--pool-claims N] [--workers 2]
                                      [--threads 1] [--slices 4] [--database huanxin_bench] [--keep]
                                      [--floor-clients 16] [--floor-seconds 5]

What happens, in order:

1. A fresh PostgreSQL database (dropped at the end unless --keep), migrated in this process
   (``call_command("migrate")``, then collectstatic for the error pages), the catalogue,
   cn-appliance-2026 opened with a budget of exactly --pool-claims fridge holds (150,000 fen each)
   spread over the districts the residents live in (set_budget, --slices slices per district, so a
   district's slices need not hold whole claims), and --residents verified residents, each signed in
   with a session made for the configured session engine (rows written in bulk for the database
   engines, plus the cache entries cached_db writes when a resident signs in) and a CSRF token.
2. Capture (in this process, against the bench database): real calls of
   ``services.claim_qualification`` on separate residents, recording every statement with its
   parameters, row count, the values it returned, and the BEGIN/COMMIT/ROLLBACK around it. One call per
   path a claim can take: fast (a hold on the claimant's own slice), slow (own slice empty, another
   slice serves it), merge (no slice has enough on its own: money moves between slices first) and
   refused (the district's budget is gone). The service's short-lived caches (rule set, slice ids) are
   warm, as they are in a running server. One claim also goes through Django's test client with the
   full middleware stack to list the statements an HTTP claim issues (printed).
3. HTTP: gunicorn serves ``huanxin.wsgi:application`` on 127.0.0.1 with the settings a city
   installation uses (DATABASE_URL, persistent connections). After a warm-up on other
   residents and a reset of the budget, --clients threads POST /api/v1/subsidies/qualifications once
   per resident (session cookie, CSRF cookie and header, a unique Idempotency-Key) over a raw HTTP/1.1
   client that keeps its connection while the server does (gthread workers; sync workers close after
   every response, so the client reconnects). Then the invariants are checked in the database.
4. Direct SQL: the budget is reset to the same state, the HTTP claims are deleted, and the same number
   of threads, each with its own psycopg connection, replay the captured statements per resident: the
   same statement texts in the same order with the same transaction boundaries (reads in autocommit
   as Django runs them outside ``atomic``, then BEGIN … COMMIT, or ROLLBACK when the guarded update
   moves nothing), with the resident's user, person, district, slice, a new qualification code, the
   ids the inserts return and the current time substituted. The path is chosen the way the service
   chooses it: by the row count of the guarded update, then from the data the shared statements of
   the slow paths read (the slices' available money under the row locks). The same invariants are
   checked again. The captures are cut where they part, not at fixed statements, so the replay
   follows the service when its statements change.

What each side pays for.
  HTTP side: TCP and HTTP parsing in gunicorn, Django's middleware (request id, security, WhiteNoise,
  session, locale, common, CSRF, auth, messages, clickjacking, htmx), the session read from the cache
  and the user lookup behind SessionAuth, the Idempotency-Key record (on the claim route its
  INSERT … ON CONFLICT DO NOTHING rides in the claim's read and the response's UPDATE in the claim's
  write), pydantic parsing and rendering of JSON, the statements (built once per process by core.rows
  or written out; server-side binding, prepared after five uses per connection, as settings.py
  configures PostgreSQL), the rule engine evaluation, logging of 4xx responses, and the service's
  statements themselves.
  Direct-SQL side: only the service's statements (see 2.), sent with psycopg's defaults (server-side
  binding, statements prepared after five uses per connection), plus the Python that builds the
  parameters and picks the slice. It skips the idempotency record, the session and user lookups
  and everything above the database. Both sides commit synchronously (synchronous_commit is
  the server's, on) and run their clients as threads of this one process, on the same two cores as
  the server and the database.

5. The floor: the two statements a claim cannot avoid, the guarded update of one budget slice and the
   insert of the qualification, in one transaction, on scratch copies of ``policy_budgetpool`` and
   ``subsidies_qualification`` in the bench database (``CREATE TABLE … (LIKE … INCLUDING ALL)``: the same
   columns, defaults, check constraints and indexes, no foreign keys), driven by pgbench (--floor-clients
   16, prepared protocol ``-M prepared``) for --floor-seconds 5 after a second of warm-up. Its PostgreSQL
   CPU is read while every pgbench backend is still alive; the copies are dropped afterwards.

Figures. claims_per_s counts all requests (successes, refusals, errors) over the wall-clock time of the
burst; p50/p99 are over successful claims; ratio_vs_sql = HTTP claims/s / direct-SQL claims/s. Both
sides saturate the cores, so the bench also reads the CPU time each burst costs (Linux /proc: these
client threads, the gunicorn workers, the bench database's backends, and the whole machine, other work
included): cpu_ratio_vs_sql compares our own processes' CPU per claim, and moves far less than
claims_per_s when other jobs share the machine. PostgreSQL CPU (pg_cpu_ms_per_claim, per HTTP request,
refusals included, and floor_pg_cpu_ms_per_claim, per floor claim) sums utime + stime from /proc/<pid>/stat
of the bench database's backends, sampled by pid while they live; pg_cpu_ratio_vs_floor is the first
divided by the second. The server's own processes (postmaster, WAL writer, checkpointer, background writer,
launchers) are shown apart as postgres_server and left out of the ratio: they work for every database on
the machine, and other work's share cannot be told apart. A sampler reads pg_stat_activity every 50 ms to show how
many backends wait for a lock, and in which statement (a hot row shows up there). The last line
printed is one JSON object. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import decimal
import importlib
import json
import os
import random
import secrets
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import psycopg
from _common import (
    ADMIN_DSN,
    add_database_arguments,
    bench_database,
    dsn,
    gunicorn,
    load_average,
    percentile_ms,
    timed,
)
from psycopg.types.json import Jsonb

PROGRAMME = "cn-appliance-2026"
CATEGORY = "fridge"
CLAIM_PATH = "/api/v1/subsidies/qualifications"
CLAIM_BODY = json.dumps({"programme": PROGRAMME, "category": CATEGORY}).encode()
# Ids far from anything the sequences hand out, so that a captured value identifies what it stands for
# and can be substituted by value (a user id is never mistaken for a slice id).
CAPTURE_USER_BASE = 900_000_000
CAPTURE_PERSON_BASE = 910_000_000
ID_STARTS = {
    "policy_budgetpool": 800_000_000,
    "subsidies_qualification": 700_000_000,
    "core_auditentry": 600_000_000,
    "subsidies_claimrefusal": 500_000_000,
    "core_idempotencyrecord": 400_000_000,
}


# ---------------------------------------------------------------------------------------------------------
# Options and the world the bench builds
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Options:
    residents: int
    clients: int
    pool_claims: int
    workers: int
    threads: int
    slices: int
    database: str
    keep: bool
    warmup: int
    seed: int
    floor_clients: int
    floor_seconds: float


def parse_options(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=3000, help="residents, each claims once (3000)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients on each side (32)")
    parser.add_argument("--pool-claims", type=int, default=None, help="holds the budget has (60%% of residents)")
    # 2 sync workers: the database shares the 2 cores, and more processes only add context switches
    # (measured 3 and 5 workers, and gthread workers: see docs/PERFORMANCE.md).
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (2)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker; >1 uses gthread (1: sync)")
    parser.add_argument("--slices", type=int, default=4, help="budget slices per district (programme default 4)")
    add_database_arguments(parser, "huanxin_bench")
    parser.add_argument("--warmup", type=int, default=None, help="warm-up claims before the burst")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--floor-clients", type=int, default=16, help="pgbench clients for the floor (16)")
    parser.add_argument("--floor-seconds", type=float, default=5.0, help="seconds the floor is measured (5)")
    args = parser.parse_args(argv)
    pool_claims = args.pool_claims if args.pool_claims is not None else args.residents * 3 // 5
    if args.residents < 1 or args.clients < 1 or args.workers < 1 or args.threads < 1 or args.slices < 1:
        parser.error("--residents, --clients, --workers, --threads and --slices must be positive")
    if pool_claims < 1:
        parser.error("--pool-claims must be positive")
    warmup = args.warmup if args.warmup is not None else 4 * args.workers * args.threads
    return Options(
        residents=args.residents,
        clients=args.clients,
        pool_claims=pool_claims,
        workers=args.workers,
        threads=args.threads,
        slices=args.slices,
        database=args.database,
        keep=args.keep,
        warmup=warmup,
        seed=args.seed,
        floor_clients=args.floor_clients,
        floor_seconds=args.floor_seconds,
    )


@dataclasses.dataclass(frozen=True)
class Resident:
    user_id: int
    person_id: int
    username: str
    district: str
    pool_ids: tuple[int, ...]  # the district's slices, in slice order
    session_key: str
    csrf_cookie: str
    csrf_token: str
    cookie: str  # the Cookie header: session and CSRF cookies under the configured names

    @property
    def start(self) -> int:
        """The claimant's own slice, as the service picks it."""
        return self.person_id % len(self.pool_ids)


@dataclasses.dataclass
class World:
    programme_id: int
    amount: int  # the hold of one fridge claim, fen
    initial_pools: dict[int, int]  # pool id -> allocated fen after set_budget
    pools_by_district: dict[str, tuple[int, ...]]
    residents: list[Resident]  # the burst
    warmup: list[Resident]
    spare: list[Resident]  # in-process HTTP statement listing
    capture_users: list[Any]  # User objects for the service captures (distinctive ids)


# ---------------------------------------------------------------------------------------------------------
# Migrations, residents, sessions and the budget
# ---------------------------------------------------------------------------------------------------------


@timed("migrate and collectstatic")
def migrate() -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # error pages need the static manifest
    with connection.cursor() as cursor:
        for table, start in ID_STARTS.items():
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, false)", [table, start])


def _resident_id(index: int) -> str:
    """A valid 18-character resident ID, different for every index."""
    from stdnum.cn import ric

    birth = datetime.date(1950, 1, 1) + datetime.timedelta(days=index // 1000)
    body = f"110105{birth:%Y%m%d}{index % 1000:03d}"
    return body + ric.calc_check_digit(body)


@timed("residents, sessions and budget")
def build_world(options: Options) -> World:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.models import Session
    from django.http import HttpRequest
    from django.middleware.csrf import get_token
    from django.utils import timezone

    from huanxin.accounts.models import District, Membership, Person, Role, User
    from huanxin.policy import services as policy_services
    from huanxin.policy.models import BudgetPool, Programme
    from huanxin.subsidies import services

    policy_services.load_catalogue()
    services.clear_caches()
    admin = User.objects.create(username="bench-admin", display_name="bench")
    Membership.objects.create(user=admin, role=Role.ADMINISTRATOR)
    programme = Programme.objects.get(code=PROGRAMME)
    Programme.objects.filter(pk=programme.pk).update(
        status=Programme.Status.OPEN,
        starts_on=datetime.date(2026, 1, 1),
        ends_on=None,
        slices_per_district=options.slices,
    )
    programme.refresh_from_db()
    amount = policy_services.rule_set_for(PROGRAMME).max_amount_fen(CATEGORY)

    # Every district with at least one hold; residents round-robin over them.
    codes = list(District.objects.order_by("sort_order", "code").values_list("code", flat=True))
    districts = codes[: max(1, min(len(codes), options.pool_claims, options.residents))]
    counts = Counter(districts[i % len(districts)] for i in range(options.residents))
    # Holds per district in proportion to its residents (largest remainder): never more than a district
    # has residents while the budget is smaller than demand, and at least one, so every district has slices.
    exact = {d: options.pool_claims * counts[d] / options.residents for d in districts}
    holds = {d: int(exact[d]) for d in districts}
    by_remainder = sorted(districts, key=lambda d: exact[d] - int(exact[d]), reverse=True)
    for district in by_remainder[: options.pool_claims - sum(holds.values())]:
        holds[district] += 1
    for district in districts:
        if not holds[district]:
            richest = max(districts, key=lambda d: holds[d])
            holds[richest] -= 1
            holds[district] += 1
    allocations = {d: holds[d] * amount for d in districts}
    policy_services.set_budget(
        actor=admin, programme=programme, total_fen=sum(allocations.values()), allocations=allocations
    )
    pools = list(BudgetPool.objects.filter(programme=programme).order_by("district_id", "slice"))
    pools_by_district: dict[str, tuple[int, ...]] = {}
    for pool in pools:
        pools_by_district[pool.district_id] = (*pools_by_district.get(pool.district_id, ()), pool.pk)
    if any(len(ids) != options.slices for ids in pools_by_district.values()):
        raise SystemExit("every district should have exactly --slices slices")

    extra = options.warmup + 2  # warm-up residents, and two in one district for the in-process listing
    total = options.residents + extra
    now = timezone.now()
    users = User.objects.bulk_create(
        User(username=f"bench{i:07d}", password="!bench-no-password", date_joined=now) for i in range(total)
    )
    Membership.objects.bulk_create(Membership(user=u, role=Role.CONSUMER) for u in users)
    persons = []
    for index, user in enumerate(users):
        district = districts[index % len(districts)] if index < total - 2 else districts[0]
        person = Person(user=user, name="李四", district_id=district, verified_at=now, verification_method="bench")
        person.set_phone(f"139{index:08d}")
        person.set_resident_id(_resident_id(index))
        persons.append(person)
    Person.objects.bulk_create(persons, batch_size=2000)

    # A signed-in session per resident, made the way the configured session engine stores them: rows
    # written in bulk for the database engines (and the cache entries cached_db writes at sign-in), the
    # engine's own save() otherwise (cache, signed cookie).
    engine = importlib.import_module(settings.SESSION_ENGINE)
    in_table = settings.SESSION_ENGINE in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    )
    expire = now + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    sessions = []
    people = []
    for user, person in zip(users, persons, strict=True):
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        store = engine.SessionStore()
        if in_table:
            key = secrets.token_hex(16)
            sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        else:
            store.update(data)
            store.save(must_create=True)
            key = store.session_key or ""
        request = HttpRequest()
        token = get_token(request)
        csrf_cookie = request.META["CSRF_COOKIE"]
        people.append(
            Resident(
                user_id=user.pk,
                person_id=person.pk,
                username=user.username,
                district=person.district_id or "",
                pool_ids=pools_by_district[person.district_id or ""],
                session_key=key,
                csrf_cookie=csrf_cookie,
                csrf_token=token,
                cookie=f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={csrf_cookie}",
            )
        )
    Session.objects.bulk_create(sessions, batch_size=2000)
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db":
        # Signing in with cached_db writes the session to the cache as well as the table; so does this.
        from django.core.cache import caches

        caches[settings.SESSION_CACHE_ALIAS].set_many(
            {engine.KEY_PREFIX + row.session_key: engine.SessionStore().decode(row.session_data) for row in sessions},
            timeout=settings.SESSION_COOKIE_AGE,
        )

    # Residents whose service calls are captured: their own distinctive ids, all in the first district.
    capture_users = []
    for index in range(5):  # warm-up, fast, slow, merge, refused
        user = User.objects.create(pk=CAPTURE_USER_BASE + index, username=f"capture{index}")
        Membership.objects.create(user=user, role=Role.CONSUMER)
        person = Person(
            pk=CAPTURE_PERSON_BASE + index, user=user, name="王五", district_id=districts[0], verified_at=now
        )
        person.set_phone(f"138{index:08d}")
        person.set_resident_id(_resident_id(total + index))
        person.save()
        capture_users.append(user)

    burst = people[: options.residents]
    random.Random(options.seed).shuffle(burst)
    return World(
        programme_id=programme.pk,
        amount=amount,
        initial_pools={p.pk: p.allocated_fen for p in pools},
        pools_by_district=pools_by_district,
        residents=burst,
        warmup=people[options.residents : options.residents + options.warmup],
        spare=people[options.residents + options.warmup :],
        capture_users=capture_users,
    )


def reset_budget(world: World) -> None:
    """Every slice back to its allocation with nothing held; no qualifications or refusals left."""
    from django.db import connection

    from huanxin.policy.models import BudgetPool
    from huanxin.subsidies.models import ClaimRefusal, Qualification

    Qualification.objects.filter(programme_id=world.programme_id).delete()
    ClaimRefusal.objects.filter(programme_id=world.programme_id).delete()
    for pk, allocated in world.initial_pools.items():
        BudgetPool.objects.filter(pk=pk).update(
            allocated_fen=allocated, held_fen=0, spent_fen=0, available_fen=allocated
        )
    with connection.cursor() as cursor:
        for table in ("policy_budgetpool", "subsidies_qualification", "subsidies_claimrefusal", "core_auditentry"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def set_district_available(world: World, district: str, available: Sequence[int]) -> None:
    """Put a district's slices in a given state (allocation follows, so each slice stays balanced)."""
    from django.db.models import F

    from huanxin.policy.models import BudgetPool

    for pk, free in zip(world.pools_by_district[district], available, strict=True):
        BudgetPool.objects.filter(pk=pk).update(available_fen=free, allocated_fen=F("held_fen") + F("spent_fen") + free)


# ---------------------------------------------------------------------------------------------------------
# Capturing what the claim service sends to the database
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Statement:
    sql: str
    params: tuple[Any, ...]
    rowcount: int
    returned: tuple[Any, ...] | None  # first row of a RETURNING statement
    # Positions of the parameters a replay may have to change (ids live above 10^8, see ID_STARTS; text,
    # times and JSON); the others are sent as captured without looking at them.
    variable: tuple[int, ...] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        variable = tuple(
            i
            for i, value in enumerate(self.params)
            if not isinstance(value, bool)
            and (isinstance(value, str | datetime.datetime | Jsonb | dict | list | tuple) or _is_id(value))
        )
        object.__setattr__(self, "variable", variable)


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and value >= 100_000_000


Event = str | Statement  # "BEGIN", "COMMIT", "ROLLBACK" or a statement


@dataclasses.dataclass(frozen=True)
class Capture:
    path: str
    events: list[Event]
    user_id: int
    person_id: int
    username: str
    district: str
    pool_ids: tuple[int, ...]
    code: str | None  # the qualification code the service generated
    at: datetime.datetime  # when the call started (datetimes are shifted by replay time - this)

    def transactions(self) -> list[tuple[str, list[Statement]]]:
        """The events as ("auto", [statement]) and ("txn", [statements…]) blocks with their ending."""
        blocks: list[tuple[str, list[Statement]]] = []
        current: list[Statement] | None = None
        for event in self.events:
            if event == "BEGIN":
                current = []
            elif event in ("COMMIT", "ROLLBACK"):
                assert current is not None
                blocks.append((str(event), current))
                current = None
            elif isinstance(event, Statement):
                if current is None:
                    blocks.append(("auto", [event]))
                else:
                    current.append(event)
        return blocks


def capture_claim(path: str, user: Any, world: World) -> Capture:
    """Call the claim service once and record everything it sends, in order, with the framing."""
    from django.db import connections
    from django.utils import timezone

    from huanxin.accounts.models import Person
    from huanxin.subsidies import services

    wrapper = connections["default"]
    wrapper.ensure_connection()
    raw = wrapper.connection  # the psycopg connection: Django commits and rolls back through it
    events: list[Event] = []

    def idle() -> bool:
        return bool(raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        if not wrapper.get_autocommit() and idle():
            events.append("BEGIN")  # psycopg sends it before the first statement of the transaction
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        returned = None
        if " RETURNING " in sql and cursor.description:
            rows = cursor.fetchall()  # peek at the returned ids, then rewind for Django
            if rows:
                cursor.scroll(0, mode="absolute")
            returned = tuple(rows[0]) if rows else None
        events.append(Statement(sql, tuple(params or ()), cursor.rowcount, returned))
        return result

    real_commit, real_rollback = raw.commit, raw.rollback

    def commit() -> Any:
        if not idle():
            events.append("COMMIT")
        return real_commit()

    def rollback() -> Any:
        if not idle():
            events.append("ROLLBACK")
        return real_rollback()

    person = Person.objects.get(user=user)
    started = timezone.now()
    code = None
    with (
        mock.patch.object(raw, "commit", side_effect=commit),
        mock.patch.object(raw, "rollback", side_effect=rollback),
        wrapper.execute_wrapper(record),
    ):
        try:
            code = services.claim_qualification(actor=user, programme_code=PROGRAMME, category=CATEGORY).code
        except services.ClaimRefused as refused:
            if path != "refused" or refused.code != "budget_exhausted":
                raise
    if path != "refused" and code is None:
        raise SystemExit(f"capture {path}: the claim should have succeeded")
    return Capture(
        path=path,
        events=events,
        user_id=user.pk,
        person_id=person.pk,
        username=user.username,
        district=person.district_id or "",
        pool_ids=world.pools_by_district[person.district_id or ""],
        code=code,
        at=started,
    )


@timed("capture")
def capture_paths(world: World) -> dict[str, Capture]:
    """One real service call per path a claim can take, each on a budget set up for it, caches warm."""
    from huanxin.accounts.models import Person
    from huanxin.subsidies import services

    warm, fast, slow, merge, refused = world.capture_users[:5]
    district = Person.objects.get(user=warm).district_id or ""
    slices = len(world.pools_by_district[district])
    amount = world.amount
    set_district_available(world, district, [2 * amount] * slices)
    services.clear_caches()
    services.claim_qualification(actor=warm, programme_code=PROGRAMME, category=CATEGORY)  # fills the caches
    captures = {"fast": capture_claim("fast", fast, world)}
    if slices > 1:
        own = Person.objects.get(user=slow).pk % slices
        set_district_available(world, district, [0 if i == own else amount for i in range(slices)])
        captures["slow"] = capture_claim("slow", slow, world)
        # No slice can hold a claim on its own, but the district can: money moves first.
        set_district_available(world, district, [(amount + 1) // 2] * slices)
        captures["merge"] = capture_claim("merge", merge, world)
    set_district_available(world, district, [0] * slices)
    captures["refused"] = capture_claim("refused", refused, world)
    reset_budget(world)
    return captures


def http_statements(residents: Sequence[Resident]) -> list[str]:
    """The statements one claim issues through the whole Django stack (test client, in this process),
    listed on the second of two residents of one district so that the service's caches are warm."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    listed: list[str] = []
    for resident in residents:
        client = Client(enforce_csrf_checks=True)
        client.cookies[settings.SESSION_COOKIE_NAME] = resident.session_key
        client.cookies[settings.CSRF_COOKIE_NAME] = resident.csrf_cookie
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                CLAIM_PATH,
                CLAIM_BODY,
                content_type="application/json",
                headers={"X-CSRFToken": resident.csrf_token, "Idempotency-Key": uuid.uuid4().hex},
            )
        if response.status_code != 201:
            raise SystemExit(f"in-process claim failed: {response.status_code} {response.content[:300]!r}")
        listed = [q["sql"] for q in queries.captured_queries]
    return listed


# ---------------------------------------------------------------------------------------------------------
# Replaying the captured statements through psycopg
# ---------------------------------------------------------------------------------------------------------


class Substitution:
    """Captured values mapped to this replay's values: ints and strings by value, datetimes shifted."""

    def __init__(self, shift: datetime.timedelta) -> None:
        self.shift = shift
        self.ints: dict[int, int] = {}
        self.strs: dict[str, str] = {}

    def put(self, captured: Any, replayed: Any) -> None:
        if isinstance(captured, str):
            self.strs[captured] = str(replayed)
        else:
            self.ints[int(captured)] = int(replayed)
            self.strs[str(captured)] = str(replayed)  # ids travel as text too (audit object_id)

    def params(self, statement: Statement) -> list[Any]:
        """The statement's parameters for this replay."""
        params = list(statement.params)
        for index in statement.variable:
            params[index] = self(params[index])
        return params

    def __call__(self, value: Any) -> Any:
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            new = self.ints.get(value)
            return value if new is None else type(value)(new)
        if isinstance(value, str):
            return self.strs.get(value, value)
        if isinstance(value, datetime.datetime):
            return value + self.shift
        if isinstance(value, Jsonb):
            return Jsonb(self(value.obj), dumps=value.dumps)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self(v) for v in value)
        return value


@dataclasses.dataclass(frozen=True)
class ReplayPlan:
    """The captured statements cut at the points where the service decides which path a claim takes.

    After the fast attempt rolls back, the slow, merge and refused captures run alike for a while (today:
    BEGIN, the programme lock, the slice lock) and then part; the replay runs the shared events once and
    picks the branch the way the service does, from the data those statements returned.
    """

    reads: list[Statement]  # autocommit reads before the first write
    fast: list[Statement]  # the first transaction (commits on the fast path), or the one statement that holds
    hold_sql: str  # the guarded update whose row count decides fast or not (on the slow path: its hold)
    fast_after: list[Statement]  # autocommit statements after a fast success (none today)
    after_failure: dict[str, list[Event]]  # per path (slow, merge, refused): the events after the failed attempt
    captures: dict[str, Capture]
    # The fast attempt is one autocommit statement (PostgreSQL's one-statement claim) rather than a transaction.
    fast_in_one_statement: bool = False
    # The refusal written when the district's free money, read with the reads (their last value), is short:
    # the service then refuses without trying a slice. Empty when it refuses only after trying.
    early_refusal: list[Event] = dataclasses.field(default_factory=list)

    def count(self, path: str) -> int:
        return sum(isinstance(e, Statement) for e in self.captures[path].events)


def plan_replay(captures: dict[str, Capture]) -> ReplayPlan:
    """Cut the captures into the pieces the replay strings together, checking they agree with each other."""
    fast_blocks = captures["fast"].transactions()
    reads = [s for kind, block in _leading_reads(fast_blocks) for s in block]
    rest = fast_blocks[len(reads) :]
    one_statement = bool(rest) and rest[0][0] == "auto" and rest[0][1][0].sql.startswith(ONE_STATEMENT_HOLD)
    if not rest or (rest[0][0] != "COMMIT" and not one_statement):
        raise SystemExit("capture fast: expected reads, then one committed transaction or the one-statement claim")
    fast = rest[0][1]
    fast_after = [s for kind, block in rest[1:] for s in block if kind == "auto"]
    after_failure: dict[str, list[Event]] = {}
    early_refusal: list[Event] = []
    hold_sql = ""
    for path in ("refused", "slow", "merge"):
        if path not in captures:
            continue
        blocks = captures[path].transactions()
        _same_sql(reads, [s for _, b in _leading_reads(blocks) for s in b], f"{path} reads")
        attempt = blocks[len(reads)] if len(blocks) > len(reads) else ("", [])
        events = captures[path].events
        if one_statement:
            if attempt[0] == "auto" and attempt[1][0].sql == fast[0].sql and attempt[1][0].rowcount == 0:
                after_failure[path] = events[events.index(attempt[1][0]) + 1 :]
            elif path == "refused":
                early_refusal = events[len(reads) :]
            else:
                raise SystemExit(f"capture {path}: expected the one-statement claim to hold nothing first")
            continue
        if (
            attempt[0] != "ROLLBACK"
            or attempt[1][-1].rowcount != 0
            or [s.sql for s in attempt[1]] != [s.sql for s in fast[: len(attempt[1])]]
        ):
            raise SystemExit(f"capture {path}: expected the fast transaction to roll back after its guarded update")
        hold_sql = attempt[1][-1].sql
        after_failure[path] = events[events.index("ROLLBACK") + 1 :]
    if one_statement:
        # The slow path's hold is the guarded update the one statement starts with, on its own.
        hold_sql = next(
            (e.sql for e in after_failure.get("slow", []) if isinstance(e, Statement) and e.sql.startswith(HOLD)),
            "",
        )
    for path in ("slow", "merge"):
        if path in after_failure and not any(
            isinstance(e, Statement) and e.sql == hold_sql for e in after_failure[path]
        ):
            raise SystemExit(f"capture {path}: the slow path should end with the guarded update")
    if "merge" in after_failure:
        shared = _shared_prefix([after_failure["slow"], after_failure["merge"]])
        tail = after_failure["merge"][shared:]
        moves = [e for e in tail[: _hold_index(tail, hold_sql)] if isinstance(e, Statement)]
        if len(moves) != 2:
            raise SystemExit(f"capture merge: expected one donor and one target update, got {len(moves)} statements")
    return ReplayPlan(reads, fast, hold_sql, fast_after, after_failure, captures, one_statement, early_refusal)


ONE_STATEMENT_HOLD = "WITH held AS (UPDATE policy_budgetpool"
HOLD = "UPDATE policy_budgetpool SET available_fen = available_fen - %s, held_fen = held_fen + %s"


def _leading_reads(blocks: list[tuple[str, list[Statement]]]) -> list[tuple[str, list[Statement]]]:
    """The autocommit reads a claim starts with (a write in autocommit, such as the one-statement claim or
    a refusal, ends them)."""
    reads = []
    for block in _leading_auto(blocks):
        if not block[1][0].sql.lstrip().upper().startswith("SELECT"):
            break
        reads.append(block)
    return reads


def _same_event(first: Event, second: Event) -> bool:
    if isinstance(first, Statement) and isinstance(second, Statement):
        return first.sql == second.sql
    return first == second


def _shared_prefix(tails: Sequence[Sequence[Event]]) -> int:
    """How many leading events all the tails have in common."""
    length = 0
    for events in zip(*tails, strict=False):
        if not all(_same_event(events[0], e) for e in events[1:]):
            break
        length += 1
    return length


def _hold_index(events: Sequence[Event], hold_sql: str) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, Statement) and e.sql == hold_sql)


def _leading_auto(blocks: list[tuple[str, list[Statement]]]) -> list[tuple[str, list[Statement]]]:
    leading = []
    for block in blocks:
        if block[0] != "auto":
            break
        leading.append(block)
    return leading


def _same_sql(first: Sequence[Statement], second: Sequence[Statement], what: str) -> None:
    if [s.sql for s in first] != [s.sql for s in second]:
        raise SystemExit(f"captures disagree ({what}): the service took an unexpected path")


class Replayer:
    """One client thread's replay of claims on its own psycopg connection."""

    def __init__(self, plan: ReplayPlan, dsn: str, amount: int) -> None:
        self.plan = plan
        self.amount = amount
        self.connection = psycopg.connect(dsn, autocommit=True)

    def close(self) -> None:
        self.connection.close()

    def _base(self, capture: Capture, resident: Resident) -> Substitution:
        from django.utils import timezone

        from huanxin.subsidies.domain import codes

        values = Substitution(timezone.now() - capture.at)
        values.put(capture.user_id, resident.user_id)
        values.put(capture.person_id, resident.person_id)
        values.put(capture.username, resident.username)
        values.put(capture.district, resident.district)
        if capture.code is not None:
            values.put(capture.code, codes.new_code())
        return values

    def _run(self, cursor: psycopg.Cursor[Any], statements: Sequence[Statement], values: Substitution) -> None:
        for statement in statements:
            cursor.execute(statement.sql, values.params(statement))
            if statement.returned is not None:
                self._run_returned(cursor, statement, values)

    def claim(self, resident: Resident) -> str:
        """Replay one claim: "ok" or "refused"."""
        plan = self.plan
        fast = plan.captures["fast"]
        cursor = self.connection.cursor()
        values = self._base(fast, resident)
        values.put(fast.pool_ids[fast.person_id % len(fast.pool_ids)], resident.pool_ids[resident.start])
        self._run(cursor, plan.reads, values)
        if plan.early_refusal:
            row = cursor.fetchone()  # the last read ends with the district's free money
            if row is not None and row[-1] is not None and int(row[-1]) < self.amount:
                return self._refuse(cursor, resident)
        if plan.fast_in_one_statement:
            (statement,) = plan.fast
            cursor.execute(statement.sql, values.params(statement))
            if cursor.rowcount == 0:
                return self._slow(cursor, resident)
            self._run(cursor, plan.fast_after, values)
            return "ok"
        cursor.execute("BEGIN")
        for statement in plan.fast:
            cursor.execute(statement.sql, values.params(statement))
            if statement.sql == plan.hold_sql and cursor.rowcount == 0:
                cursor.execute("ROLLBACK")
                return self._slow(cursor, resident)
            if statement.returned is not None:
                self._run_returned(cursor, statement, values)
        cursor.execute("COMMIT")
        self._run(cursor, plan.fast_after, values)
        return "ok"

    def _refuse(self, cursor: psycopg.Cursor[Any], resident: Resident) -> str:
        """The refusal the service writes when the district's money is short (no slice tried, or none held)."""
        values = self._base(self.plan.captures["refused"], resident)
        for event in self.plan.early_refusal:
            self._execute(cursor, event, values)
        return "refused"

    def _run_returned(self, cursor: psycopg.Cursor[Any], statement: Statement, values: Substitution) -> None:
        row = cursor.fetchone()
        if row is not None and statement.returned is not None:
            for captured, replayed in zip(statement.returned, row, strict=False):
                if isinstance(captured, int) and not isinstance(captured, bool):
                    values.put(captured, replayed)

    def _execute(self, cursor: psycopg.Cursor[Any], event: Event, values: Substitution) -> list[dict[str, Any]]:
        """Run one captured event; the rows it returned when it is a query."""
        if not isinstance(event, Statement):
            cursor.execute(event)  # BEGIN, COMMIT or ROLLBACK
            return []
        cursor.execute(event.sql, values.params(event))
        if event.returned is not None:
            self._run_returned(cursor, event, values)
            return []
        if cursor.description is None:
            return []
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def _slow(self, cursor: psycopg.Cursor[Any], resident: Resident) -> str:
        """After the fast attempt rolled back: the events the remaining paths share, then the one that applies."""
        plan = self.plan
        candidates = list(plan.after_failure)
        first = plan.captures[candidates[0]]
        shared = self._base(first, resident)
        for captured, replayed in zip(first.pool_ids, resident.pool_ids, strict=True):
            shared.put(captured, replayed)  # slice lists are locked and read in slice order
        available: dict[int, int] | None = None  # per slice, once a statement has read them
        total: int | None = None  # the district's free money, if a statement read only that
        index = 0
        dropped: dict[str, int] = {}  # paths ruled out on the way, and where
        while True:
            heads = [plan.after_failure[path][index:][:1] for path in candidates]
            if len(candidates) > 1 and all(h and heads[0] and _same_event(heads[0][0], h[0]) for h in heads):
                for row in self._execute(cursor, heads[0][0], shared):
                    if "available_fen" in row and "id" in row:
                        available = {**(available or {}), row["id"]: row["available_fen"]}
                    elif len(row) == 1 and isinstance(next(iter(row.values())), int | decimal.Decimal | None):
                        total = int(next(iter(row.values())) or 0)  # SUM() of bigints is numeric, NULL when empty
                index += 1
                continue
            if len(candidates) == 1:
                path, decision = candidates[0], None
                if path != "refused":
                    decision = self._choose(resident, available or {})
            elif available is not None:
                decision = self._choose(resident, available)
                path = "refused" if decision is None else "merge" if decision[1] and "merge" in candidates else "slow"
            elif total is not None and total >= self.amount and "refused" in candidates:
                candidates.remove("refused")  # money enough in the district: the slow path decides further on
                dropped["refused"] = index
                continue
            elif total is not None:
                path, decision = "refused", None
            else:
                raise RuntimeError("the captured slow path reads neither the slices nor the district's free money")
            if path == "refused" and "refused" in dropped:
                # The district ran dry between the unlocked read and the locks: the service rolls back and
                # records the refusal as its short path does.
                if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    cursor.execute("ROLLBACK")
                return self._tail(cursor, resident, path, dropped["refused"], None)
            if path == "refused" and plan.early_refusal:
                # The district ran dry between the read and the locks: the service rolls back and refuses.
                if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    cursor.execute("ROLLBACK")
                return self._refuse(cursor, resident)
            if path not in candidates:
                raise RuntimeError(f"the replay needs the {path} path here, which the captures do not have")
            return self._tail(cursor, resident, path, index, decision)

    def _tail(
        self,
        cursor: psycopg.Cursor[Any],
        resident: Resident,
        path: str,
        index: int,
        decision: tuple[int, list[tuple[int, int]]] | None,
    ) -> str:
        """The rest of one path: the refusal as captured, or moves, the hold on the chosen slice, the inserts."""
        plan = self.plan
        capture = plan.captures[path]
        events = plan.after_failure[path][index:]
        values = self._base(capture, resident)
        if path == "refused" or decision is None:
            for event in events:
                self._execute(cursor, event, values)
            return "refused"
        target, moves = decision
        hold = _hold_index(events, plan.hold_sql)
        hold_statement = events[hold]
        assert isinstance(hold_statement, Statement)
        values.put(next(p for p in hold_statement.params if p in capture.pool_ids), target)
        if path == "merge":
            move_out, move_in = (e for e in events[:hold] if isinstance(e, Statement))
            donor_c, moved_c = _pool_and_amount(move_out, capture.pool_ids)
            target_c, _ = _pool_and_amount(move_in, capture.pool_ids)
            for donor, moved in moves:
                move = Substitution(datetime.timedelta())
                move.put(donor_c, donor)
                move.put(target_c, target)
                move.put(moved_c, moved)
                cursor.execute(move_out.sql, move(move_out.params))
                cursor.execute(move_in.sql, move(move_in.params))
            events = [*(e for e in events[:hold] if not isinstance(e, Statement)), *events[hold:]]
        for event in events:
            self._execute(cursor, event, values)
        return "ok"

    def _choose(self, resident: Resident, available: dict[int, int]) -> tuple[int, list[tuple[int, int]]] | None:
        """The slice the service's slow path would hold on, and the moves it would make first."""
        from huanxin.policy.domain.ledger import slice_order

        ids = resident.pool_ids
        for index in slice_order(resident.start, len(ids)):
            if available.get(ids[index], 0) >= self.amount:
                return ids[index], []
        if sum(available.values()) < self.amount:
            return None
        ordered = sorted(available)
        target = max(ordered, key=lambda pk: available[pk])
        needed = self.amount - available[target]
        moves = []
        for donor in ordered:
            if needed <= 0:
                break
            if donor == target or available[donor] == 0:
                continue
            moved = min(needed, available[donor])
            moves.append((donor, moved))
            needed -= moved
        return target, moves


def _pool_and_amount(statement: Statement, pool_ids: Sequence[int]) -> tuple[int, int]:
    pool = next(p for p in statement.params if p in pool_ids)
    amount = next(p for p in statement.params if isinstance(p, int) and p not in pool_ids)
    return int(pool), int(amount)


# ---------------------------------------------------------------------------------------------------------
# The HTTP client: raw HTTP/1.1 over one kept-alive socket per thread
# ---------------------------------------------------------------------------------------------------------


class HttpClient:
    """Keeps its connection open while the server does (gthread); reconnects when it closes (sync)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=120)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        return sock

    def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in range(2):
            reused = self.sock is not None
            sock = self.sock or self._connect()
            try:
                sock.sendall(raw)
                return self._response(sock)
            except (ConnectionError, EOFError):
                self.close()
                # A kept-alive connection the server had closed; the Idempotency-Key makes a resend safe.
                if not reused or attempt:
                    raise
        raise AssertionError("unreachable")

    def _response(self, sock: socket.socket) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._fill(sock)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        version, status = lines[0].split(b" ", 2)[:2]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        while len(self.buffer) < length:
            self._fill(sock)
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        if headers.get(b"connection", b"").lower() == b"close" or version == b"HTTP/1.0":
            self.close()
        return int(status), body

    def _fill(self, sock: socket.socket) -> None:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.buffer += chunk


def claim_request(port: int, resident: Resident) -> bytes:
    return (
        f"POST {CLAIM_PATH} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(CLAIM_BODY)}\r\n"
        f"Cookie: {resident.cookie}\r\n"
        f"X-CSRFToken: {resident.csrf_token}\r\n"
        f"Idempotency-Key: {uuid.uuid4().hex}\r\n"
        "\r\n"
    ).encode() + CLAIM_BODY


# ---------------------------------------------------------------------------------------------------------
# Bursts
# ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Burst:
    seconds: float = 0.0
    outcomes: Counter[str] = dataclasses.field(default_factory=Counter)
    latencies: list[float] = dataclasses.field(default_factory=list)  # seconds, successful claims
    samples: list[str] = dataclasses.field(default_factory=list)  # a few unexpected responses
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)  # CPU seconds used during the burst

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())

    @property
    def per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        return percentile_ms(self.latencies, fraction)


def run_burst(
    residents: Sequence[Resident],
    clients: int,
    make_worker: Callable[[], tuple[Callable[[Resident], tuple[str, str]], Callable[[], None]]],
    cpu_probe: Callable[[], dict[str, float]] | None = None,
) -> Burst:
    """Threads take residents from a shared list as fast as they can; all start together."""
    burst = Burst()
    lock = threading.Lock()
    position = iter(range(len(residents)))
    ready = threading.Barrier(clients + 1)
    go = threading.Event()
    finished: list[float] = []

    failures: list[str] = []
    closers: list[Callable[[], None]] = []

    def client() -> None:
        try:
            work, close = make_worker()
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
            ready.wait()
            return
        outcomes: Counter[str] = Counter()
        latencies: list[float] = []
        samples: list[str] = []
        try:
            ready.wait()
            go.wait()
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    break
                started = time.perf_counter()
                try:
                    outcome, detail = work(residents[index])
                except Exception as exc:  # counted as an error, the burst goes on
                    outcome, detail = "error", f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - started
                outcomes[outcome] += 1
                if outcome == "ok":
                    latencies.append(elapsed)
                elif outcome == "error" and len(samples) < 3:
                    samples.append(detail)
        finally:
            with lock:
                closers.append(close)  # after the CPU probe: a closed connection's backend takes its CPU time along
                finished.append(time.perf_counter())
                burst.outcomes.update(outcomes)
                burst.latencies.extend(latencies)
                burst.samples.extend(samples[: max(0, 5 - len(burst.samples))])

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    before = cpu_probe() if cpu_probe else {}
    started = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join()
    after = cpu_probe() if cpu_probe else {}
    for close in closers:
        close()
    if failures:
        raise SystemExit(f"clients could not start: {failures[:3]}")
    burst.seconds = max(finished) - started
    burst.cpu = {name: after[name] - before.get(name, 0.0) for name in after}
    return burst


class LockWaits:
    """Samples pg_stat_activity every 50 ms during a burst: how many of the database's backends are busy,
    how many wait for a lock, and in which statements (a hot row shows up here)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.samples = 0
        self.active = 0
        self.waiting: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LockWaits:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as monitor:
            while not self._stop.wait(0.05):
                rows = monitor.execute(
                    "SELECT wait_event_type, query FROM pg_stat_activity WHERE datname = %s AND state = 'active'"
                    " AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                self.samples += 1
                self.active += len(rows)
                self.waiting.update(short(query) for wait, query in rows if wait == "Lock")

    def describe(self) -> str:
        if not self.samples:
            return "no samples"
        waiting = sum(self.waiting.values())
        where = ", ".join(f"{statement} {count / waiting:.0%}" for statement, count in self.waiting.most_common(3))
        busy = f"{self.active / self.samples:.1f} backends busy on average"
        return f"{busy}, {waiting / self.samples:.2f} waiting for a lock" + (f" (in {where})" if waiting else "")


def cpu_seconds(database: str, server_pid: int | None, postgres: PostgresCpu) -> dict[str, float]:
    """CPU time so far of this process (the clients), the gunicorn workers, the database's backends and
    the server's own processes (from ``postgres``, sampled) and the whole machine (Linux /proc; other
    processes show up as the difference)."""
    tick = os.sysconf("SC_CLK_TCK")
    totals = {
        "clients": time.process_time(),
        "gunicorn": 0.0,
        "postgres": 0.0,
        "postgres_server": 0.0,
        "machine": 0.0,
    }
    with contextlib.suppress(OSError):
        busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in busy[:8])
        totals["machine"] = (user + nice + system + irq + softirq + steal) / tick
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if server_pid is not None and int(fields[1]) == server_pid:
            totals["gunicorn"] += cpu
    totals.update(postgres.totals())
    return totals


class PostgresCpu:
    """CPU seconds used by the database's backends and the server's own processes since the sampler
    started, read from /proc every 100 ms by pid, so that a backend which exits (a connection closed when
    it reaches CONN_MAX_AGE during a long burst) keeps the time it used up to its last sample. A backend
    born after the start counts from zero (its start-up is part of what the connection costs)."""

    def __init__(self, database: str) -> None:
        self.needle = f" {database} ".encode()
        self.tick = os.sysconf("SC_CLK_TCK")
        self.kinds: dict[int, str | None] = {}  # pid -> "postgres", "postgres_server" or None (not ours)
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = False

    def __enter__(self) -> PostgresCpu:
        self._sample()
        self._started = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self._sample()

    def _kind(self, pid: int) -> str | None:
        if pid not in self.kinds:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                command = b""
            if command.startswith(b"postgres: ") and self.needle in command:
                self.kinds[pid] = "postgres"
            elif _postgres_server_process(command):
                self.kinds[pid] = "postgres_server"
            else:
                self.kinds[pid] = None
        return self.kinds[pid]

    def _sample(self) -> None:
        for name in os.listdir("/proc"):
            if not name.isdigit() or self._kind(int(name)) is None:
                continue
            pid = int(name)
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            cpu = (int(fields[11]) + int(fields[12])) / self.tick
            with self.lock:
                self.first.setdefault(pid, cpu if not self._started else 0.0)
                self.last[pid] = cpu

    def totals(self) -> dict[str, float]:
        """CPU seconds since the start, per kind of process."""
        self._sample()
        totals = {"postgres": 0.0, "postgres_server": 0.0}
        with self.lock:
            for pid, last in self.last.items():
                kind = self.kinds.get(pid)
                if kind is not None:
                    totals[kind] += last - self.first[pid]
        return totals


# The server's own processes (WAL writer, checkpointer, ...): they work for every database, the bench's
# commits included. Backends of other databases (other work on the machine) are never counted.
POSTGRES_SERVER_PROCESSES = (
    b"checkpointer",
    b"background writer",
    b"walwriter",
    b"autovacuum launcher",
    b"logical replication launcher",
    b"archiver",
    b"stats collector",
)


def _postgres_server_process(command: bytes) -> bool:
    """The postmaster or one of its background processes (not a backend of some database)."""
    if command.split(b"\x00", 1)[0].endswith(b"/bin/postgres"):
        return True
    return command.startswith(b"postgres: ") and command.rstrip(b"\x00 ").endswith(POSTGRES_SERVER_PROCESSES)


def postgres_cpu_by_process(database: str, exclude: int) -> dict[int, float]:
    """CPU seconds so far of each backend of ``database``, by pid, leaving out the backend ``exclude``
    (the bench's monitor)."""
    tick = os.sysconf("SC_CLK_TCK")
    needle = f" {database} ".encode()
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == exclude:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if command.startswith(b"postgres: ") and needle in command:
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def http_worker(port: int) -> tuple[Callable[[Resident], tuple[str, str]], Callable[[], None]]:
    http = HttpClient(port)

    def work(resident: Resident) -> tuple[str, str]:
        status, body = http.request(claim_request(port, resident))
        if status == 201:
            return "ok", ""
        if status == 422:
            with contextlib.suppress(ValueError):
                if json.loads(body).get("code") == "budget_exhausted":
                    return "refused", ""
        return "error", f"{status} {body[:200]!r}"

    return work, http.close


def sql_worker(
    plan: ReplayPlan, dsn: str, amount: int
) -> tuple[Callable[[Resident], tuple[str, str]], Callable[[], None]]:
    replayer = Replayer(plan, dsn, amount)

    def work(resident: Resident) -> tuple[str, str]:
        try:
            return replayer.claim(resident), ""
        except Exception:
            # Never leave a transaction open: its row locks would stall every other client.
            with contextlib.suppress(psycopg.Error):
                replayer.connection.execute("ROLLBACK")
            raise

    return work, replayer.close


# ---------------------------------------------------------------------------------------------------------
# The floor: the two statements a claim cannot avoid, driven by pgbench
# ---------------------------------------------------------------------------------------------------------

PGBENCH = "/usr/bin/pgbench"
FLOOR_TABLES = (("bench_floor_pool", "policy_budgetpool"), ("bench_floor_qual", "subsidies_qualification"))
# One claim at the floor: one transaction, the guarded update of one budget slice and the qualification's
# insert, with the values a fridge claim writes. Codes and persons come from a sequence (each claim is a
# new resident, as in the burst). The copies keep the originals' columns, defaults, check constraints and
# indexes (LIKE ... INCLUDING ALL), not their foreign keys: the floor is the cheapest a claim could be.
FLOOR_SCRIPT = """\\set pool random(1, :pools)
BEGIN;
UPDATE bench_floor_pool SET available_fen = available_fen - :amount, held_fen = held_fen + :amount
  WHERE id = :pool AND available_fen >= :amount;
INSERT INTO bench_floor_qual (code, person_id, programme_id, category, district_id, pool_id, slot, held_fen,
  status, quota_released, rule_version, issued_at, expires_at)
  VALUES (nextval('bench_floor_code')::text, currval('bench_floor_code'), :programme, 'fridge', :district, :pool,
  0, :amount, 'issued', false, 'cn-appliance-2026@1', now(), now() + interval '30 days');
END;
"""
# The floor plus what issue #11 keeps in every claim's transaction: the audit row and the Idempotency-Key
# record with its response (written once, as the cheapest correct way writes it), and the foreign keys of
# the qualification and the audit row checked against the real reference rows (persons of the burst, the
# programme, the district, the actor). Still no read, no session, no user lookup, no rule engine: what a
# claim would cost the database if it did nothing but write what must be kept.
KEPT_TABLES = (
    *FLOOR_TABLES,
    ("bench_floor_audit", "core_auditentry"),
    ("bench_floor_idem", "core_idempotencyrecord"),
)
KEPT_FOREIGN_KEYS = (
    "ALTER TABLE bench_floor_qual ADD FOREIGN KEY (person_id) REFERENCES accounts_person (id) DEFERRABLE INITIALLY"
    " DEFERRED, ADD FOREIGN KEY (programme_id) REFERENCES policy_programme (id) DEFERRABLE INITIALLY DEFERRED,"
    " ADD FOREIGN KEY (district_id) REFERENCES accounts_district (code) DEFERRABLE INITIALLY DEFERRED,"
    " ADD FOREIGN KEY (pool_id) REFERENCES bench_floor_pool (id) DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE bench_floor_audit ADD FOREIGN KEY (actor_id) REFERENCES accounts_user (id)"
    " DEFERRABLE INITIALLY DEFERRED",
)
KEPT_SCRIPT = """\\set pool random(1, :pools)
\\set person random(:first_person, :last_person)
SELECT nextval('bench_floor_code') AS k \\gset
BEGIN;
UPDATE bench_floor_pool SET available_fen = available_fen - :amount, held_fen = held_fen + :amount
  WHERE id = :pool AND available_fen >= :amount;
INSERT INTO bench_floor_qual (code, person_id, programme_id, category, district_id, pool_id, slot, held_fen,
  status, quota_released, rule_version, issued_at, expires_at)
  VALUES (:k::text, :person, :programme, 'c' || :k, :district, :pool,
  0, :amount, 'issued', false, 'cn-appliance-2026@1', now(), now() + interval '30 days');
INSERT INTO bench_floor_audit (occurred_at, actor_id, actor_label, action, object_type, object_id, object_label,
  after, district_code, request_id)
  VALUES (now(), :actor, 'bench0001285', 'subsidies.qualification.claim', 'subsidies.qualification', :k::text,
  'Q' || :k, ('{"pool": ' || :pool || ', "slot": 0, "category": "fridge", "held_fen": ' || :amount
  || ', "programme": "cn-appliance-2026"}')::jsonb, :district, '-');
INSERT INTO bench_floor_idem (scope, key, request_hash, method, path, state, status_code, content_type,
  response_body, created_at, completed_at, owner)
  VALUES ('user:' || :person, :k::text, md5(:k::text) || md5(:k::text), 'POST', '/api/v1/subsidies/qualifications',
  'done', 201, 'application/json', convert_to(repeat('{"code": "Q0000000000"}', 24), 'UTF8'), now(), now(), '');
END;
"""


@dataclasses.dataclass(frozen=True)
class Floor:
    claims: int
    seconds: float
    cpu: float  # PostgreSQL CPU seconds over those claims (the bench database's backends)
    pgbench_tps: float

    @property
    def per_second(self) -> float:
        return self.claims / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_claim(self) -> float:
        return 1000 * self.cpu / self.claims if self.claims else 0.0


@timed("floor (pgbench)")
def measure_floor(world: World, database: str, *, clients: int, seconds: float, kept: bool = False) -> Floor:
    """pgbench runs the floor script with ``clients`` clients (prepared protocol: ``-M prepared``); after a
    second of warm-up (connections made, statements prepared), the claims committed and the PostgreSQL CPU
    used are read over ``seconds``, while every backend is still alive (a backend that exits takes its CPU
    time with it). ``kept``: the floor plus the rows and checks every claim keeps (``KEPT_SCRIPT``)."""
    import subprocess
    import tempfile

    pools = len(world.initial_pools)
    with psycopg.connect(dsn(database), autocommit=True) as monitor:
        tables = KEPT_TABLES if kept else FLOOR_TABLES
        for copy, original in tables:
            monitor.execute(f"DROP TABLE IF EXISTS {copy}")
            monitor.execute(f"CREATE TABLE {copy} (LIKE {original} INCLUDING ALL)")
        monitor.execute("DROP SEQUENCE IF EXISTS bench_floor_code")
        monitor.execute("CREATE SEQUENCE bench_floor_code START 1000000")
        # As many slices as the burst's budget, each with room for every claim the run can make.
        monitor.execute(
            "INSERT INTO bench_floor_pool (id, programme_id, district_id, slice, allocated_fen, held_fen,"
            " spent_fen, available_fen) SELECT n, %s, %s, n, 10000000000000, 0, 0, 10000000000000"
            " FROM generate_series(1, %s) n",
            (world.programme_id, next(iter(world.pools_by_district)), pools),
        )
        if kept:
            for statement in KEPT_FOREIGN_KEYS:
                monitor.execute(statement)
        monitor.execute("VACUUM ANALYZE bench_floor_pool")
        monitor.execute("VACUUM ANALYZE bench_floor_qual")
        own = monitor.execute("SELECT pg_backend_pid()").fetchone()
        own_pid = int(own[0]) if own else 0

        def committed() -> int:
            row = monitor.execute("SELECT last_value FROM bench_floor_code").fetchone()
            return int(row[0]) if row else 0

        with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="bench-floor-") as script:
            script.write(KEPT_SCRIPT if kept else FLOOR_SCRIPT)
            script.flush()
            command = [
                PGBENCH, "-n", "-M", "prepared", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres",
                "-c", str(clients), "-j", str(min(clients, os.cpu_count() or 1)), "-T", str(int(seconds) + 2),
                "-D", f"pools={pools}", "-D", f"amount={world.amount}", "-D", f"programme={world.programme_id}",
                "-D", f"district={next(iter(world.pools_by_district))}", "-f", script.name, database,
            ]  # fmt: skip
            if kept:
                first, last, actor = people(monitor)
                command[-1:-1] = ["-D", f"first_person={first}", "-D", f"last_person={last}", "-D", f"actor={actor}"]
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            time.sleep(1.0)
            count_before, cpu_before = committed(), postgres_cpu_by_process(database, own_pid)
            started = time.perf_counter()
            time.sleep(seconds)
            count_after, cpu_after = committed(), postgres_cpu_by_process(database, own_pid)
            elapsed = time.perf_counter() - started
            output, _ = process.communicate()
        for copy, _original in reversed(tables):
            monitor.execute(f"DROP TABLE {copy}")
        monitor.execute("DROP SEQUENCE bench_floor_code")
    if process.returncode:
        raise SystemExit(f"pgbench failed ({process.returncode}):\n{output}")
    tps = 0.0
    for line in output.splitlines():
        if line.startswith("tps = "):
            tps = float(line.split()[2])
    cpu = sum(cpu_after[pid] - cpu_before.get(pid, 0.0) for pid in cpu_after)
    return Floor(claims=count_after - count_before, seconds=elapsed, cpu=cpu, pgbench_tps=tps)


def people(monitor: psycopg.Connection[Any]) -> tuple[int, int, int]:
    """The burst's residents' person ids (one run of ids, written in bulk) and one of their user ids."""
    row = monitor.execute(
        "SELECT min(id), max(id), count(*), min(user_id) FROM accounts_person WHERE id < %s", (CAPTURE_PERSON_BASE,)
    ).fetchone()
    if row is None or row[2] != row[1] - row[0] + 1:
        raise SystemExit("the residents' person ids are not one run of ids")
    return int(row[0]), int(row[1]), int(row[3])


# ---------------------------------------------------------------------------------------------------------
# Invariants
# ---------------------------------------------------------------------------------------------------------


def check_invariants(world: World, burst: Burst, expected: int) -> list[str]:
    """Every broken invariant, one line each (empty when the database is consistent)."""
    from django.db.models import Count, Sum

    from huanxin.policy.models import BudgetPool
    from huanxin.subsidies.models import Qualification

    broken = []
    pools = BudgetPool.objects.filter(programme_id=world.programme_id)
    for pool in pools:
        if pool.allocated_fen != pool.held_fen + pool.spent_fen + pool.available_fen:
            broken.append(f"pool {pool.pk}: allocated != held + spent + available")
        if min(pool.held_fen, pool.spent_fen, pool.available_fen) < 0:
            broken.append(f"pool {pool.pk}: negative amount")
    successes = burst.outcomes["ok"]
    held = pools.aggregate(held=Sum("held_fen"))["held"] or 0
    if held != successes * world.amount:
        broken.append(f"held {held} != {successes} successes x {world.amount}")
    live = Qualification.objects.filter(programme_id=world.programme_id, status=Qualification.Status.ISSUED)
    if live.count() != successes:
        broken.append(f"{live.count()} live qualifications != {successes} successes")
    doubles = live.values("person_id", "category").annotate(n=Count("id")).filter(n__gt=1).count()
    if doubles:
        broken.append(f"{doubles} people hold two live qualifications for the same category")
    if successes != expected:
        broken.append(f"{successes} successes != min(residents, pool-claims) = {expected}")
    return broken


# ---------------------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------------------


def describe(burst: Burst) -> str:
    o = burst.outcomes
    return (
        f"{burst.per_second:8.1f} claims/s  p50 {burst.percentile_ms(0.5):6.1f} ms"
        f"  p99 {burst.percentile_ms(0.99):6.1f} ms"
        f"  ({o['ok']} ok, {o['refused']} refused, {o['error']} errors in {burst.seconds:.2f} s)"
    )


def short(sql: str) -> str:
    words = sql.replace('"', "").split()
    head = " ".join(words[:2])
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in words:
            table = words[words.index(marker) + 1]
            return f"{head.split()[0]} {table}"
    return head[:40]


FRAMING = ("BEGIN", "COMMIT", "ROLLBACK")


def commits(sequence: Sequence[str]) -> int:
    """Commits that write: COMMITs, and writing statements run in autocommit (each is its own transaction)."""
    count, in_transaction = 0, False
    for sql in sequence:
        if sql == "BEGIN":
            in_transaction = True
        elif sql in ("COMMIT", "ROLLBACK"):
            count += sql == "COMMIT"
            in_transaction = False
        elif not in_transaction and _writes(sql):
            count += 1
    return count


def _writes(sql: str) -> bool:
    """A statement that writes: INSERT, UPDATE, DELETE, or a WITH statement with one of them inside."""
    words = sql.replace("(", " ").upper().split()
    if words[:1] == ["WITH"]:
        return any(word in ("INSERT", "UPDATE", "DELETE") for word in words)
    return words[:1] in (["INSERT"], ["UPDATE"], ["DELETE"])


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    load_before = load_average()
    worker_class = f"gthread, {options.threads} threads each" if options.threads > 1 else "sync"
    print(
        f"claims bench: {options.residents} residents, {options.pool_claims} holds in the budget, "
        f"{options.clients} clients, gunicorn {options.workers} workers ({worker_class}), "
        f"{options.slices} slices per district, database {options.database}, "
        f"load average {load_before:.2f} on {os.cpu_count()} cores",
        flush=True,
    )
    with bench_database(options.database, keep=options.keep, prefix="huanxin-bench-") as var_dir:
        from django.db import connections

        migrate()
        world = build_world(options)
        captures = capture_paths(world)
        plan = plan_replay(captures)
        stack = http_statements(world.spare)
        database = connections["default"].settings_dict
        persistent = database.get("CONN_MAX_AGE") != 0
        health_check = int(bool(database.get("CONN_HEALTH_CHECKS")) and persistent)
        reset_budget(world)
        expected = min(options.residents, options.pool_claims)

        connections.close_all()
        with gunicorn(
            options.database, var_dir, workers=options.workers, threads=options.threads, timeout=120
        ) as server:
            port = server.port
            if world.warmup:
                warm = run_burst(world.warmup, min(options.clients, len(world.warmup)), lambda: http_worker(port))
                if warm.outcomes["error"]:
                    raise SystemExit(f"warm-up failed: {warm.samples}")
                reset_budget(world)
                connections.close_all()
            with LockWaits(options.database) as http_locks, PostgresCpu(options.database) as http_postgres:
                http = run_burst(
                    world.residents,
                    options.clients,
                    lambda: http_worker(port),
                    lambda: cpu_seconds(options.database, server.pid, http_postgres),
                )
        http_broken = check_invariants(world, http, expected)

        reset_budget(world)
        connections.close_all()
        with LockWaits(options.database) as sql_locks, PostgresCpu(options.database) as sql_postgres:
            sql = run_burst(
                world.residents,
                options.clients,
                lambda: sql_worker(plan, dsn(options.database), world.amount),
                lambda: cpu_seconds(options.database, None, sql_postgres),
            )
        sql_broken = check_invariants(world, sql, expected)
        connections.close_all()
        floor = measure_floor(world, options.database, clients=options.floor_clients, seconds=options.floor_seconds)
        kept = measure_floor(
            world, options.database, clients=options.floor_clients, seconds=options.floor_seconds, kept=True
        )

    ratio = http.per_second / sql.per_second if sql.per_second else 0.0
    # The same ratio from CPU time alone: our processes' CPU per claim on each side (clients, gunicorn
    # workers, the database's backends). Both sides saturate the cores, so this is what the throughput
    # ratio tends to on an otherwise idle machine, and it hardly moves when other work shares the cores.
    # (The server's own processes are left out here, as before they were measured.)
    own_http, own_sql = (
        sum(v for k, v in b.cpu.items() if k not in ("machine", "postgres_server")) / max(1, b.total)
        for b in (http, sql)
    )
    # PostgreSQL CPU per HTTP claim (the bench database's backends, refusals included) against the same at
    # the floor. The server's own processes (postgres_server) are left out of both: they also work for every
    # other database on the machine (its WAL, its connections), which shared runs cannot tell apart.
    pg_http = 1000 * http.cpu.get("postgres", 0.0) / max(1, http.total)
    pg_ratio = pg_http / floor.cpu_ms_per_claim if floor.cpu_ms_per_claim else 0.0
    kept_ratio = kept.cpu_ms_per_claim / floor.cpu_ms_per_claim if floor.cpu_ms_per_claim else 0.0
    cpu_ratio = own_sql / own_http if own_http else 0.0
    service = [s for s in captures["fast"].events if isinstance(s, Statement)]
    service_trips = len(captures["fast"].events)
    http_sql = [q for q in stack if q not in FRAMING]
    # Statements, BEGIN and COMMIT each cost a round trip; so does the health check's SELECT 1, which
    # Django runs once per request on a persistent connection when CONN_HEALTH_CHECKS is on.
    http_trips = len(stack) + health_check
    service_sql = [e if isinstance(e, str) else e.sql for e in captures["fast"].events]
    print()
    print(f"HTTP (gunicorn)  {describe(http)}")
    print(f"direct SQL       {describe(sql)}")
    print(f"ratio HTTP / direct SQL: {ratio:.2f} (from CPU per claim of our own processes: {cpu_ratio:.2f})")
    print()
    print("CPU per claim during each burst, ms ('other' is everything else on the machine):")
    for label, burst in (("HTTP", http), ("direct SQL", sql)):
        cpu = {k: 1000 * v / max(1, burst.total) for k, v in burst.cpu.items()}
        other = cpu.get("machine", 0.0) - sum(v for k, v in cpu.items() if k != "machine")
        parts = "  ".join(f"{k} {v:5.2f}" for k, v in cpu.items() if k != "machine" and (v or k != "gunicorn"))
        print(f"  {label:11s} {parts}  other {other:5.2f}  machine {cpu.get('machine', 0.0):5.2f}")
    print("database backends during each burst:")
    print(f"  HTTP        {http_locks.describe()}")
    print(f"  direct SQL  {sql_locks.describe()}")
    print()
    frame = " ".join(e if isinstance(e, str) else short(e.sql) for e in captures["fast"].events)
    print(
        f"direct SQL, fast path: {len(service)} statements, {service_trips} round trips, "
        f"{commits(service_sql)} commit(s): {frame}"
    )
    for path in ("slow", "merge", "refused"):
        if path in captures:
            events = captures[path].events
            print(f"  {path} path: {plan.count(path)} statements, {events.count('BEGIN')} transactions")
    print(
        f"HTTP, one claim through the Django stack: {len(http_sql)} statements, {http_trips} round trips"
        f"{' (with the health check SELECT 1)' if health_check else ''}, {commits(stack)} commits"
        f"{'' if persistent else ', and a new database connection per request (CONN_MAX_AGE=0)'}:"
    )
    print("  " + " ".join(short(q) for q in stack))
    print(
        f"floor (pgbench, {options.floor_clients} clients, prepared): {floor.per_second:.0f} claims/s"
        f" (pgbench tps {floor.pgbench_tps:.0f}), PostgreSQL CPU {floor.cpu_ms_per_claim:.3f} ms per claim;"
        f" HTTP: {pg_http:.3f} ms per claim, {pg_ratio:.2f} x the floor"
    )
    print(
        f"floor with what a claim keeps (audit row, idempotency record, foreign keys): {kept.per_second:.0f}"
        f" claims/s, PostgreSQL CPU {kept.cpu_ms_per_claim:.3f} ms per claim, {kept_ratio:.2f} x the floor"
    )
    for label, broken, burst in (("HTTP", http_broken, http), ("direct SQL", sql_broken, sql)):
        print(f"invariants after {label}: {'all hold' if not broken else '; '.join(broken)}")
        for sample in burst.samples:
            print(f"  error sample: {sample}")
    result = {
        "bench": "claims",
        "claims_per_s": round(http.per_second, 1),
        "p50_ms": round(http.percentile_ms(0.5), 1),
        "p99_ms": round(http.percentile_ms(0.99), 1),
        "ratio_vs_sql": round(ratio, 2),
        "violations": len(http_broken),
        "sql_claims_per_s": round(sql.per_second, 1),
        "sql_p50_ms": round(sql.percentile_ms(0.5), 1),
        "sql_p99_ms": round(sql.percentile_ms(0.99), 1),
        "sql_violations": len(sql_broken),
        "cpu_ratio_vs_sql": round(cpu_ratio, 2),
        "successes": http.outcomes["ok"],
        "refusals": http.outcomes["refused"],
        "errors": http.outcomes["error"],
        "http_round_trips": http_trips,
        "sql_round_trips": service_trips,
        "http_cpu_ms_per_claim": {k: round(1000 * v / max(1, http.total), 2) for k, v in http.cpu.items()},
        "sql_cpu_ms_per_claim": {k: round(1000 * v / max(1, sql.total), 2) for k, v in sql.cpu.items()},
        "load_average_before": load_before,
        "floor_claims_per_s": round(floor.per_second, 1),
        "pg_cpu_ms_per_claim": round(pg_http, 3),
        "floor_pg_cpu_ms_per_claim": round(floor.cpu_ms_per_claim, 3),
        "pg_cpu_ratio_vs_floor": round(pg_ratio, 2),
        "kept_floor_pg_cpu_ms_per_claim": round(kept.cpu_ms_per_claim, 3),
        "kept_floor_ratio_vs_floor": round(kept_ratio, 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
