"""Held sales in settlement: withheld from their own period, paid in the period in which a reviewer clears
them, never paid when a reviewer rejects them; returns of a held sale owe nothing back."""

import datetime

import pytest

from huanxin.catalogue.models import ProductModel
from huanxin.core.errors import ValidationFailed
from huanxin.settlement import services
from huanxin.settlement.domain.payables import period_bounds
from huanxin.settlement.models import Payable, SettlementPeriod
from huanxin.settlement.queries import reconciliation_rows, unmatched_items
from huanxin.settlement.tests.conftest import DAY1, DAY2, after, sell
from huanxin.settlement.tests.test_services_settlement import period_of, periods
from huanxin.subsidies import services as subsidies
from huanxin.subsidies.models import Clawback, Redemption, RedemptionHold
from huanxin.subsidies.tests.test_services_claims import pool_totals

pytestmark = pytest.mark.django_db
DAY3 = DAY2 + datetime.timedelta(days=1)


@pytest.fixture
def scene(scene):
    from huanxin.policy.models import Programme

    Programme.objects.filter(pk=scene.programme.pk).update(starts_on=DAY1)
    scene.programme.refresh_from_db()
    return scene


def sell_held(scene, *, price_fen, on, serial):
    """A sale of a model the merchant never filed a price for: accepted and held."""
    unfiled, _ = ProductModel.objects.get_or_create(
        brand="美的", model_number="BCD-UNFILED", defaults={"category": "fridge", "energy_grade": 1}
    )
    fridge = scene.fridge
    scene.fridge = unfiled
    try:
        redemption = sell(scene, price_fen=price_fen, on=on, serial=serial)
    finally:
        scene.fridge = fridge
    assert redemption.withheld
    return redemption


def decided_on(hold, day):
    """Move a decision to noon of ``day``, as ``sell`` moves sales."""
    noon = period_bounds(day)[0] + datetime.timedelta(hours=12)
    RedemptionHold.objects.filter(pk=hold.pk).update(decided_at=noon)


def close(scene, day):
    services.close_period(period=period_of(scene, day), now=after(day))


def payable(scene, day):
    return Payable.objects.filter(period=period_of(scene, day), recipient=scene.personas.merchant).first()


def test_a_held_sale_is_not_in_its_periods_payable(scene):
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-OK")
    sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY1)
    close(scene, DAY1)
    day1 = payable(scene, DAY1)
    assert (day1.redemption_count, day1.redemptions_fen, day1.released_fen, day1.amount_fen) == (1, 60_000, 0, 60_000)
    period = period_of(scene, DAY1)
    assert (period.withheld_count, period.withheld_fen, period.redemptions_fen) == (1, 74_985, 60_000)
    # Reconciliation ties up: the held sale is shown as held, not as missing from the payable.
    assert [item.kind for item in unmatched_items(period)] == ["payable"]  # only: not yet in a batch
    statuses = {row.serial: row.payable_status for row in reconciliation_rows(period)}
    assert statuses == {"SN-OK": "待支付", "SN-HELD": "暂扣待复核"}


def test_a_held_sale_alone_makes_no_payable(scene):
    sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY1)
    close(scene, DAY1)
    assert payable(scene, DAY1) is None


def test_a_cleared_sale_is_paid_in_the_period_it_was_cleared(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY3)
    close(scene, DAY1)
    hold = subsidies.clear_hold(actor=personas.district_reviewer, hold=held.hold, note="核实无误")
    decided_on(hold, DAY2)
    close(scene, DAY2)
    day2 = payable(scene, DAY2)
    assert (day2.redemptions_fen, day2.released_count, day2.released_fen, day2.clawbacks_fen, day2.amount_fen) == (
        0,
        1,
        74_985,
        0,
        74_985,
    )
    assert day2.status == "queued"
    assert period_of(scene, DAY2).released_fen == 74_985
    # Paid once: the next period does not take it in again.
    sell(scene, price_fen=400_000, on=DAY3, serial="SN-LATER")
    close(scene, DAY3)
    assert (payable(scene, DAY3).released_fen, payable(scene, DAY3).amount_fen) == (0, 60_000)


def test_a_cleared_sale_goes_into_the_next_payment_batch(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY2)
    close(scene, DAY1)
    with pytest.raises(ValidationFailed):  # nothing is due while the only sale is held
        services.prepare_batch(actor=personas.finance, programme=scene.programme)
    hold = subsidies.clear_hold(actor=personas.reviewer, hold=held.hold)
    decided_on(hold, DAY2)
    close(scene, DAY2)
    batch = services.prepare_batch(actor=personas.finance, programme=scene.programme)
    assert (batch.line_count, batch.total_fen) == (1, 74_985)


def test_a_rejected_sale_is_never_paid_and_nothing_is_clawed_back(scene, personas):
    sell(scene, price_fen=400_000, on=DAY2, serial="SN-OK")
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY2)
    close(scene, DAY1)
    before = pool_totals(scene.programme)
    hold = subsidies.reject_hold(actor=personas.reviewer, hold=held.hold, note="价格虚高")
    decided_on(hold, DAY2)
    close(scene, DAY2)
    day2 = payable(scene, DAY2)
    # The merchant was never paid the rejected sale: nothing released, nothing to claw back.
    assert (day2.redemptions_fen, day2.released_fen, day2.clawback_count, day2.clawbacks_fen, day2.amount_fen) == (
        60_000,
        0,
        0,
        0,
        60_000,
    )
    assert not Clawback.objects.exists()
    assert (hold.released_fen, Redemption.objects.get(pk=held.pk).returned_fen) == (0, 74_985)
    assert pool_totals(scene.programme)["spent"] == before["spent"] - 74_985


