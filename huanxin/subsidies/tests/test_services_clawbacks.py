"""Netting clawbacks for settlement: the window's open clawbacks are taken once, inside the caller's
transaction, and counted per merchant."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from huanxin.subsidies import services
from huanxin.subsidies.models import Clawback
from huanxin.subsidies.queries import MerchantTally
from huanxin.subsidies.services.clawbacks import take_clawbacks
from huanxin.subsidies.tests.test_services_redemption import claim, redeem

pytestmark = pytest.mark.django_db


def returned(scene, serial):
    """A sale returned in full: its clawback is open."""
    redemption = redeem(scene, claim(scene), price_fen=400_000, serial=serial)
    record = services.record_return(actor=scene.personas.clerk, redemption=redemption, kind="full", reason="退货")
    return Clawback.objects.get(return_record=record)


def window():
    now = timezone.now()
    return now - datetime.timedelta(hours=1), now + datetime.timedelta(hours=1)


def test_the_windows_open_clawbacks_are_netted_and_counted_per_merchant(scene):
    first, second, earlier = returned(scene, "SN-C1"), returned(scene, "SN-C2"), returned(scene, "SN-C3")
    Clawback.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - datetime.timedelta(days=1))
    start, end = window()
    with transaction.atomic():
        taken = take_clawbacks(programme_id=scene.programme.pk, start=start, end=end)
    assert taken == [MerchantTally(scene.personas.merchant.pk, 2, 120_000, second.pk)]
    statuses = dict(Clawback.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "netted", second.pk: "netted", earlier.pk: "open"}


def test_a_clawback_is_taken_once(scene):
    returned(scene, "SN-C1")
    start, end = window()
    with transaction.atomic():
        take_clawbacks(programme_id=scene.programme.pk, start=start, end=end)
        assert take_clawbacks(programme_id=scene.programme.pk, start=start, end=end) == []


@pytest.mark.django_db(transaction=True)
def test_taking_clawbacks_outside_a_transaction_is_refused():
    start, end = window()
    with pytest.raises(RuntimeError):
        take_clawbacks(programme_id=1, start=start, end=end)
