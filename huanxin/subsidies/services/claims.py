"""Claims: a verified resident takes a qualification, holding the category's maximum subsidy in the budget of
their registered district; cancellation, expiry, and the rounds that ration issues.

Every claim is one short transaction: a round slot, a budget hold through the ledger, the qualification and
its audit row, all or nothing."""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.http import HttpResponse
from django.utils import timezone

from huanxin.accounts.models import Person, User
from huanxin.core import audit, idempotency, memo, rows
from huanxin.core.domain.identifiers import age_on, resident_id_birth_date
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import require_in_person
from huanxin.policy import ledger
from huanxin.policy.domain.ledger import slice_order
from huanxin.policy.models import Programme
from huanxin.policy.queries import can_change_settings
from huanxin.subsidies.domain import codes
from huanxin.subsidies.domain.claims import free_slot, qualification_expiry
from huanxin.subsidies.models import (
    ClaimRefusal,
    ClaimRound,
    Qualification,
    RoundSlice,
)
from huanxin.subsidies.services.common import (
    CONSUMING_PARAMS,
    CONSUMING_SQL,
    ClaimRefused,
    current_rules,
    history_of,
    other_region_categories,
    programme_categories,
)


def _programme_open(programme: Programme, now: datetime.datetime) -> bool:
    today = timezone.localdate(now)
    return (
        programme.status == Programme.Status.OPEN
        and (programme.starts_on is None or programme.starts_on <= today)
        and (programme.ends_on is None or today <= programme.ends_on)
    )


def _rounds(programme_id: int) -> list[ClaimRound]:
    """The programme's rounds, read at most every few seconds per process. Rounds are scheduled ahead of
    time and each carries its own opening and closing time, so a cached list still opens and closes
    them to the second; only a newly scheduled round takes up to the TTL to reach every worker."""
    return memo.cached(
        "rounds",
        programme_id,
        10.0,
        lambda: list(ClaimRound.objects.filter(programme_id=programme_id).order_by("opens_at")),
    )


def _round_for(programme: Programme, now: datetime.datetime) -> tuple[ClaimRound | None, str | None]:
    """The round open now, or the reason there is none (only when the programme issues in rounds)."""
    rounds = _rounds(programme.pk)
    if not rounds:
        return None, None
    for claim_round in rounds:
        if claim_round.opens_at <= now and (claim_round.closes_at is None or now < claim_round.closes_at):
            return claim_round, None
    upcoming = [r for r in rounds if r.opens_at > now]
    if upcoming:
        opens = timezone.localtime(upcoming[0].opens_at)
        return None, f"本批次尚未开始，将于 {opens:%Y-%m-%d %H:%M} 开放申领"
    return None, "本项目的申领批次已全部结束"


def _round_slice_ids(round_id: int, category: str) -> list[int]:
    """Primary keys of a round's slices for a category, in slice order. Cached briefly: read on every claim
    during a round, and create_round writes them once with their round, so a new round (new key) is
    never served a stale list."""
    return memo.cached(
        "round_slices",
        (round_id, category),
        10.0,
        lambda: list(
            RoundSlice.objects.filter(round_id=round_id, category=category)
            .order_by("slice")
            .values_list("pk", flat=True)
        ),
    )


def _take_round_slot(claim_round: ClaimRound, category: str, start: int, *, slow: bool) -> int | bool | None:
    """Count one issue against the round's limit: the slice's id, False when the round is full, None when
    the round sets no limit for the category. Same fast/slow discipline as the budget slices."""
    slices = _round_slice_ids(claim_round.pk, category)
    if not slices:
        return None
    if not slow:
        own = slices[start % len(slices)]
        with connection.cursor() as cursor:
            cursor.execute(
                'UPDATE subsidies_roundslice SET issued = issued + 1 WHERE id = %s AND issued < "limit"', [own]
            )
            if cursor.rowcount:
                return own
        if len(slices) > 1:
            raise ledger.SlowPath
        return False
    locked = {r.pk: r for r in RoundSlice.objects.select_for_update().filter(pk__in=slices).order_by("pk")}
    for index in slice_order(start % len(slices), len(slices)):
        candidate = locked[slices[index]]
        if candidate.issued < candidate.limit:
            RoundSlice.objects.filter(pk=candidate.pk).update(issued=F("issued") + 1)
            return candidate.pk
    return False


