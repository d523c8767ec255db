"""Pure rules of the budget ledger: which slice a hold goes to, how free money moves between slices, and
how a district's allocation is shared out over its slices. Over plain ints; the ledger applies them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def slice_order(start: int, count: int) -> list[int]:
    """Try slices starting at the claimant's own, then the others in turn (fall-through before refusal)."""
    return [(start + offset) % count for offset in range(count)] if count else []


@dataclass(frozen=True)
class Move:
    """Free money moved from one slice of a district to another (allocation moves with it)."""

    donor: int
    target: int
    amount: int


@dataclass(frozen=True)
class HoldPlan:
    """Where a hold goes (``target`` is None when the district has not enough free money in total) and the
    moves of free money into that slice that must come first."""

    target: int | None
    moves: tuple[Move, ...] = ()


def plan_hold(pool_ids: Sequence[int], available: Mapping[int, int], start: int, amount: int) -> HoldPlan:
    """The claimant's slice if it has enough, else the next one in ``slice_order`` that has; when none has
    enough on its own but the district has in total, the fullest slice (lowest id on a tie) after moving
    free money into it from the others in id order."""
    for index in slice_order(start, len(pool_ids)):
        free = available.get(pool_ids[index])
        if free is not None and free >= amount:
            return HoldPlan(pool_ids[index])
    if sum(available.values()) < amount:
        return HoldPlan(None)
    target = max(sorted(available), key=lambda pk: available[pk])
    needed = amount - available[target]
    moves: list[Move] = []
    for donor in sorted(available):
        if needed <= 0:
            break
        if donor == target or available[donor] == 0:
            continue
        moved = min(needed, available[donor])
        moves.append(Move(donor, target, moved))
        needed -= moved
    return HoldPlan(target, tuple(moves))


@dataclass(frozen=True)
class SliceShare:
    """A slice's place after a district's allocation changes: its new free money; ``allocated`` is its
    committed money (held + spent) plus that."""

    slice: int
    committed: int
    free: int

    @property
    def allocated(self) -> int:
        return self.committed + self.free


def share_allocation(amount: int, committed_by_slice: Mapping[int, int], slices: int) -> list[SliceShare] | None:
    """Spread a district's new allocation over its slices, never below what a slice holds or has spent:
    free money is shared out evenly and each slice keeps its committed money on top of its share. None when
    ``amount`` is below the district's committed total."""
    committed = sum(committed_by_slice.values())
    if amount < committed:
        return None
    count = max(slices, len(committed_by_slice))
    share, remainder = divmod(amount - committed, count)
    return [
        SliceShare(index, committed_by_slice.get(index, 0), share + (1 if index < remainder else 0))
        for index in range(count)
    ]
