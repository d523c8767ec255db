"""The write side of consumer trade-in: enrolment, claims with budget holds, redemption, returns, expiry.

Money moves only with guarded single-statement updates on a budget slice, and every state change is a
compare-and-set on the row's status, so that concurrent requests cannot both win. Each service owns one
short transaction and writes its audit row in it.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from huanxin.accounts.models import Organisation, OrganisationKind, Person, Role, User
from huanxin.core import audit, crypto, rows
from huanxin.core.domain.identifiers import IdentifierError, age_on, resident_id_birth_date, validate_mobile
from huanxin.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import districts_for, has_role, organisations_for
from huanxin.policy.domain import InputError, RuleSet
from huanxin.policy.models import BudgetPool, Programme, RuleSetVersion
from huanxin.policy.queries import can_change_settings
from huanxin.policy.services import compiled, published_version
from huanxin.subsidies.domain import codes
from huanxin.subsidies.domain.claims import (
    ReturnQuote,
    ReturnRefused,
    claim_reasons,
    free_slot,
    partial_return,
    qualification_expiry,
    slice_order,
    whole_return,
)
from huanxin.subsidies.domain.pricing import HOLD, REFUSE, PriceCheck, check_price, price_problem
from huanxin.subsidies.domain.serials import SerialError, normalise_serial
from huanxin.subsidies.models import (
    ClaimRefusal,
    ClaimRound,
    Clawback,
    Enrolment,
    Qualification,
    Redemption,
    RedemptionHold,
    Return,
    RoundSlice,
    Store,
    TakeBack,
)
from huanxin.subsidies.queries import MERCHANT_ROLES

T = TypeVar("T")


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


# ---------------------------------------------------------------- short-lived process caches

_caches: dict[str, dict[Any, tuple[float, Any]]] = {}


def _cached(name: str, key: Any, ttl: float, load: Callable[[], T]) -> T:
    """``load()``'s value for ``key``, loaded again at most every ``ttl`` seconds per process: the claim
    path reads rule sets, slice ids and rounds on every call, and they change rarely."""
    entries = _caches.setdefault(name, {})
    now = time.monotonic()
    entry = entries.get(key)
    if entry is None or now - entry[0] > ttl:
        entry = entries[key] = (now, load())
    value: T = entry[1]
    return value


def _current_rules(programme: Programme) -> tuple[RuleSetVersion, RuleSet]:
    """The published rule set, looked up at most every few seconds per process."""
    version = _cached("rules", programme.code, 10.0, lambda: published_version(programme.code))
    if version is None:
        raise ClaimRefused("该项目尚未发布规则", code="no_rules")
    return version, compiled(version.content)


def _pool_ids(programme_id: int, district_id: str) -> list[int]:
    """Primary keys of a district's budget slices, in slice order (cached briefly; slices are only added)."""
    return _cached(
        "pools",
        (programme_id, district_id),
        30.0,
        lambda: list(
            BudgetPool.objects.filter(programme_id=programme_id, district_id=district_id)
            .order_by("slice")
            .values_list("pk", flat=True)
        ),
    )


def clear_caches() -> None:
    """Forget cached rule sets, slice ids and rounds (tests, and after changes in the same process)."""
    _caches.clear()


# ---------------------------------------------------------------- budget movements


class _SlowPath(Exception):
    """The claimant's own slice could not serve the claim: retry in the ordered, locking slow path."""


def _hold_fast(pool_ids: Sequence[int], start: int, amount: int) -> int | None:
    """One guarded update on the claimant's own slice: the whole budget step of almost every claim.

    It never tries a second slice in the same transaction: an UPDATE that waited for a row keeps that row
    locked even when its condition then fails (PostgreSQL locks before it re-checks), so trying slices in
    turn while holding such locks can deadlock. The caller rolls back and takes the slow path instead.
    """
    pk = pool_ids[start]
    moved = _hold_on(pk, amount)
    if moved:
        return pk
    if len(pool_ids) > 1:
        raise _SlowPath
    return None