def _refuse(
    person: Person,
    programme: Programme,
    category: str,
    code: str,
    message: str,
    *,
    reasons: list[dict[str, Any]] | None = None,
    held_qualification_id: int | None = None,
) -> ClaimRefused:
    """Record a refusal so the resident can see it later, and return the error to raise."""
    refusal = ClaimRefusal(
        person=person,
        programme=programme,
        category=category[:30],
        code=code,
        message=message[:300],
        reasons=reasons or [],
    )
    error = ClaimRefused(message, code=code, reasons=reasons, held_qualification_id=held_qualification_id)
    pending = idempotency.deferred()
    if pending is None or pending.record_id is None or connection.vendor != "postgresql":
        rows.insert(refusal)
        return error
    # An API claim with its Idempotency-Key reserved: the refusal row and the stored answer in one statement.
    response = pending.refusal(error)
    insert_refusal, refusal_params = rows.insert_select(refusal, "(SELECT 1) AS one", {})
    answer, answer_params = pending.answer_cte(response, "refusal")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH refusal AS ({insert_refusal} RETURNING id), {answer} SELECT id FROM refusal",  # noqa: S608
            [*refusal_params, *answer_params],
        )
    pending.answered(response)
    return error


def _held_qualification_id(person: Person, programme: Programme, category: str) -> int | None:
    """The live qualification the person holds for (programme, category), read only to point a refusal at it."""
    return (
        Qualification.objects.filter(
            person=person, programme=programme, category=category, status=Qualification.Status.ISSUED
        )
        .values_list("pk", flat=True)
        .first()
    )


def _already_holding(
    person: Person, programme: Programme, category: str, message: str, reasons: list[dict[str, Any]]
) -> ClaimRefused:
    return _refuse(
        person,
        programme,
        category,
        "already_holding",
        message,
        reasons=reasons,
        held_qualification_id=_held_qualification_id(person, programme, category),
    )


def _below_minimum_age(person: Person, today: datetime.date) -> int | None:
    """The city's minimum claim age when the person is younger on ``today`` (from the birth date in their
    resident ID), else None. A verified profile without a stored ID cannot show its age and is refused too."""
    minimum: int = settings.HUANXIN_MIN_CLAIM_AGE
    resident_id = person.reveal_resident_id()
    if resident_id and age_on(resident_id_birth_date(resident_id), today) >= minimum:
        return None
    return minimum


def check_stated_district(*, actor: User, district: str | None) -> None:
    """A claim is charged to the resident's registered district, never to one named in the request. Old
    clients that still send a district are refused when it is not the registered one, rather than have the
    claim silently charged somewhere they did not expect."""
    if district is None:
        return
    registered = Person.objects.filter(user_id=actor.pk).values_list("district_id", flat=True).first()
    # With no registered district (or no profile) the claim service gives the precise refusal.
    if registered is not None and district != registered:
        raise ValidationFailed.for_field(
            "district",
            "district_mismatch",
            "补贴资格计入您的登记居住区预算，不能另选申领区；如已搬迁请先变更登记居住区",
        )


