"""The budget ledger: the only code that moves money in budget pools.

Every app that holds or pays subsidy (consumer goods, cars, dismantling, interest subsidies, top-ups)
calls these verbs inside its own transaction and never writes ``policy_budgetpool`` itself. A pool slice
always satisfies ``allocated = held + spent + available`` (a database constraint), and every movement is
one guarded update that changes exactly one row or fails, so no race can overspend a slice. Which slice
to use and how allocations are shared out are pure rules in ``policy.domain.ledger``.

    pool = ledger.hold(ledger.slice_ids(programme.pk, district), start, amount)   # reserve
    ledger.spend(pool, held=amount, spent=subsidy)    # use part of a hold, release the rest
    ledger.release(pool, amount)                      # give a hold back
    ledger.give_back(pool, amount)                    # a return or a rejection un-spends money
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import F

from huanxin.core import memo
from huanxin.policy.domain.ledger import plan_hold, share_allocation
from huanxin.policy.models import BudgetPool, Programme


class SlowPath(Exception):
    """The claimant's own slice could not serve the hold: roll back and retry with ``slow=True``."""


class BelowCommitted(Exception):
    """A district's new allocation is below what its slices hold and have spent."""

    def __init__(self, district: str, committed_fen: int) -> None:
        super().__init__(district)
        self.district = district
        self.committed_fen = committed_fen


class LedgerInconsistent(RuntimeError):
    """A movement found less money than the caller's records say it put there: a bug, never user input."""


def slice_ids(programme_id: int, district_id: str) -> list[int]:
    """Primary keys of a district's budget slices, in slice order (cached briefly; slices are only added)."""
    return memo.cached(
        "pools",
        (programme_id, district_id),
        30.0,
        lambda: list(
            BudgetPool.objects.filter(programme_id=programme_id, district_id=district_id)
            .order_by("slice")
            .values_list("pk", flat=True)
        ),
    )


def hold(pool_ids: Sequence[int], start: int, amount: int, *, slow: bool = False) -> int | None:
    """Move ``amount`` from available to held on one slice of a district; the slice's id, or None when the
    district has not enough free money.

    The fast path is one guarded update on slice ``start`` (the whole budget step of almost every claim).
    It never tries a second slice in the same transaction: an UPDATE that waited for a row keeps that row
    locked even when its condition then fails (PostgreSQL locks before it re-checks), so trying slices in
    turn while holding such locks can deadlock. It raises ``SlowPath`` instead; the caller rolls back and
    calls again with ``slow=True``, which queues on the programme row (``lock_programme``, called first by
    the caller), locks the district's slices in id order and follows ``plan_hold``.
    """
    if not slow:
        if _hold_on(pool_ids[start], amount):
            return pool_ids[start]
        if len(pool_ids) > 1:
            raise SlowPath
        return None
    plan = plan_hold(pool_ids, _lock_slices(pool_ids), start, amount)
    if plan.target is None:
        return None
    for move in plan.moves:
        # Allocation moves with the money, so each slice keeps allocated = held + spent + available.
        BudgetPool.objects.filter(pk=move.donor).update(
            allocated_fen=F("allocated_fen") - move.amount, available_fen=F("available_fen") - move.amount
        )
        BudgetPool.objects.filter(pk=move.target).update(
            allocated_fen=F("allocated_fen") + move.amount, available_fen=F("available_fen") + move.amount
        )
    _hold_on(plan.target, amount)
    return plan.target


