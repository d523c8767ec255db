"""Pure rules of the budget ledger: slice order, where a hold goes, how an allocation is shared out."""

from __future__ import annotations

from huanxin.policy.domain.ledger import HoldPlan, Move, SliceShare, plan_hold, share_allocation, slice_order


def test_slices_are_tried_from_the_claimants_own_then_in_turn() -> None:
    assert slice_order(2, 4) == [2, 3, 0, 1]
    assert slice_order(0, 1) == [0]


def test_no_slices_means_nothing_to_try() -> None:
    assert slice_order(0, 0) == []


def test_hold_goes_to_the_claimants_own_slice_when_it_has_enough() -> None:
    assert plan_hold([11, 12, 13], {11: 100, 12: 500, 13: 0}, 1, 300) == HoldPlan(12)


def test_hold_falls_through_to_the_next_slice_in_order_that_has_enough() -> None:
    # Own slice 13 is short; the next in turn is 11 (wrapping round), not the richer 12.
    assert plan_hold([11, 12, 13], {11: 300, 12: 900, 13: 100}, 2, 300) == HoldPlan(11)


def test_hold_is_refused_when_the_district_has_not_enough_in_total() -> None:
    assert plan_hold([11, 12], {11: 100, 12: 199}, 0, 300) == HoldPlan(None)


def test_when_no_slice_has_enough_money_moves_into_the_fullest_in_id_order() -> None:
    plan = plan_hold([11, 12, 13], {11: 100, 12: 150, 13: 100}, 0, 300)

    assert plan == HoldPlan(12, (Move(donor=11, target=12, amount=100), Move(donor=13, target=12, amount=50)))


def test_the_fullest_slice_on_a_tie_is_the_lowest_id_and_empty_slices_give_nothing() -> None:
    plan = plan_hold([21, 22, 23], {21: 0, 22: 150, 23: 150}, 0, 300)

    assert plan == HoldPlan(22, (Move(donor=23, target=22, amount=150),))


def test_a_slice_unknown_to_the_read_money_is_skipped() -> None:
    assert plan_hold([11, 12], {12: 300}, 0, 300) == HoldPlan(12)


def test_allocation_is_shared_evenly_with_the_remainder_to_the_first_slices() -> None:
    shares = share_allocation(1_003, {}, 4)

    assert [(s.slice, s.free, s.allocated) for s in shares or []] == [
        (0, 251, 251),
        (1, 251, 251),
        (2, 251, 251),
        (3, 250, 250),
    ]


def test_each_slice_keeps_its_committed_money_on_top_of_its_share() -> None:
    shares = share_allocation(1_000, {0: 300, 1: 100}, 2)

    assert shares == [SliceShare(0, 300, 300), SliceShare(1, 100, 300)]
    assert sum(share.allocated for share in shares or []) == 1_000


def test_an_allocation_below_what_is_committed_is_refused() -> None:
    assert share_allocation(399, {0: 300, 1: 100}, 2) is None


def test_existing_slices_beyond_the_configured_count_still_get_a_share() -> None:
    shares = share_allocation(600, {0: 0, 1: 0, 2: 0}, 2)

    assert [share.free for share in shares or []] == [200, 200, 200]