def claim_qualification(
    *,
    actor: User,
    programme_code: str,
    category: str,
    now: datetime.datetime | None = None,
    respond: Callable[[Qualification], HttpResponse] | None = None,
) -> Qualification:
    """A verified resident of the city's minimum claim age claims a qualification for (programme, category):
    checks the rules through the engine, takes a quota slot, counts against the open round and holds the
    category's maximum subsidy in a slice of the budget of the resident's registered district — all or
    nothing. The district is never the claimant's choice: it is the one registered on their profile.

    Called by an API request whose Idempotency-Key record is left to the view (``idempotency.deferred``),
    the claim reserves the key before it writes anything (on PostgreSQL in its read statement) and, given
    ``respond`` (the response the caller will send for the new qualification), stores that response in the
    statement that issues the qualification, so the claim and its idempotency record commit together."""
    require_in_person(actor)
    now = now or timezone.now()
    pending = idempotency.deferred()
    facts = _claim_facts(actor, programme_code, timezone.localdate(now).year, pending)
    person, programme, district_code, claim_round = _check_claimant(facts, category, now)
    version, rule_set = current_rules(programme)
    decision = rule_set.check_claim(
        category=category, history=facts.history, other_region_categories=facts.other_region_categories
    )
    reasons = [reason.to_dict() for reason in decision.reasons]
    failed = next((reason for reason in decision.reasons if not reason.passed), None)
    if failed is not None:
        raise _refuse(person, programme, category, f"rule_{failed.code}", failed.message, reasons=reasons)
    mine = [(slot, status) for p, c, slot, status in facts.consuming if p == programme.pk and c == category]
    if any(status == Qualification.Status.ISSUED for _, status in mine):
        raise _already_holding(person, programme, category, "您已持有该品类的未使用资格", reasons)
    slot = free_slot((s for s, _ in mine), rule_set.quota(category))
    if slot is None:
        raise _refuse(person, programme, category, "quota_used", "您在该项目该品类的名额已用完", reasons=reasons)

    amount = decision.amount_fen
    pool_ids = ledger.slice_ids(programme.pk, district_code)
    if not pool_ids:
        raise _refuse(person, programme, category, "no_budget", "该区暂未安排本项目预算", reasons=reasons)
    if claim_round is None and facts.free_fen is not None and facts.free_fen < amount:
        # The district's free money, read with the facts, cannot serve the hold: refused as the slow path
        # would refuse it, without its locks. (With a round, a full round is the refusal to give first.)
        raise _refuse(person, programme, category, "budget_exhausted", "该区本项目补贴资金已用完", reasons=reasons)
    plan = _ClaimPlan(
        person=person,
        programme=programme,
        category=category,
        district=district_code,
        claim_round=claim_round,
        slot=slot,
        amount=amount,
        pool_ids=pool_ids,
        start=person.pk % len(pool_ids),
        rule_version=version.label,
        now=now,
        actor=actor,
        qualification_id=facts.qualification_id,
        pending=pending,
        respond=respond,
    )
    return _issue(plan, reasons)


def _check_claimant(
    facts: _ClaimFacts, category: str, now: datetime.datetime
) -> tuple[Person, Programme, str, ClaimRound | None]:
    """Who may claim now, in the order residents are told: a verified profile, a programme open today, the
    minimum age, a category the rules subsidise, a registered district, an open round."""
    person, programme = facts.person, facts.programme
    if person is None or not person.is_verified:
        raise ForbiddenError("请先完成实名认证", code="identity_required")
    if programme is None:
        raise NotFoundError("补贴项目不存在", code="unknown_programme")
    if not _programme_open(programme, now):
        raise _refuse(person, programme, category, "programme_not_open", "该项目当前不在申领期内")
    minimum_age = _below_minimum_age(person, timezone.localdate(now))
    if minimum_age is not None:
        raise _refuse(
            person, programme, category, "under_minimum_age", f"申领补贴须年满{minimum_age}周岁（按身份证出生日期计算）"
        )
    _, rule_set = current_rules(programme)
    if category not in rule_set.categories:
        raise ValidationFailed.for_field("category", "unknown_category", "该项目不补贴此品类")
    district_code = person.district_id
    if not district_code:
        raise ForbiddenError("请先登记居住区：补贴资格计入登记居住区的预算", code="district_required")
    claim_round, round_problem = _round_for(programme, now)
    if round_problem:
        raise _refuse(person, programme, category, "round_not_open", round_problem)
    return person, programme, district_code, claim_round


def _issue(plan: _ClaimPlan, reasons: list[dict[str, Any]]) -> Qualification:
    """Hold the money and issue the qualification: on PostgreSQL outside rounds in one statement, else (or
    when the claimant's own slice is short) in the fast, then the slow, transaction; turns a full round, an
    exhausted budget or a concurrent claim of the same person into the refusal the resident sees."""
    person, programme, category = plan.person, plan.programme, plan.category
    try:
        try:
            if plan.claim_round is None and connection.vendor == "postgresql":
                claimed = _claim_in_one_statement(plan)
                if claimed is not None:
                    return claimed
                if len(plan.pool_ids) == 1:
                    raise _BudgetExhausted
                raise ledger.SlowPath
            return _claim_transaction(plan, slow=False)
        except ledger.SlowPath:
            return _claim_transaction(plan, slow=True)
    except _RoundFull:
        raise _refuse(person, programme, category, "round_full", "本批次该品类名额已发完", reasons=reasons) from None
    except _BudgetExhausted:
        raise _refuse(
            person, programme, category, "budget_exhausted", "该区本项目补贴资金已用完", reasons=reasons
        ) from None
    except IntegrityError:
        # A concurrent claim of the same person took the live place or the quota slot first.
        raise _already_holding(person, programme, category, "您已持有该品类的资格（重复申领）", reasons) from None