def test_a_held_sale_returned_whole_owes_nothing_and_its_clearing_pays_nothing(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    sell(scene, price_fen=400_000, on=DAY2, serial="SN-OK")
    periods(scene, DAY2)
    close(scene, DAY1)
    record = subsidies.record_return(actor=personas.clerk, redemption=held, kind="full", reason="顾客退货")
    assert (record.refund_fen, record.reversed_fen) == (424_915, 74_985)
    # The merchant was paid nothing for the held sale, so it owes nothing back.
    assert not Clawback.objects.exists()
    hold = subsidies.clear_hold(actor=personas.reviewer, hold=RedemptionHold.objects.get(pk=held.hold.pk))
    decided_on(hold, DAY2)
    close(scene, DAY2)
    day2 = payable(scene, DAY2)
    assert (hold.released_fen, day2.released_fen, day2.clawbacks_fen, day2.amount_fen) == (0, 0, 0, 60_000)


def test_a_held_sale_partly_returned_then_cleared_pays_the_subsidy_left(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY2)
    close(scene, DAY1)
    record = subsidies.record_return(
        actor=personas.clerk, redemption=held, kind="partial", new_price_fen=400_000, reason="顾客退配件"
    )
    assert (record.new_subsidy_fen, record.reversed_fen) == (60_000, 14_985)
    assert not Clawback.objects.exists()
    hold = subsidies.clear_hold(actor=personas.reviewer, hold=RedemptionHold.objects.get(pk=held.hold.pk))
    decided_on(hold, DAY2)
    close(scene, DAY2)
    assert (hold.released_fen, payable(scene, DAY2).amount_fen) == (60_000, 60_000)


def test_after_a_rejection_a_whole_return_refunds_what_the_customer_paid(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    subsidies.reject_hold(actor=personas.reviewer, hold=held.hold, note="价格虚高")
    held.refresh_from_db()
    record = subsidies.record_return(actor=personas.clerk, redemption=held, kind="full", reason="顾客退货")
    # The customer paid 4,999 less the 749.85 discount, and gets exactly that back; the budget has the
    # subsidy already, so nothing moves and nothing is owed.
    assert (record.refund_fen, record.reversed_fen) == (424_915, 0)
    assert not Clawback.objects.exists()


def test_after_a_rejection_a_partial_return_keeps_the_customers_discount_in_the_refund(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    subsidies.reject_hold(actor=personas.reviewer, hold=held.hold, note="价格虚高")
    held.refresh_from_db()
    quote = subsidies.quote_return(actor=personas.clerk, redemption=held, kind="partial", new_price_fen=400_000)
    # Customer paid 424,915 and now pays 400,000 − 60,000: refund 84,915; the budget carries nothing.
    assert (quote.new_subsidy_fen, quote.refund_fen, quote.clawback_fen) == (60_000, 84_915, 0)


def test_a_sale_still_held_stays_out_of_later_periods(scene):
    sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    sell(scene, price_fen=400_000, on=DAY2, serial="SN-OK")
    periods(scene, DAY2)
    close(scene, DAY1)
    close(scene, DAY2)
    assert payable(scene, DAY2).amount_fen == 60_000
    assert SettlementPeriod.objects.filter(released_fen__gt=0).count() == 0


def test_reconciliation_ties_a_cleared_sale_to_the_payable_of_the_period_that_paid_it(scene, personas):
    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    periods(scene, DAY2)
    close(scene, DAY1)
    hold = subsidies.clear_hold(actor=personas.reviewer, hold=held.hold)
    decided_on(hold, DAY2)
    close(scene, DAY2)
    [row] = list(reconciliation_rows(period_of(scene, DAY1)))
    assert row.payable_id == payable(scene, DAY2).pk
    assert row.payable_status == f"暂扣后放行，{DAY2:%Y-%m-%d} 结算"


def test_the_board_counts_a_held_sale_as_owed_until_the_period_of_its_decision_is_paid(scene, personas):
    from huanxin.settlement.queries import prefunded_outstanding

    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-OK")
    periods(scene, DAY2)
    close(scene, DAY1)
    Payable.objects.filter(period=period_of(scene, DAY1)).update(status=Payable.Status.PAID)
    # Day 1's payable is paid, but it did not pay the held sale.
    assert [e.outstanding_fen for e in prefunded_outstanding()] == [74_985]
    hold = subsidies.clear_hold(actor=personas.reviewer, hold=held.hold)
    decided_on(hold, DAY2)
    close(scene, DAY2)
    assert [e.outstanding_fen for e in prefunded_outstanding()] == [74_985]
    Payable.objects.filter(period=period_of(scene, DAY2)).update(status=Payable.Status.PAID)
    assert prefunded_outstanding() == []


def test_the_board_owes_nothing_on_a_rejected_sale(scene, personas):
    from huanxin.settlement.queries import prefunded_outstanding

    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    subsidies.reject_hold(actor=personas.reviewer, hold=held.hold, note="价格虚高")
    assert prefunded_outstanding() == []


def test_the_merchants_statement_shows_what_is_held_for_review(scene, personas):
    from huanxin.settlement.queries import merchant_statement

    held = sell_held(scene, price_fen=499_900, on=DAY1, serial="SN-HELD")
    sell(scene, price_fen=400_000, on=DAY2, serial="SN-OK")
    periods(scene, DAY2)
    close(scene, DAY1)
    statement = merchant_statement(personas.merchant)
    # The held sale is not among the unsettled sales (it waits for a reviewer, not for a period to close).
    assert (statement.held_count, statement.held_fen, statement.open_sales_count, statement.open_sales_fen) == (
        1,
        74_985,
        1,
        60_000,
    )
    subsidies.clear_hold(actor=personas.reviewer, hold=held.hold)
    assert merchant_statement(personas.merchant).held_fen == 0