def _hold_on(pool_id: int, amount: int) -> bool:
    """The guarded update that moves ``amount`` from available to held on one slice, if it is there.
    Written out rather than built by the ORM: it runs on every claim (see core.rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE policy_budgetpool SET available_fen = available_fen - %s, held_fen = held_fen + %s "
            "WHERE id = %s AND available_fen >= %s",
            [amount, amount, pool_id, amount],
        )
        return bool(cursor.rowcount)


def _lock_programme(programme_id: int) -> None:
    """Slow paths queue on the programme row. FOR NO KEY UPDATE does not conflict with the KEY SHARE lock
    that inserting a qualification takes on its programme, so fast claims never wait for it. (SQLite has
    no row locks: its IMMEDIATE transactions already run one writer at a time.)"""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM policy_programme WHERE id = %s FOR NO KEY UPDATE", [programme_id])


def _lock_slices(pool_ids: Sequence[int]) -> dict[int, int]:
    """Lock a district's slices in primary-key order (so slow paths never deadlock each other) and read
    their available money. Written out, like the other statements of a claim (see core.rows)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    placeholders = ", ".join(["%s"] * len(pool_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, available_fen FROM policy_budgetpool WHERE id IN ({placeholders}) ORDER BY id{lock}",  # noqa: S608
            list(pool_ids),
        )
        return dict(cursor.fetchall())


def _hold_slow(pool_ids: Sequence[int], start: int, amount: int) -> int | None:
    """Lock the district's slices in primary-key order and hold on the claimant's slice, another slice, or
    — when the district has enough in total but no slice has enough on its own — on the fullest slice
    after moving free money into it. Only claims near a slice's exhaustion come here."""
    available = _lock_slices(pool_ids)
    for index in slice_order(start, len(pool_ids)):
        free = available.get(pool_ids[index])
        if free is not None and free >= amount:
            target = pool_ids[index]
            break
    else:
        if sum(available.values()) < amount:
            return None
        target = max(sorted(available), key=lambda pk: available[pk])
        needed = amount - available[target]
        for donor in sorted(available):
            if needed <= 0:
                break
            if donor == target or available[donor] == 0:
                continue
            moved = min(needed, available[donor])
            # Allocation moves with the money, so each slice keeps allocated = held + spent + available.
            BudgetPool.objects.filter(pk=donor).update(
                allocated_fen=F("allocated_fen") - moved, available_fen=F("available_fen") - moved
            )
            BudgetPool.objects.filter(pk=target).update(
                allocated_fen=F("allocated_fen") + moved, available_fen=F("available_fen") + moved
            )
            needed -= moved
    _hold_on(target, amount)
    return target


def _release(pool_id: int, amount: int) -> None:
    """Give a hold back to the slice's available money."""
    if not BudgetPool.objects.filter(pk=pool_id, held_fen__gte=amount).update(
        held_fen=F("held_fen") - amount, available_fen=F("available_fen") + amount
    ):
        raise RuntimeError(f"budget slice {pool_id} holds less than {amount}: the pool ledger is inconsistent")


def _spend(pool_id: int, held: int, spent: int) -> None:
    """Turn a hold into spend: ``spent`` of it is used, the rest goes back to available."""
    if not BudgetPool.objects.filter(pk=pool_id, held_fen__gte=held).update(
        held_fen=F("held_fen") - held, spent_fen=F("spent_fen") + spent, available_fen=F("available_fen") + held - spent
    ):
        raise RuntimeError(f"budget slice {pool_id} holds less than {held}: the pool ledger is inconsistent")


def _unspend(pool_id: int, amount: int) -> None:
    """A return gives spent money back to the slice."""
    if not BudgetPool.objects.filter(pk=pool_id, spent_fen__gte=amount).update(
        spent_fen=F("spent_fen") - amount, available_fen=F("available_fen") + amount
    ):
        raise RuntimeError(f"budget slice {pool_id} spent less than {amount}: the pool ledger is inconsistent")


# ---------------------------------------------------------------- claims


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
    return _cached(
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
    return _cached(
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
            raise _SlowPath
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
    rows.insert(
        ClaimRefusal(
            person=person,
            programme=programme,
            category=category[:30],
            code=code,
            message=message[:300],
            reasons=reasons or [],
        )
    )
    return ClaimRefused(message, code=code, reasons=reasons, held_qualification_id=held_qualification_id)


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


def _history(person: Person) -> tuple[list[tuple[int, str, int, str]], list[dict[str, str]]]:
    """The person's consuming qualifications (programme, category, slot, status) and the engine's history."""
    # The qualifications that use up a quota: the condition of the subsidies_qual_quota_slot constraint.
    # Written out, not built by the ORM: this read is on every claim (see core.rows).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT q.programme_id, q.category, q.slot, q.status, p.code FROM subsidies_qualification q "
            "JOIN policy_programme p ON p.id = q.programme_id WHERE q.person_id = %s "
            "AND (q.status IN (%s, %s) OR (q.status = %s AND q.quota_released = %s))",
            [
                person.pk,
                Qualification.Status.ISSUED.value,
                Qualification.Status.REDEEMED.value,
                Qualification.Status.RETURNED.value,
                False,
            ],
        )
        found = cursor.fetchall()
    consuming = [(p, c, s, st) for p, c, s, st, _ in found]
    history = [{"programme": code, "category": c} for _, c, _, st, code in found if st != Qualification.Status.ISSUED]
    return consuming, history


def _other_region_categories(person_id: int, year: int) -> list[str]:
    """Categories the person was subsidised for in another province in ``year``, which the rules exclude.
    Written out, not built by the ORM: the claim path reads it on every call (see core.rows)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT category FROM subsidies_externalsubsidy WHERE person_id = %s AND year = %s", [person_id, year]
        )
        return [category for (category,) in cursor.fetchall()]


def claim_qualification(
    *,
    actor: User,
    programme_code: str,
    category: str,
    now: datetime.datetime | None = None,
) -> Qualification:
    """A verified resident of the city's minimum claim age claims a qualification for (programme, category):
    checks the rules through the engine, takes a quota slot, counts against the open round and holds the
    category's maximum subsidy in a slice of the budget of the resident's registered district — all or
    nothing. The district is never the claimant's choice: it is the one registered on their profile."""
    now = now or timezone.now()
    person = rows.get_by(Person, "user_id", actor.pk)
    if person is None or not person.is_verified:
        raise ForbiddenError("请先完成实名认证", code="identity_required")
    programme = rows.get_by(Programme, "code", programme_code)
    if programme is None:
        raise NotFoundError("补贴项目不存在", code="unknown_programme")
    if not _programme_open(programme, now):
        raise _refuse(person, programme, category, "programme_not_open", "该项目当前不在申领期内")
    minimum_age = _below_minimum_age(person, timezone.localdate(now))
    if minimum_age is not None:
        raise _refuse(
            person, programme, category, "under_minimum_age", f"申领补贴须年满{minimum_age}周岁（按身份证出生日期计算）"
        )
    version, rule_set = _current_rules(programme)
    if category not in rule_set.categories:
        raise ValidationFailed.for_field("category", "unknown_category", "该项目不补贴此品类")
    district_code = person.district_id
    if not district_code:
        raise ForbiddenError("请先登记居住区：补贴资格计入登记居住区的预算", code="district_required")
    claim_round, round_problem = _round_for(programme, now)
    if round_problem:
        raise _refuse(person, programme, category, "round_not_open", round_problem)

    consuming, history = _history(person)
    elsewhere = _other_region_categories(person.pk, timezone.localdate(now).year)
    probe = {
        "category": category,
        "price_fen": 100,
        "energy_grade": 1,
        "water_grade": 1,
        "history": history,
        "other_region_categories": elsewhere,
    }
    reasons = [r.__dict__ for r in claim_reasons(rule_set.evaluate(probe).to_dict()["reasons"])]
    failed = [r for r in reasons if not r["passed"]]
    if failed:
        raise _refuse(person, programme, category, f"rule_{failed[0]['code']}", failed[0]["message"], reasons=reasons)
    mine = [(slot, status) for p, c, slot, status in consuming if p == programme.pk and c == category]
    if any(status == Qualification.Status.ISSUED for _, status in mine):
        raise _already_holding(person, programme, category, "您已持有该品类的未使用资格", reasons)
    slot = free_slot((s for s, _ in mine), rule_set.quota(category))
    if slot is None:
        raise _refuse(person, programme, category, "quota_used", "您在该项目该品类的名额已用完", reasons=reasons)

    amount = rule_set.max_amount_fen(category)
    pool_ids = _pool_ids(programme.pk, district_code)
    if not pool_ids:
        raise _refuse(person, programme, category, "no_budget", "该区暂未安排本项目预算", reasons=reasons)
    start = person.pk % len(pool_ids)
    plan = _ClaimPlan(
        person=person,
        programme=programme,
        category=category,
        district=district_code,
        claim_round=claim_round,
        slot=slot,
        amount=amount,
        pool_ids=pool_ids,
        start=start,
        rule_version=version.label,
        now=now,
        actor=actor,
    )
    try:
        try:
            return _claim_transaction(plan, slow=False)
        except _SlowPath:
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


def _claim_transaction(plan: _ClaimPlan, *, slow: bool) -> Qualification:
    """Round slot, budget hold, qualification and audit row in one short transaction.

    The fast path is two guarded updates and two inserts. The slow path first queues on the programme
    row, then locks round and budget slices in primary-key order, so slow paths never deadlock each other
    and fast paths (which hold at most one slice of each and wait for nothing else) never block them long.
    """
    with transaction.atomic(durable=True):
        if slow:
            _lock_programme(plan.programme.pk)
        round_slice = (
            _take_round_slot(plan.claim_round, plan.category, plan.start, slow=slow) if plan.claim_round else None
        )
        if round_slice is False:
            raise _RoundFull
        pool_id = (_hold_slow if slow else _hold_fast)(plan.pool_ids, plan.start, plan.amount)
        if pool_id is None:
            raise _BudgetExhausted
        qualification = rows.insert(
            Qualification(
                code=codes.new_code(),
                person=plan.person,
                programme=plan.programme,
                category=plan.category,
                district_id=plan.district,
                pool_id=pool_id,
                round=plan.claim_round,
                round_slice_id=round_slice or None,
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
        )
        audit.record(
            actor=plan.actor,
            action="subsidies.qualification.claim",
            target=qualification,
            after={
                "programme": plan.programme.code,
                "category": plan.category,
                "held_fen": plan.amount,
                "pool": pool_id,
                "slot": plan.slot,
            },
            district_code=plan.district,
        )
    return qualification


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
        _release(qualification.pool_id, qualification.held_fen)
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


def _programme_categories(programme: Programme) -> set[str]:
    """The categories the programme's published rule set subsidises (none before a version is published).
    Read without the claim path's cache: these are rare actions, and a version published a moment ago counts."""
    version = published_version(programme.code)
    return set(compiled(version.content).categories) if version else set()


def _member_of(actor: User, organisation: Organisation, roles: Sequence[str] = MERCHANT_ROLES) -> bool:
    return organisation.pk in organisations_for(actor, *roles)


def create_store(*, actor: User, merchant: Organisation, name: str, address: str, district: str) -> Store:
    """A merchant manager registers a store."""
    if merchant.kind != OrganisationKind.MERCHANT or not _member_of(actor, merchant, (Role.MERCHANT_MANAGER,)):
        raise ForbiddenError("只有商户负责人可以登记门店", code="manager_required")
    errors = []
    if not 2 <= len(name.strip()) <= 100:
        errors.append(FieldError("name", "invalid_name", "门店名称应为2至100个字符"))
    if not 4 <= len(address.strip()) <= 200:
        errors.append(FieldError("address", "invalid_address", "请填写门店地址"))
    from huanxin.accounts.models import District

    if not District.objects.filter(code=district).exists():
        errors.append(FieldError("district", "unknown_district", "所选行政区不存在"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    try:
        with transaction.atomic(durable=True):
            store = Store.objects.create(
                organisation=merchant, name=name.strip(), address=address.strip(), district_id=district
            )
            audit.record(
                actor=actor,
                action="subsidies.store.create",
                target=store,
                after={"name": store.name, "district": district},
                organisation_id=merchant.pk,
                district_code=district,
            )
    except IntegrityError:
        raise ValidationFailed.for_field("name", "store_taken", "已有同名门店") from None
    return store


@dataclass(frozen=True)
class EnrolmentInput:
    categories: list[str]
    store_ids: list[int]
    bank_name: str
    account_name: str
    bank_account: str
    contact_name: str
    contact_phone: str


def apply_enrolment(*, actor: User, merchant: Organisation, programme: Programme, data: EnrolmentInput) -> Enrolment:
    """A merchant manager applies to join a programme with stores, categories, bank account and contact."""
    if merchant.kind != OrganisationKind.MERCHANT or not _member_of(actor, merchant, (Role.MERCHANT_MANAGER,)):
        raise ForbiddenError("只有商户负责人可以报名", code="manager_required")
    if programme.status != Programme.Status.OPEN:
        raise ValidationFailed.for_field("programme", "programme_not_open", "该项目不在报名期")
    allowed = _programme_categories(programme)
    errors: list[FieldError] = []
    if not data.categories or any(c not in allowed for c in data.categories):
        errors.append(FieldError("categories", "invalid_categories", "请选择本项目补贴的品类"))
    stores = list(Store.objects.filter(pk__in=data.store_ids, organisation=merchant, is_active=True))
    if not stores or len(stores) != len(set(data.store_ids)):
        errors.append(FieldError("store_ids", "invalid_stores", "请选择本商户的营业门店"))
    account = "".join(data.bank_account.split())
    if not (account.isdigit() and 8 <= len(account) <= 32):
        errors.append(FieldError("bank_account", "invalid_bank_account", "银行账号应为8至32位数字"))
    if not data.bank_name.strip():
        errors.append(FieldError("bank_name", "required", "请填写开户银行"))
    if not data.account_name.strip():
        errors.append(FieldError("account_name", "required", "请填写账户名称"))
    if not data.contact_name.strip():
        errors.append(FieldError("contact_name", "required", "请填写联系人"))
    phone = ""
    try:
        phone = validate_mobile(data.contact_phone)
    except IdentifierError as exc:
        errors.append(FieldError("contact_phone", exc.code, exc.message))
    if errors:
        raise ValidationFailed.from_errors(errors)
    sealed_account = crypto.seal(account, purpose="bank_account")
    sealed_phone = crypto.seal(phone, purpose="phone")
    try:
        with transaction.atomic(durable=True):
            enrolment = Enrolment.objects.create(
                organisation=merchant,
                programme=programme,
                categories=sorted(set(data.categories)),
                bank_name=data.bank_name.strip(),
                account_name=data.account_name.strip(),
                bank_account_cipher=sealed_account.cipher,
                bank_account_digest=sealed_account.digest,
                bank_account_masked=sealed_account.masked,
                contact_name=data.contact_name.strip(),
                contact_phone_cipher=sealed_phone.cipher,
                contact_phone_masked=sealed_phone.masked,
                submitted_by=actor,
            )
            enrolment.stores.set(stores)
            audit.record(
                actor=actor,
                action="subsidies.enrolment.apply",
                target=enrolment,
                after={
                    "programme": programme.code,
                    "categories": enrolment.categories,
                    "stores": [s.pk for s in stores],
                    "bank_account": sealed_account.masked,
                },
                organisation_id=merchant.pk,
                district_code=merchant.district_id,
            )
    except IntegrityError:
        raise ConflictError("该商户已报名此项目", code="already_enrolled") from None
    return enrolment


_ENROLMENT_MOVES = {
    "approve": (Enrolment.Status.PENDING, Enrolment.Status.APPROVED, "subsidies.enrolment.approve"),
    "refuse": (Enrolment.Status.PENDING, Enrolment.Status.REFUSED, "subsidies.enrolment.refuse"),
    "suspend": (Enrolment.Status.APPROVED, Enrolment.Status.SUSPENDED, "subsidies.enrolment.suspend"),
    "resume": (Enrolment.Status.SUSPENDED, Enrolment.Status.APPROVED, "subsidies.enrolment.resume"),
}


def decide_enrolment(*, actor: User, enrolment: Enrolment, action: str, note: str = "") -> Enrolment:
    """The district commerce bureau approves, refuses, suspends or resumes an enrolment, with reasons."""
    if action not in _ENROLMENT_MOVES:
        raise ValidationFailed.for_field("action", "invalid_choice", "操作无效")
    districts = districts_for(actor, Role.REVIEWER)
    if not has_role(actor, Role.REVIEWER) or (
        districts is not None and enrolment.organisation.district_id not in districts
    ):
        raise ForbiddenError("只有商户所在区的审核人员可以处理报名", code="reviewer_required")
    if enrolment.submitted_by_id == actor.pk:
        raise ForbiddenError("不能审核自己提交的报名", code="four_eyes")
    if action in {"refuse", "suspend"} and not note.strip():
        raise ValidationFailed.for_field("note", "required", "请填写理由")
    before, after, audit_action = _ENROLMENT_MOVES[action]
    with transaction.atomic(durable=True):
        now = timezone.now()
        if not Enrolment.objects.filter(pk=enrolment.pk, status=before).update(
            status=after, decided_by=actor, decided_at=now, decision_note=note.strip()
        ):
            raise ConflictError("报名当前状态不允许此操作", code="enrolment_state")
        audit.record(
            actor=actor,
            action=audit_action,
            target=enrolment,
            before={"status": before},
            after={"status": after, "note": note.strip()},
            organisation_id=enrolment.organisation_id,
            district_code=enrolment.organisation.district_id,
        )
    enrolment.refresh_from_db()
    return enrolment


# ---------------------------------------------------------------- checkout


@dataclass(frozen=True)
class TakeBackInput:
    category: str
    condition: str
    to_recycler: bool = True
    description: str = ""


def find_qualification(code: str) -> Qualification:
    normalised = codes.normalise(code or "")
    if not codes.is_valid(normalised):
        raise ValidationFailed.for_field("code", "invalid_code", "资格码格式不正确，请核对后重新输入")
    qualification = Qualification.objects.select_related("programme", "person").filter(code=normalised).first()
    if qualification is None:
        raise ValidationFailed.for_field("code", "unknown_code", "资格码不存在")
    return qualification


def _engine_input(qualification: Qualification, product: Any, price_fen: int, on: datetime.date) -> dict[str, Any]:
    _, history = _history(qualification.person)
    elsewhere = _other_region_categories(qualification.person_id, on.year)
    return {
        "category": product.category,
        "price_fen": price_fen,
        "energy_grade": product.energy_grade,
        "water_grade": product.water_grade,
        "purchased_on": on.isoformat(),
        "history": history,
        "other_region_categories": elsewhere,
    }


@dataclass(frozen=True)
class Redeemed:
    """A checkout's sale, and whether this call made it (False when the same sale was resubmitted)."""

    redemption: Redemption
    created: bool


@dataclass(frozen=True)
class Quote:
    """What the till shows before the sale is committed: the subsidy, what the customer pays, and whether
    the merchant's reimbursement will be held for review (with the reason)."""

    qualification: Qualification
    product: Any
    price_fen: int
    subsidy_fen: int
    paid_fen: int
    filed_price_fen: int | None
    hold_reason: str
    hold_message: str
    rule_version: str
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class _Sale:
    """Everything checked before a sale is written; what quote and redeem share."""

    qualification: Qualification
    programme: Programme
    store: Store
    product: Any
    serial: str
    decision: dict[str, Any]
    subsidy_fen: int
    rule_version: str
    filed_price_fen: int | None
    price_check: PriceCheck


def _check_sale(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None,
) -> _Sale | Redemption:
    """Run every check of a sale without writing anything: the existing sale when this one was already
    made (the natural key), else what to write. Raises the first refusal."""
    from huanxin.catalogue.models import ProductModel

    if not _member_of(actor, merchant):
        raise ForbiddenError("只有本商户的收银员可以核销", code="clerk_required")
    qualification = find_qualification(code)
    programme = qualification.programme
    enrolment = Enrolment.objects.filter(organisation=merchant, programme=programme).first()
    if enrolment is None or enrolment.status != Enrolment.Status.APPROVED:
        state = "未报名" if enrolment is None else enrolment.get_status_display()
        raise ForbiddenError(f"本商户在该项目的状态为“{state}”，不能核销", code="merchant_not_enrolled")
    store = enrolment.stores.filter(pk=store_id, is_active=True).first()
    if store is None:
        raise ValidationFailed.for_field("store_id", "store_not_enrolled", "该门店未参加本项目或已停业")
    existing = Redemption.objects.filter(qualification=qualification).first()
    if existing is not None:
        # The natural key: resubmitting the same sale returns it; anything else is a conflict.
        if (
            existing.merchant_id == merchant.pk
            and existing.product_id == product_id
            and existing.price_fen == price_fen
        ):
            return existing
        raise ConflictError("该资格已核销", code="qualification_redeemed")
    now = timezone.now()
    if qualification.status != Qualification.Status.ISSUED:
        raise ConflictError(f"该资格{qualification.get_status_display()}，不能核销", code="qualification_not_issued")
    if qualification.expires_at <= now:
        raise ConflictError("该资格已过有效期", code="qualification_expired")
    errors: list[FieldError] = []
    product = ProductModel.objects.filter(pk=product_id).first()
    if product is None:
        errors.append(FieldError("product_id", "unknown_product", "产品型号不在目录中"))
    elif product.category != qualification.category:
        errors.append(FieldError("product_id", "wrong_category", "产品品类与资格品类不一致"))
    elif product.category not in enrolment.categories:
        errors.append(FieldError("product_id", "category_not_enrolled", "本商户未报名该品类"))
    problem = price_problem(price_fen)
    if problem is not None:
        errors.append(FieldError("price_fen", *problem))
    clean_serial = ""
    try:
        clean_serial = normalise_serial(serial, category=qualification.category)
    except SerialError as exc:
        errors.append(FieldError("serial", exc.code, exc.message))
    if take_back is not None and take_back.condition not in TakeBack.Condition.values:
        errors.append(FieldError("take_back.condition", "invalid_choice", "旧机状况无效"))
    if errors:
        raise ValidationFailed.from_errors(errors)
    assert product is not None
    from huanxin.catalogue.queries import filed_price, price_rule

    today = timezone.localdate(now)
    # Two reads on unique or covering indexes: the city's rule for the category and the merchant's filing.
    rule = price_rule(product.category)
    filing = filed_price(merchant.pk, product.pk, today)
    check = check_price(
        price_fen=price_fen,
        category_label=product.category_name,
        ceiling_fen=rule.ceiling_fen if rule is not None else None,
        filed_price_fen=filing.price_fen if filing is not None else None,
        above_filed_price=rule.above_filed_price if rule is not None else REFUSE,
    )
    if check.outcome == REFUSE:
        raise ValidationFailed.for_field("price_fen", check.code, check.message)
    if Redemption.objects.filter(
        programme=programme, serial=clean_serial, status__in=["completed", "partial"]
    ).exists():
        raise ValidationFailed.for_field("serial", "serial_used", "该序列号/IMEI已享受过本项目补贴")
    current, rule_set = _current_rules(programme)
    try:
        decision = rule_set.evaluate(_engine_input(qualification, product, price_fen, today)).to_dict()
    except InputError as exc:
        raise ValidationFailed.for_field(exc.field, exc.code, str(exc)) from None
    if not decision["eligible"]:
        failed = next(r for r in decision["reasons"] if not r["passed"])
        error = ValidationFailed(
            failed["message"],
            code=f"rule_{failed['code']}",
            errors=[
                FieldError(
                    "product_id" if failed["code"] == "grade" else "price_fen",
                    f"rule_{failed['code']}",
                    failed["message"],
                )
            ],
        )
        raise error
    subsidy = int(decision["amount_fen"])
    # The hold was the maximum under the claim's rule version; a later version may not pay more.
    subsidy = min(subsidy, qualification.held_fen)
    return _Sale(
        qualification=qualification,
        programme=programme,
        store=store,
        product=product,
        serial=clean_serial,
        decision=decision,
        subsidy_fen=subsidy,
        rule_version=current.label,
        filed_price_fen=filing.price_fen if filing is not None else None,
        price_check=check,
    )


def quote_redemption(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None = None,
) -> Quote:
    """What the sale would be, for the till to show before the clerk commits it: the same checks as
    ``redeem_or_replay`` and nothing written. A sale already made is quoted as it was made."""
    sale = _check_sale(
        actor=actor,
        merchant=merchant,
        store_id=store_id,
        code=code,
        product_id=product_id,
        serial=serial,
        price_fen=price_fen,
        take_back=take_back,
    )
    if isinstance(sale, Redemption):
        hold = RedemptionHold.objects.filter(redemption=sale).first()
        return Quote(
            qualification=sale.qualification,
            product=sale.product,
            price_fen=sale.price_fen,
            subsidy_fen=sale.subsidy_fen,
            paid_fen=sale.paid_fen,
            filed_price_fen=sale.decision.get("filed_price_fen"),
            hold_reason=hold.reason if hold else "",
            hold_message=hold.reasons[0]["message"] if hold and hold.reasons else "",
            rule_version=sale.rule_version,
            reasons=sale.decision.get("reasons", []),
        )
    return Quote(
        qualification=sale.qualification,
        product=sale.product,
        price_fen=price_fen,
        subsidy_fen=sale.subsidy_fen,
        paid_fen=price_fen - sale.subsidy_fen,
        filed_price_fen=sale.filed_price_fen,
        hold_reason=sale.price_check.code if sale.price_check.outcome == HOLD else "",
        hold_message=sale.price_check.message if sale.price_check.outcome == HOLD else "",
        rule_version=sale.rule_version,
        reasons=sale.decision["reasons"],
    )


def redeem(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None = None,
    confirmed_subsidy_fen: int | None = None,
) -> Redemption:
    """A clerk applies a qualification at checkout (see redeem_or_replay); resubmitting returns the sale."""
    return redeem_or_replay(
        actor=actor,
        merchant=merchant,
        store_id=store_id,
        code=code,
        product_id=product_id,
        serial=serial,
        price_fen=price_fen,
        take_back=take_back,
        confirmed_subsidy_fen=confirmed_subsidy_fen,
    ).redemption


def redeem_or_replay(
    *,
    actor: User,
    merchant: Organisation,
    store_id: int,
    code: str,
    product_id: int,
    serial: str,
    price_fen: int,
    take_back: TakeBackInput | None = None,
    confirmed_subsidy_fen: int | None = None,
) -> Redeemed:
    """A clerk applies a qualification at checkout: the price is checked against the city's ceiling and the
    filed price, the engine computes the exact subsidy, the hold becomes spend and the rest is released, the
    old item taken back is recorded — in one transaction. A sale the price checks hold goes through with
    its reimbursement withheld for review. ``confirmed_subsidy_fen`` is the subsidy the till showed the
    customer (the till and the API pass it); a different figure now refuses the sale, so nobody is charged
    what they did not confirm. The same sale resubmitted is returned as it is, and the result says so (the
    API answers 200, not 201)."""
    sale = _check_sale(
        actor=actor,
        merchant=merchant,
        store_id=store_id,
        code=code,
        product_id=product_id,
        serial=serial,
        price_fen=price_fen,
        take_back=take_back,
    )
    if isinstance(sale, Redemption):
        return Redeemed(sale, created=False)
    if confirmed_subsidy_fen is not None and confirmed_subsidy_fen != sale.subsidy_fen:
        raise ConflictError(
            f"补贴金额已变为 {sale.subsidy_fen / 100:,.2f} 元，与确认的金额不同，请重新确认", code="quote_changed"
        )
    qualification = sale.qualification
    store = sale.store
    subsidy = sale.subsidy_fen
    held = sale.price_check.outcome == HOLD
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            if not Qualification.objects.filter(
                pk=qualification.pk, status=Qualification.Status.ISSUED, expires_at__gt=now
            ).update(status=Qualification.Status.REDEEMED, closed_at=now):
                raise _Lost
            _spend(qualification.pool_id, qualification.held_fen, subsidy)
            redemption = Redemption.objects.create(
                qualification=qualification,
                programme=sale.programme,
                merchant=merchant,
                store=store,
                clerk=actor,
                product=sale.product,
                category=sale.product.category,
                serial=sale.serial,
                price_fen=price_fen,
                subsidy_fen=subsidy,
                rule_version=sale.rule_version,
                decision={**sale.decision, "filed_price_fen": sale.filed_price_fen},
                redeemed_at=now,
                withheld=held,
            )
            if take_back is not None:
                TakeBack.objects.create(
                    redemption=redemption,
                    category=take_back.category[:30],
                    condition=take_back.condition,
                    to_recycler=take_back.to_recycler,
                    description=take_back.description[:200],
                )
            audit.record(
                actor=actor,
                action="subsidies.redemption.create",
                target=redemption,
                before={"qualification": qualification.code, "status": "issued", "held_fen": qualification.held_fen},
                after={
                    "status": "redeemed",
                    "subsidy_fen": subsidy,
                    "price_fen": price_fen,
                    "serial": sale.serial,
                    "store": store.pk,
                    "withheld": held,
                },
                organisation_id=merchant.pk,
                district_code=store.district_id,
            )
            if held:
                _place_hold(
                    redemption=redemption,
                    actor=actor,
                    reason=sale.price_check.code,
                    message=sale.price_check.message,
                    details={"price_fen": price_fen, "filed_price_fen": sale.filed_price_fen},
                    now=now,
                )
    except _Lost:
        raise ConflictError("该资格刚刚被使用或已过期", code="qualification_not_issued") from None
    except IntegrityError:
        raise ValidationFailed.for_field("serial", "serial_used", "该序列号/IMEI已享受过本项目补贴") from None
    return Redeemed(redemption, created=True)


# ---------------------------------------------------------------- holds (暂扣) and their review


def _place_hold(
    *,
    redemption: Redemption,
    actor: User,
    reason: str,
    message: str,
    details: dict[str, Any],
    now: datetime.datetime,
) -> RedemptionHold:
    """Hold a sale being written (inside its transaction, so it has no hold yet) for review. Every risk rule
    that holds a sale at checkout comes through here; ``reasons`` has room for several."""
    entry = {"code": reason, "message": message, **details}
    hold = RedemptionHold.objects.create(
        redemption=redemption,
        programme_id=redemption.programme_id,
        merchant_id=redemption.merchant_id,
        district_id=redemption.store.district_id,
        reason=reason,
        reasons=[entry],
        placed_by=actor,
        placed_at=now,
    )
    audit.record(
        actor=actor,
        action="subsidies.redemption.hold",
        target=hold,
        before=None,
        after={
            "redemption": redemption.pk,
            "status": hold.status,
            "reason": reason,
            "subsidy_fen": redemption.subsidy_fen,
        },
        organisation_id=redemption.merchant_id,
        district_code=hold.district_id,
    )
    return hold


def _authorise_decision(actor: User, hold: RedemptionHold) -> None:
    """A reviewer of the hold's district (or the whole city) who is not of the merchant that made the sale."""
    districts = districts_for(actor, Role.REVIEWER)
    if not has_role(actor, Role.REVIEWER) or (districts is not None and hold.district_id not in districts):
        raise ForbiddenError("只有该区的审核人员可以复核暂扣的核销", code="reviewer_required")
    if hold.merchant_id in organisations_for(actor, *MERCHANT_ROLES) or hold.placed_by_id == actor.pk:
        raise ForbiddenError("不能复核本商户的核销", code="own_sale")


def clear_hold(*, actor: User, hold: RedemptionHold, note: str = "") -> RedemptionHold:
    """A reviewer clears a held sale: the subsidy still standing (less what returns reversed while it was
    held) is paid in the settlement period in which the decision falls."""
    return _decide_hold(actor=actor, hold=hold, to=RedemptionHold.Status.CLEARED, note=note)


def reject_hold(*, actor: User, hold: RedemptionHold, note: str) -> RedemptionHold:
    """A reviewer rejects a held sale: the subsidy still standing goes back to the budget and the merchant
    is never paid it (it was withheld), so nothing has to be clawed back. The customer keeps the discount."""
    return _decide_hold(actor=actor, hold=hold, to=RedemptionHold.Status.REJECTED, note=note)


def _decide_hold(*, actor: User, hold: RedemptionHold, to: str, note: str) -> RedemptionHold:
    _authorise_decision(actor, hold)
    note = " ".join((note or "").split())
    if to == RedemptionHold.Status.REJECTED and len(note) < 2:
        raise ValidationFailed.for_field("note", "required", "驳回时请填写复核意见")
    if len(note) > 200:
        raise ValidationFailed.for_field("note", "too_long", "复核意见不能超过200个字符")
    if hold.status != RedemptionHold.Status.HELD:
        raise ConflictError(f"该笔已{hold.get_status_display()}，不能重复复核", code="hold_decided")
    redemption = hold.redemption
    now = timezone.now()
    with transaction.atomic(durable=True):
        # Touch the sale's row first: a return of the same sale updates that row too, so the two run one
        # after the other, and whichever comes second sees what the first did (record_return reads the
        # hold's status after its own update of the row; this reads the returned subsidy after this one).
        Redemption.objects.filter(pk=redemption.pk).update(returned_fen=F("returned_fen"))
        subsidy, returned = Redemption.objects.filter(pk=redemption.pk).values_list("subsidy_fen", "returned_fen").get()
        standing = subsidy - returned
        released = standing if to == RedemptionHold.Status.CLEARED else 0
        if not RedemptionHold.objects.filter(pk=hold.pk, status=RedemptionHold.Status.HELD).update(
            status=to, decided_by=actor, decided_at=now, note=note, released_fen=released
        ):
            raise ConflictError("该笔刚刚被他人复核，请刷新后查看", code="hold_decided")
        if to == RedemptionHold.Status.REJECTED and standing:
            Redemption.objects.filter(pk=redemption.pk).update(returned_fen=subsidy)
            _unspend(redemption.qualification.pool_id, standing)
        audit.record(
            actor=actor,
            action=f"subsidies.hold.{'clear' if to == RedemptionHold.Status.CLEARED else 'reject'}",
            target=hold,
            before={"status": RedemptionHold.Status.HELD},
            after={
                "status": to,
                "note": note,
                "released_fen": released,
                "returned_to_budget_fen": standing - released,
                "redemption": redemption.pk,
            },
            organisation_id=hold.merchant_id,
            district_code=hold.district_id,
        )
    hold.refresh_from_db()
    return hold


class _Lost(Exception):
    pass


def _subsidy_at(redemption: Redemption, price_fen: int) -> int:
    """The subsidy the rule version that priced the sale gives on ``price_fen`` (0 when not eligible)."""
    version = RuleSetVersion.objects.get(
        programme=redemption.programme, version=int(redemption.rule_version.rsplit("@", 1)[1])
    )
    payload = _engine_input(
        redemption.qualification, redemption.product, price_fen, timezone.localdate(redemption.redeemed_at)
    )
    # The sale itself is in the person's history now; it must not count against its own quota.
    payload["history"] = [
        h
        for h in payload["history"]
        if not (h["programme"] == redemption.programme.code and h["category"] == redemption.category)
    ]
    decision = compiled(version.content).evaluate(payload).to_dict()
    return int(decision["amount_fen"]) if decision["eligible"] else 0


def quote_return(*, actor: User, redemption: Redemption, kind: str, new_price_fen: int | None = None) -> ReturnQuote:
    """What a return would do, without doing it: for a whole-order return everything the customer still
    pays comes back to them and the whole remaining subsidy to the budget; for a partial return the rule
    version that priced the sale recomputes the subsidy on the new final price. Nothing is written."""
    if not _member_of(actor, redemption.merchant):
        raise ForbiddenError("只有本商户人员可以办理退货", code="clerk_required")
    if redemption.status == Redemption.Status.RETURNED:
        raise ConflictError("该笔已整单退货，不能再次退货", code="already_returned")
    if kind not in Return.Kind.values:
        raise ValidationFailed.for_field("kind", "invalid_choice", "请选择整单退货或部分退货")
    # What the budget still carries for the sale (a rejected hold or an earlier return reversed the rest);
    # the customer's own figures never depend on it: they keep the discount they got at the till.
    subsidy_now = redemption.subsidy_fen - redemption.returned_fen
    if kind == Return.Kind.FULL:
        refunded = redemption.returns.aggregate(total=Sum("refund_fen"))["total"] or 0
        return whole_return(
            still_paid_fen=redemption.paid_fen - refunded,
            subsidy_now_fen=subsidy_now,
            quota_restored_on_return=redemption.programme.quota_restored_on_return,
        )
    if redemption.status == Redemption.Status.PARTIALLY_RETURNED:
        raise ConflictError("该笔已部分退货，如需再退请办理整单退货", code="already_partially_returned")
    if new_price_fen is None:
        raise ValidationFailed.for_field("new_price_fen", "required", "部分退货请填写新的最终成交价")
    if isinstance(new_price_fen, bool) or not isinstance(new_price_fen, int) or new_price_fen <= 0:
        raise ValidationFailed.for_field("new_price_fen", "invalid_price", "新的最终成交价应为大于0的整数（分）")
    if new_price_fen >= redemption.price_fen:
        raise ValidationFailed.for_field("new_price_fen", "price_not_lower", "新的最终成交价应低于原成交价")
    try:
        # A partial return is always the sale's first return: the customer still pays price less subsidy.
        return partial_return(
            price_fen=redemption.price_fen,
            subsidy_fen=redemption.subsidy_fen,
            subsidy_now_fen=subsidy_now,
            new_price_fen=new_price_fen,
            subsidy_at_new_price=_subsidy_at(redemption, new_price_fen),
        )
    except ReturnRefused as exc:
        raise ValidationFailed.for_field("new_price_fen", exc.code, exc.message) from None


def record_return(
    *, actor: User, redemption: Redemption, kind: str, reason: str, new_price_fen: int | None = None
) -> Return:
    """Record a whole-order or partial return with the figures ``quote_return`` shows: the customer's refund,
    the subsidy reversed to the budget and owed back by the merchant (a clawback netted in settlement), and
    for a whole-order return the quota given back when the programme restores it. A sale is returned whole
    once; a partial return happens once and may be followed by a whole-order return."""
    errors: list[FieldError] = []
    clean_reason = reason.strip() if isinstance(reason, str) else ""
    if not 2 <= len(clean_reason) <= 200:
        errors.append(FieldError("reason", "required", "请填写退货原因（2至200字）"))
    try:
        quote = quote_return(actor=actor, redemption=redemption, kind=kind, new_price_fen=new_price_fen)
    except ValidationFailed as exc:
        raise ValidationFailed.from_errors([*exc.errors, *errors]) from None
    if errors:
        raise ValidationFailed.from_errors(errors)
    merchant = redemption.merchant
    qualification = redemption.qualification
    now = timezone.now()
    new_status = Redemption.Status.RETURNED if quote.kind == Return.Kind.FULL else Redemption.Status.PARTIALLY_RETURNED
    try:
        with transaction.atomic(durable=True):
            # Compare-and-set on what the quote was computed from: a concurrent return makes this one lose.
            if not Redemption.objects.filter(
                pk=redemption.pk, returned_fen=redemption.returned_fen, status=redemption.status
            ).update(returned_fen=F("returned_fen") + quote.clawback_fen, status=new_status):
                raise _Lost
            if quote.clawback_fen:
                _unspend(qualification.pool_id, quote.clawback_fen)
            record = Return.objects.create(
                redemption=redemption,
                kind=quote.kind,
                new_price_fen=quote.new_price_fen or None,
                new_subsidy_fen=quote.new_subsidy_fen,
                refund_fen=quote.refund_fen,
                reversed_fen=quote.clawback_fen,
                quota_released=quote.quota_released,
                reason=clean_reason,
                recorded_by=actor,
                recorded_at=now,
            )
            # The merchant is owed back only what it was (or will be) paid: a sale still held has paid it
            # nothing, and its reviewer's decision releases the subsidy left after this return.
            still_held = (
                redemption.withheld
                and RedemptionHold.objects.filter(redemption=redemption, status=RedemptionHold.Status.HELD).exists()
            )
            if quote.clawback_fen and not still_held:
                Clawback.objects.create(
                    merchant=merchant,
                    programme=redemption.programme,
                    return_record=record,
                    amount_fen=quote.clawback_fen,
                )
            if quote.kind == Return.Kind.FULL:
                Qualification.objects.filter(pk=qualification.pk).update(
                    status=Qualification.Status.RETURNED, quota_released=quote.quota_released
                )
            audit.record(
                actor=actor,
                action="subsidies.redemption.return",
                target=redemption,
                before={"status": redemption.status, "returned_fen": redemption.returned_fen},
                after={
                    "status": new_status,
                    "kind": quote.kind,
                    "returned_fen": redemption.returned_fen + quote.clawback_fen,
                    "new_price_fen": quote.new_price_fen,
                    "new_subsidy_fen": quote.new_subsidy_fen,
                    "refund_fen": quote.refund_fen,
                    "reversed_fen": quote.clawback_fen,
                    "quota_released": quote.quota_released,
                    "clawback_fen": 0 if still_held else quote.clawback_fen,
                },
                organisation_id=merchant.pk,
                district_code=redemption.store.district_id,
            )
    except (_Lost, IntegrityError):
        raise ConflictError("该笔退货正在被他人处理，请刷新后重试", code="return_conflict") from None
    redemption.refresh_from_db()
    return record


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
    allowed = _programme_categories(programme)
    errors = []
    if not 2 <= len(name.strip()) <= 60:
        errors.append(FieldError("name", "invalid_name", "批次名称应为2至60个字符"))
    if closes_at is not None and closes_at <= opens_at:
        errors.append(FieldError("closes_at", "invalid_range", "结束时间应晚于开始时间"))
    for category, limit in limits.items():
        if category not in allowed:
            errors.append(FieldError(f"limits.{category}", "unknown_category", "该项目不补贴此品类"))
        elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            errors.append(FieldError(f"limits.{category}", "invalid_limit", "名额应为非负整数"))
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
    _caches.get("rounds", {}).pop(programme.pk, None)
    return claim_round