@dataclass(frozen=True)
class _ClaimFacts:
    """What a claim decides with: the claimant, the programme, the person's consuming qualifications
    (programme id, category, slot, status), their history for the rules ((programme code, category) of the
    subsidies received), the categories subsidised in another province this year, and (PostgreSQL) the
    free money of the person's district for the programme."""

    person: Person | None
    programme: Programme | None
    consuming: list[tuple[int, str, int, str]]
    history: list[tuple[str, str]]
    other_region_categories: list[str]
    free_fen: int | None = None
    qualification_id: int | None = None


def _claim_facts(actor: User, programme_code: str, year: int, pending: idempotency.Deferred | None) -> _ClaimFacts:
    """The claim's reads: one statement on PostgreSQL (which also reserves a deferred Idempotency-Key and
    takes the new qualification's id), the same reads one by one elsewhere (the key reserved first)."""
    if connection.vendor == "postgresql":
        if pending is not None:
            return _claim_facts_reserving(actor, programme_code, year, pending)
        return _claim_facts_in_one_statement(actor, programme_code, year)
    if pending is not None:
        pending.reserve()
    person = rows.get_by(Person, "user_id", actor.pk)
    programme = rows.get_by(Programme, "code", programme_code)
    if person is None or programme is None:
        return _ClaimFacts(person, programme, [], [], [])
    consuming, history = history_of(person)
    return _ClaimFacts(
        person,
        programme,
        consuming,
        [(entry["programme"], entry["category"]) for entry in history],
        other_region_categories(person.pk, year),
    )


def _claim_facts_in_one_statement(actor: User, programme_code: str, year: int) -> _ClaimFacts:
    """Person, programme, history, other-province categories and the district's free money in one round
    trip (the four reads of the portable path and the ledger's free money, as subqueries)."""
    with connection.cursor() as cursor:
        cursor.execute(_facts_sql(), [*CONSUMING_PARAMS, year, programme_code, actor.pk])
        row = cursor.fetchone()
    if row is None:
        return _ClaimFacts(None, None, [], [], [])
    return _facts_from_row(row)


def _claim_facts_reserving(actor: User, programme_code: str, year: int, pending: idempotency.Deferred) -> _ClaimFacts:
    """The one read statement that also reserves the request's Idempotency-Key (a data-modifying CTE, in
    autocommit: the pending record commits before the claim writes, as on every route) and takes the id
    the new qualification will have from its sequence, so the response can be written with the claim."""
    reserve_sql, reserve_params = pending.reserve_cte()
    with connection.cursor() as cursor:
        cursor.execute(
            _facts_reserving_sql(reserve_sql, asynchronous=not connection.in_atomic_block),
            [*reserve_params, *CONSUMING_PARAMS, year, actor.pk, programme_code],
        )
        row = cursor.fetchone()
    *facts_row, reserved_id, qualification_id = row
    pending.reserved(reserved_id)  # raises Answered when the key was already used
    if facts_row[0] is None:
        return _ClaimFacts(None, None, [], [], [])
    facts = _facts_from_row(facts_row)
    return _ClaimFacts(
        facts.person,
        facts.programme,
        facts.consuming,
        facts.history,
        facts.other_region_categories,
        facts.free_fen,
        qualification_id,
    )


def _facts_from_row(row: Sequence[Any]) -> _ClaimFacts:
    person_width = len(Person._meta.concrete_fields)
    programme_width = len(Programme._meta.concrete_fields)
    person = rows.from_row(Person, row[:person_width])
    programme_values = row[person_width : person_width + programme_width]
    programme = rows.from_row(Programme, programme_values) if programme_values[0] is not None else None
    found, elsewhere, free = row[person_width + programme_width :]
    if isinstance(found, str):
        found = json.loads(found)
    consuming = [(p, c, slot, status) for p, c, slot, status, _ in found or []]
    history = [(code, c) for _, c, _, status, code in found or [] if status != Qualification.Status.ISSUED]
    return _ClaimFacts(person, programme, consuming, history, list(elsewhere or []), int(free))


