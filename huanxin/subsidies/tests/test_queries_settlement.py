"""What settlement reads from subsidies: sales and held sales per merchant in a window, released holds, what
is still owed, and the payees' bank accounts as a relation to join."""

import datetime

import pytest
from django.db import connection
from django.db.models import Exists
from django.utils import timezone

from huanxin.policy.models import Programme
from huanxin.subsidies import queries, services
from huanxin.subsidies.models import Redemption
from huanxin.subsidies.tests.test_services_price_checks import unfiled_fridge
from huanxin.subsidies.tests.test_services_redemption import claim, redeem

pytestmark = pytest.mark.django_db


def window():
    now = timezone.now()
    return now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)


def always(merchant, programme, at):
    """A caller's condition that holds for every sale of the programme."""
    return Exists(Programme.objects.filter(pk=programme))


def never(merchant, programme, at):
    return Exists(Programme.objects.filter(pk=programme, code="no-such-programme"))


@pytest.fixture
def sales(scene):
    """Two sales settled normally (60,000 and 45,000 fen of subsidy) and one held (74,985 fen)."""
    first = redeem(scene, claim(scene), price_fen=400_000, serial="SN-Q1")
    second = redeem(scene, claim(scene), price_fen=300_000, serial="SN-Q2")
    held = redeem(scene, claim(scene), product=unfiled_fridge(), price_fen=499_900, serial="SN-Q3")
    assert held.withheld
    return first, second, held


def test_sales_by_merchant_counts_held_sales_apart(scene, sales):
    first, second, held = sales
    [row] = queries.sales_by_merchant(scene.programme.pk, *window())
    assert row == queries.MerchantSales(scene.personas.merchant.pk, 2, 105_000, second.pk, 1, 74_985)
    assert queries.settled_sales_total(scene.programme.pk, *window()) == (2, 105_000)
    start, end = window()
    assert queries.settled_sales_after(scene.programme.pk, start, end, first.pk, limit=100) == [second.pk]
    assert [r.pk for r in queries.sales_in_window(scene.programme.pk, *window())] == [first.pk, second.pk, held.pk]
    assert queries.first_sale_at(scene.programme.pk) == Redemption.objects.get(pk=first.pk).redeemed_at


def test_a_cleared_hold_releases_its_standing_subsidy_in_the_window_of_the_decision(scene, sales):
    *_, held = sales
    assert queries.released_by_merchant(scene.programme.pk, *window()) == []
    services.clear_hold(actor=scene.personas.district_reviewer, hold=held.hold, note="核实无误")
    assert queries.released_by_merchant(scene.programme.pk, *window()) == [
        queries.MerchantTally(scene.personas.merchant.pk, 1, 74_985)
    ]


def test_what_a_merchant_has_unsettled_follows_the_callers_condition(scene, sales):
    merchant = scene.personas.merchant.pk
    services.record_return(actor=scene.personas.clerk, redemption=sales[0], kind="full", reason="退货")
    assert queries.merchant_unsettled(merchant, settled=never) == queries.MerchantUnsettled(
        2, 105_000, 1, 74_985, 60_000
    )
    assert queries.merchant_unsettled(merchant, settled=always) == queries.MerchantUnsettled(0, 0, 1, 74_985, 60_000)


def test_outstanding_leaves_out_returned_sales_and_what_the_caller_calls_paid(scene, sales):
    services.record_return(actor=scene.personas.clerk, redemption=sales[0], kind="full", reason="退货")
    [row] = queries.outstanding_by_merchant(paid=never, limit=10)
    assert (row.merchant_id, row.outstanding_fen) == (scene.personas.merchant.pk, 45_000 + 74_985)
    assert queries.outstanding_by_merchant(paid=always, limit=10) == []


def test_the_payee_accounts_relation_gives_the_sealed_account_of_each_enrolled_merchant(scene):
    sql, params = queries.payee_accounts_sql(scene.programme.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT organisation_id, account_name, bank_name, account_cipher, account_masked FROM ({sql}) e", params
        )
        rows = cursor.fetchall()
    enrolment = scene.enrolment
    assert rows == [
        (
            scene.personas.merchant.pk,
            "朝阳家电",
            "演示银行",
            enrolment.bank_account_cipher,
            enrolment.bank_account_masked,
        )
    ]
