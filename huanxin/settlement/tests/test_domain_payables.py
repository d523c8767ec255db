"""Settlement arithmetic without a database: a period's payables and frozen totals, carried balances, and
the bank-result checks."""

from dataclasses import dataclass

import pytest

from huanxin.settlement.domain.payables import (
    BankResultRow,
    LineState,
    PayableRow,
    check_bank_rows,
    payable_amounts,
    settle_period,
)


@dataclass(frozen=True)
class Sales:
    merchant_id: int
    row_count: int
    total_fen: int
    top_id: int = 0
    held_count: int = 0
    held_fen: int = 0


@dataclass(frozen=True)
class Rows:
    merchant_id: int
    row_count: int
    total_fen: int
    top_id: int = 0


def test_a_negative_balance_is_carried_out_not_paid():
    assert payable_amounts(redemptions_fen=10_000, clawbacks_fen=25_000, carried_in_fen=0).carried_out_fen == -15_000
    assert payable_amounts(redemptions_fen=10_000, clawbacks_fen=0, carried_in_fen=-4_000).amount_fen == 6_000
    with pytest.raises(ValueError, match="only a negative balance"):
        payable_amounts(redemptions_fen=0, clawbacks_fen=0, carried_in_fen=1)


def test_a_period_pays_sales_and_released_holds_less_clawbacks_and_carries_in_merchant_order():
    settlement = settle_period(
        sales=[Sales(7, 2, 90_000, top_id=12, held_count=1, held_fen=30_000), Sales(3, 1, 10_000, top_id=11)],
        released=[Rows(7, 1, 20_000)],
        clawbacks=[Rows(3, 1, 25_000, top_id=40)],
        open_carries={7: -5_000, 9: -1_000},
    )
    assert settlement.rows == [
        PayableRow(3, 1, 10_000, 0, 0, 1, 25_000, 0, 0, -15_000),
        PayableRow(7, 2, 90_000, 1, 20_000, 0, 0, -5_000, 105_000, 0),
    ]
    assert [row.is_due for row in settlement.rows] == [False, True]
    totals = settlement.totals
    assert (totals.redemption_count, totals.redemptions_fen, totals.withheld_count, totals.withheld_fen) == (
        3,
        100_000,
        1,
        30_000,
    )
    assert (totals.released_count, totals.released_fen, totals.clawback_count, totals.clawbacks_fen) == (
        1,
        20_000,
        1,
        25_000,
    )
    assert (totals.max_redemption_id, totals.max_clawback_id) == (12, 40)


def test_a_merchant_whose_only_sales_were_held_gets_no_payable_but_the_period_counts_them_withheld():
    settlement = settle_period(
        sales=[Sales(5, 0, 0, held_count=2, held_fen=60_000)], released=[], clawbacks=[], open_carries={5: -100}
    )
    assert settlement.rows == []
    assert (settlement.totals.withheld_count, settlement.totals.withheld_fen) == (2, 60_000)
    assert settlement.totals.max_redemption_id == 0


def test_a_wrong_amount_in_a_bank_result_names_the_expected_amount_in_yuan():
    row = BankResultRow(2, "PB-1", "paid", 123_456_700, "B1", "")
    [verdict] = check_bank_rows([row], {"PB-1": LineState(123_456_789, "pending")})
    assert (verdict.code, verdict.message) == ("amount_mismatch", "金额与支付明细不符（应为 1234567.89 元）")