def _facts_columns() -> str:
    return (
        f"{rows.select_columns(Person, 'me')}, {rows.select_columns(Programme, 'prog')}, "  # noqa: S608
        "(SELECT json_agg(json_build_array(q.programme_id, q.category, q.slot, q.status, p.code)) "
        "FROM subsidies_qualification q JOIN policy_programme p ON p.id = q.programme_id "
        f"WHERE q.person_id = me.id AND {CONSUMING_SQL}), "
        "(SELECT array_agg(e.category) FROM subsidies_externalsubsidy e WHERE e.person_id = me.id AND e.year = %s), "
        f"{ledger.free_money_sql('prog.id', 'me.district_id')}"
    )


@functools.cache
def _facts_sql() -> str:
    """The claim's reads as one statement, built once (the models' columns are known by then)."""
    return (
        f"SELECT {_facts_columns()} "  # noqa: S608
        "FROM accounts_person me LEFT JOIN policy_programme prog ON prog.code = %s WHERE me.user_id = %s"
    )


@functools.cache
def _facts_reserving_sql(reserve: str, *, asynchronous: bool) -> str:
    """The claim's reads with the key's reservation and the next qualification id: one row even without a
    profile, so the reservation's outcome always comes back. ``asynchronous`` (only when the statement is
    its own transaction) commits the reservation without waiting for its WAL flush: every later write
    that answers the key (the claim's statement, a refusal, the middleware's update) commits
    synchronously, and its flush covers the reservation written before it, so no answered key can lose its
    record; a crash before that loses only a reservation whose request died with it. That halves the
    PostgreSQL CPU of this statement's commit (no flush by the backend)."""
    sequence = connection.ops.quote_name(f"{Qualification._meta.db_table}_id_seq")
    commit = "set_config('synchronous_commit', 'off', true)" if asynchronous else "1"
    return (
        f"WITH {reserve} SELECT {_facts_columns()}, (SELECT id FROM reserved), "  # noqa: S608
        f"nextval('{sequence}'::regclass) "
        f"FROM (SELECT {commit}) AS one LEFT JOIN accounts_person me ON me.user_id = %s "
        "LEFT JOIN policy_programme prog ON prog.code = %s"
    )


@dataclass(frozen=True)
class _ClaimPlan:
    person: Person
    programme: Programme
    category: str
    district: str
    claim_round: ClaimRound | None
    slot: int
    amount: int
    pool_ids: list[int]
    start: int
    rule_version: str
    now: datetime.datetime
    actor: User
    qualification_id: int | None = None
    pending: idempotency.Deferred | None = None
    respond: Callable[[Qualification], HttpResponse] | None = None


def _claim_transaction(plan: _ClaimPlan, *, slow: bool) -> Qualification:
    """Round slot, budget hold, qualification and audit row in one short transaction.

    The fast path is two guarded updates and two inserts. The slow path first queues on the programme
    row, then locks round and budget slices in primary-key order, so slow paths never deadlock each other
    and fast paths (which hold at most one slice of each and wait for nothing else) never block them long.
    """
    with transaction.atomic(durable=True):
        if slow:
            ledger.lock_programme(plan.programme.pk)
        round_slice = (
            _take_round_slot(plan.claim_round, plan.category, plan.start, slow=slow) if plan.claim_round else None
        )
        if round_slice is False:
            raise _RoundFull
        pool_id = ledger.hold(plan.pool_ids, plan.start, plan.amount, slow=slow)
        if pool_id is None:
            raise _BudgetExhausted
        qualification = rows.insert(_new_qualification(plan, pool_id=pool_id, round_slice=round_slice or None))
        audit.record(
            actor=plan.actor,
            action="subsidies.qualification.claim",
            target=qualification,
            after=_audit_after(plan, pool_id),
            district_code=plan.district,
        )
    return qualification


