import pytest

from huanxin.subsidies.domain.returns import ReturnRefused, check_new_price, partial_return, whole_return


def test_a_whole_order_return_refunds_what_the_customer_pays_and_reverses_the_subsidy():
    quote = whole_return(still_paid_fen=329_900 - 49_485, subsidy_now_fen=49_485, quota_restored_on_return=False)
    assert (quote.kind, quote.refund_fen, quote.clawback_fen, quote.quota_released) == ("full", 280_415, 49_485, False)
    assert whole_return(still_paid_fen=85, subsidy_now_fen=15, quota_restored_on_return=True).quota_released


def test_a_partial_return_refunds_the_difference_in_what_the_customer_pays():
    quote = partial_return(
        price_fen=329_900,
        subsidy_fen=49_485,
        subsidy_now_fen=49_485,
        new_price_fen=300_000,
        subsidy_at_new_price=45_000,
    )
    assert (quote.new_subsidy_fen, quote.refund_fen, quote.clawback_fen) == (45_000, 25_415, 4_485)
    assert quote.refund_fen == (329_900 - 49_485) - (300_000 - 45_000)


def test_the_new_subsidy_never_exceeds_the_subsidy_given():
    quote = partial_return(
        price_fen=400_000,
        subsidy_fen=50_000,
        subsidy_now_fen=50_000,
        new_price_fen=390_000,
        subsidy_at_new_price=58_500,
    )
    assert (quote.new_subsidy_fen, quote.clawback_fen, quote.refund_fen) == (50_000, 0, 10_000)


@pytest.mark.parametrize(
    ("new_price_fen", "subsidy_at_new_price", "code"),
    [
        (0, 0, "invalid_price"),
        (400_000, 60_000, "price_not_lower"),
        # The new price falls below the rule's minimum: the subsidy drops by more than the price.
        (390_000, 0, "refund_not_positive"),
    ],
)
def test_a_partial_return_that_is_not_one_is_refused(new_price_fen, subsidy_at_new_price, code):
    with pytest.raises(ReturnRefused) as caught:
        partial_return(
            price_fen=400_000,
            subsidy_fen=60_000,
            subsidy_now_fen=60_000,
            new_price_fen=new_price_fen,
            subsidy_at_new_price=subsidy_at_new_price,
        )
    assert caught.value.code == code


def test_after_the_budget_took_the_subsidy_back_a_partial_return_owes_nothing_but_refunds_the_same():
    # A rejected hold already returned the whole subsidy to the budget; the customer kept the discount.
    quote = partial_return(
        price_fen=329_900, subsidy_fen=49_485, subsidy_now_fen=0, new_price_fen=300_000, subsidy_at_new_price=45_000
    )
    assert (quote.new_subsidy_fen, quote.refund_fen, quote.clawback_fen) == (45_000, 25_415, 0)


@pytest.mark.parametrize(
    ("new_price_fen", "code", "message"),
    [
        (0, "invalid_price", "新的最终成交价应为大于0的整数（分）"),
        (True, "invalid_price", "新的最终成交价应为大于0的整数（分）"),
        ("300000", "invalid_price", "新的最终成交价应为大于0的整数（分）"),
        (2**63, "price_out_of_range", "新的最终成交价超出可处理的范围，请核对金额"),
        (400_000, "price_not_lower", "新的最终成交价应低于原成交价"),
    ],
)
def test_the_new_final_price_must_be_a_price_below_the_sales(new_price_fen, code, message):
    with pytest.raises(ReturnRefused) as caught:
        check_new_price(price_fen=400_000, new_price_fen=new_price_fen)
    assert (caught.value.code, caught.value.message) == (code, message)
    assert check_new_price(price_fen=400_000, new_price_fen=399_999) == 399_999