def hold_with(pool_id: int, amount: int, then: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Hold ``amount`` on one slice and write what the hold is for in the same statement (PostgreSQL): one
    round trip, and all or nothing even in autocommit. ``then`` completes a ``WITH held AS (<the guarded
    update>)`` statement: more CTEs and a final SELECT, reading ``held`` (one row, ``held.id`` the slice,
    when the hold was made; none when the slice had not enough, so nothing selected from it is written).
    The statement's first row, or None when nothing came back. Like the fast path of ``hold``, it tries
    one slice only: a caller that gets nothing falls back to ``hold(..., slow=True)``."""
    with connection.cursor() as cursor:
        cursor.execute(
            # The caller's SQL is built from its models, never from input; every value is bound.
            "WITH held AS (UPDATE policy_budgetpool SET available_fen = available_fen - %s, held_fen = held_fen + %s "  # noqa: S608
            f"WHERE id = %s AND available_fen >= %s RETURNING id), {then}",
            [amount, amount, pool_id, amount, *params],
        )
        row = cursor.fetchone()
    return tuple(row) if row is not None else None


def free_money_sql(programme: str, district: str) -> str:
    """A scalar subquery of the free money of a district's slices (0 without slices), for a caller's read
    that decides with it: ``programme`` and ``district`` are SQL expressions of that read. Read without
    locks, so it only ever refuses early what ``hold`` would refuse a moment later (money is only freed by
    later releases)."""
    return (
        "(SELECT COALESCE(SUM(pool.available_fen), 0) FROM policy_budgetpool pool "  # noqa: S608 - column expressions
        f"WHERE pool.programme_id = {programme} AND pool.district_id = {district})"
    )


def lock_programme(programme_id: int) -> None:
    """Slow paths queue on the programme row. FOR NO KEY UPDATE does not conflict with the KEY SHARE lock
    that inserting a row referencing the programme takes, so fast holds never wait for it. (SQLite has no
    row locks: its IMMEDIATE transactions already run one writer at a time.)"""
    if connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM policy_programme WHERE id = %s FOR NO KEY UPDATE", [programme_id])


def release(pool_id: int, amount: int) -> None:
    """Give a hold back to the slice's available money."""
    if not BudgetPool.objects.filter(pk=pool_id, held_fen__gte=amount).update(
        held_fen=F("held_fen") - amount, available_fen=F("available_fen") + amount
    ):
        raise LedgerInconsistent(f"budget slice {pool_id} holds less than {amount}")


def spend(pool_id: int, *, held: int, spent: int) -> None:
    """Turn a hold into spend: ``spent`` of it is used, the rest goes back to available."""
    if not BudgetPool.objects.filter(pk=pool_id, held_fen__gte=held).update(
        held_fen=F("held_fen") - held, spent_fen=F("spent_fen") + spent, available_fen=F("available_fen") + held - spent
    ):
        raise LedgerInconsistent(f"budget slice {pool_id} holds less than {held}")


def give_back(pool_id: int, amount: int) -> None:
    """Spent money comes back to the slice's available money (a return, a rejected sale)."""
    if not BudgetPool.objects.filter(pk=pool_id, spent_fen__gte=amount).update(
        spent_fen=F("spent_fen") - amount, available_fen=F("available_fen") + amount
    ):
        raise LedgerInconsistent(f"budget slice {pool_id} spent less than {amount}")


def allocate(programme: Programme, allocations: Mapping[str, int]) -> dict[str, int]:
    """Set each district's allocation, spread over its slices by ``share_allocation``; districts with
    slices but not named get 0. Locks the programme, then its pools in id order, so two budget edits queue
    and never deadlock. Returns the allocations before; raises ``BelowCommitted`` for the first district
    whose new allocation is below what it holds and has spent (the caller's transaction then rolls back)."""
    locked = Programme.objects.select_for_update().filter(pk=programme.pk).get()
    slices = max(1, locked.slices_per_district)
    pools = {
        (p.district_id, p.slice): p
        for p in BudgetPool.objects.select_for_update().filter(programme=programme).order_by("pk")
    }
    before: dict[str, int] = {}
    for pool in pools.values():
        before[pool.district_id] = before.get(pool.district_id, 0) + pool.allocated_fen
    for code in sorted(set(allocations) | {district for district, _ in pools}):
        existing = {index: p for (district, index), p in pools.items() if district == code}
        shares = share_allocation(
            allocations.get(code, 0), {index: p.held_fen + p.spent_fen for index, p in existing.items()}, slices
        )
        if shares is None:
            raise BelowCommitted(code, sum(p.held_fen + p.spent_fen for p in existing.values()))
        for share in shares:
            current = existing.get(share.slice)
            if current is None:
                if share.free:
                    BudgetPool.objects.create(
                        programme=programme,
                        district_id=code,
                        slice=share.slice,
                        allocated_fen=share.free,
                        available_fen=share.free,
                    )
                continue
            BudgetPool.objects.filter(pk=current.pk).update(allocated_fen=share.allocated, available_fen=share.free)
    return before


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


def _lock_slices(pool_ids: Sequence[int]) -> dict[int, int]:
    """Lock a district's slices in primary-key order (so slow paths never deadlock each other) and read
    their available money."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    placeholders = ", ".join(["%s"] * len(pool_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, available_fen FROM policy_budgetpool WHERE id IN ({placeholders}) ORDER BY id{lock}",  # noqa: S608
            list(pool_ids),
        )
        return dict(cursor.fetchall())