def _claim_in_one_statement(plan: _ClaimPlan) -> Qualification | None:
    """The fast path on PostgreSQL without a round: the hold on the claimant's own slice, the qualification
    and its audit row in one statement (``ledger.hold_with``), a transaction of its own; None when the slice
    had not enough (nothing is written then)."""
    qualification = _new_qualification(plan, pool_id=plan.pool_ids[plan.start], round_slice=None)
    # With a deferred Idempotency-Key the id is known before the write (taken by the read), so the response
    # is rendered first and stored by the same statement; the statement writes all of it or none.
    answering = plan.pending is not None and plan.respond is not None and plan.qualification_id is not None
    if answering:
        qualification.pk = plan.qualification_id
    insert_qualification, qualification_params = rows.insert_select(
        qualification, "held", {"pool_id": "held.id"}, with_pk=answering
    )
    entry = audit.entry(
        actor=plan.actor,
        action="subsidies.qualification.claim",
        target=qualification,
        after=_audit_after(plan, qualification.pool_id),
        district_code=plan.district,
    )
    insert_audit, audit_params = rows.insert_select(entry, "qualification", {"object_id": "qualification.id::text"})
    answer = ""
    answer_params: list[Any] = []
    response = None
    if answering:
        assert plan.pending is not None
        assert plan.respond is not None
        qualification._state.adding = False
        qualification._state.db = connection.alias
        response = plan.respond(qualification)
        answer, answer_params = plan.pending.answer_cte(response, "qualification")
        answer = ", " + answer
    then = (
        f"qualification AS ({insert_qualification} RETURNING id), audit AS ({insert_audit}){answer} "  # noqa: S608
        "SELECT id FROM qualification"
    )
    params = [*qualification_params, *audit_params, *answer_params]
    if connection.in_atomic_block:
        # Inside a test's transaction (or a caller's, which durable refuses, as on the portable path).
        with transaction.atomic(durable=True):
            row = ledger.hold_with(qualification.pool_id, plan.amount, then, params)
    else:
        # Autocommit: the one statement is the transaction (no BEGIN and COMMIT round trips).
        row = ledger.hold_with(qualification.pool_id, plan.amount, then, params)
    if row is None:
        return None
    if response is not None:
        assert plan.pending is not None
        plan.pending.answered(response)
    qualification.pk = row[0]
    qualification._state.adding = False
    qualification._state.db = connection.alias
    return qualification


def _new_qualification(plan: _ClaimPlan, *, pool_id: int, round_slice: int | None) -> Qualification:
    """The qualification a claim issues, not yet written."""
    return Qualification(
        code=codes.new_code(),
        person=plan.person,
        programme=plan.programme,
        category=plan.category,
        district_id=plan.district,
        pool_id=pool_id,
        round=plan.claim_round,
        round_slice_id=round_slice,
        slot=plan.slot,
        held_fen=plan.amount,
        rule_version=plan.rule_version,
        issued_at=plan.now,
        expires_at=qualification_expiry(
            issued_at=plan.now,
            valid_days=plan.programme.qualification_valid_days,
            programme_ends_on=plan.programme.ends_on,
            zone=timezone.get_default_timezone(),
        ),
    )


def _audit_after(plan: _ClaimPlan, pool_id: int) -> dict[str, Any]:
    return {
        "programme": plan.programme.code,
        "category": plan.category,
        "held_fen": plan.amount,
        "pool": pool_id,
        "slot": plan.slot,
    }


class _RoundFull(Exception):
    pass


class _BudgetExhausted(Exception):
    pass


def _close(qualification: Qualification, *, to: str, actor: Any, action: str, now: datetime.datetime) -> bool:
    """Move an issued qualification to ``to`` and release its hold, exactly once; False if someone else won."""
    with transaction.atomic(durable=True):
        moved = Qualification.objects.filter(pk=qualification.pk, status=Qualification.Status.ISSUED).update(
            status=to, closed_at=now
        )
        if not moved:
            return False
        ledger.release(qualification.pool_id, qualification.held_fen)
        audit.record(
            actor=actor,
            action=action,
            target=qualification,
            before={"status": Qualification.Status.ISSUED},
            after={"status": to, "released_fen": qualification.held_fen},
            district_code=qualification.district_id,
        )
    qualification.status = to
    return True


def cancel_qualification(*, actor: User, qualification: Qualification) -> Qualification:
    """A resident gives back an unused qualification; its hold returns to the budget and the quota frees."""
    require_in_person(actor)
    if qualification.person.user_id != actor.pk:
        raise ForbiddenError("只能取消自己的资格", code="not_owner")
    if not _close(
        qualification,
        to=Qualification.Status.CANCELLED,
        actor=actor,
        action="subsidies.qualification.cancel",
        now=timezone.now(),
    ):
        raise ConflictError("该资格已使用、过期或已取消", code="qualification_not_issued")
    return qualification


def expire_due(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Expire unused qualifications past their validity, or whose programme has ended, and release their
    holds; returns how many.

    A qualification's validity already stops at its programme's last day; the second condition catches
    programmes whose end was brought forward after the qualification was issued.
    Each qualification is its own transaction and a compare-and-set, so a run killed half-way and run
    again expires the rest, and a redemption racing an expiry leaves exactly one of them done.
    """
    now = now or timezone.now()
    # Ended programmes are few and read on their own, so the condition stays on the qualification's own
    # columns: an OR across a join would stop the (status, expires_at) index from driving the scan.
    ended = list(Programme.objects.filter(ends_on__lt=timezone.localdate(now)).values_list("pk", flat=True))
    due = list(
        Qualification.objects.filter(status=Qualification.Status.ISSUED)
        .filter(Q(expires_at__lte=now) | Q(programme_id__in=ended))
        .order_by("expires_at", "pk")
        .only("pk", "pool_id", "held_fen", "district_id")[:batch]
    )
    expired = 0
    for qualification in due:
        if _close(
            qualification,
            to=Qualification.Status.EXPIRED,
            actor="expiry-job",
            action="subsidies.qualification.expire",
            now=now,
        ):
            expired += 1
    return expired


# ---------------------------------------------------------------- merchants: stores and enrolment


# A round slice's limit is a 32-bit column.
ROUND_LIMIT_MAX = 2**31 - 1


def create_round(
    *,
    actor: User,
    programme: Programme,
    name: str,
    opens_at: datetime.datetime,
    closes_at: datetime.datetime | None,
    limits: dict[str, int],
) -> ClaimRound:
    """Schedule a round of qualifications with a count limit per category (split into slices like budgets)."""
    # A round is a programme setting: like its rules and budget, only staff whose scope covers the whole
    # (city-wide) programme may schedule one; a district reviewer's scope is its district.
    if not can_change_settings(actor, programme):
        raise ForbiddenError("只有全市范围的审核人员或系统管理员可以设置发放批次", code="round_forbidden")
    allowed = programme_categories(programme)
    errors = []
    if not 2 <= len(name.strip()) <= 60:
        errors.append(FieldError("name", "invalid_name", "批次名称应为2至60个字符"))
    if closes_at is not None and closes_at <= opens_at:
        errors.append(FieldError("closes_at", "invalid_range", "结束时间应晚于开始时间"))
    for category, limit in limits.items():
        if category not in allowed:
            errors.append(FieldError(f"limits.{category}", "unknown_category", "该项目不补贴此品类"))
        elif isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= ROUND_LIMIT_MAX:
            errors.append(FieldError(f"limits.{category}", "invalid_limit", "名额应为不超过2147483647的非负整数"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    slices = max(1, programme.slices_per_district)
    with transaction.atomic(durable=True):
        claim_round = ClaimRound.objects.create(
            programme=programme, name=name.strip(), opens_at=opens_at, closes_at=closes_at
        )
        for category, limit in sorted(limits.items()):
            share, remainder = divmod(limit, slices)
            RoundSlice.objects.bulk_create(
                RoundSlice(
                    round=claim_round, category=category, slice=index, limit=share + (1 if index < remainder else 0)
                )
                for index in range(slices)
            )
        audit.record(
            actor=actor,
            action="subsidies.round.create",
            target=claim_round,
            after={"programme": programme.code, "opens_at": opens_at, "closes_at": closes_at, "limits": limits},
        )
    memo.forget("rounds", programme.pk)
    return claim_round


def clear_caches() -> None:
    """Forget cached rule sets, slice ids and rounds (tests, and after changes in the same process)."""
    memo.clear()
