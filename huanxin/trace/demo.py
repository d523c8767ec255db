"""Demo history for traceability: the demo sales' old appliances get codes at the store, go to the
recycler and on to the licensed dismantler, and one of them is dismantled."""

from __future__ import annotations

import datetime

from django.utils import timezone

from huanxin.accounts.models import Organisation, User
from huanxin.subsidies.models import TakeBack
from huanxin.trace import services
from huanxin.trace.models import TraceItem

OUTPUTS_G = {
    "metals": 31_500,
    "plastics": 12_800,
    "glass": 900,
    "refrigerant": 110,
    "hazardous": 250,
    "circuit_boards": 600,
}


def load_demo() -> None:
    """Idempotent: codes the demo take-backs that have none, then moves them on while still at the store."""
    take_backs = list(
        TakeBack.objects.filter(redemption__serial__startswith="DEMO-SN-")
        .select_related("redemption__merchant")
        .order_by("pk")
    )
    clerk = User.objects.filter(username="clerk").first()
    recycler_user = User.objects.filter(username="recycler").first()
    dismantler_user = User.objects.filter(username="dismantler").first()
    recycler = Organisation.objects.filter(uscc="91110112MA01HX0C07").first()
    dismantler = Organisation.objects.filter(uscc="91110115MA01HX0D0K").first()
    if (
        not take_backs
        or clerk is None
        or recycler_user is None
        or dismantler_user is None
        or recycler is None
        or dismantler is None
    ):
        return
    items = [services.commission_take_back(actor=clerk, take_back=tb) for tb in take_backs]
    merchant = take_backs[0].redemption.merchant
    if any(item.holder_id != merchant.pk or item.state != "held" for item in items):
        return
    start = timezone.now()

    def at(step: float) -> datetime.datetime:
        # A few seconds apart, just after the codes were issued: events may not be dated before them.
        return start + datetime.timedelta(seconds=step)

    codes = [item.code for item in items]
    services.record_one(
        actor=clerk,
        organisation=merchant,
        data=services.EventInput("load", codes, at(1), destination=recycler, parent="urn:huanxin:load:JING-A-12345"),
    )
    services.record_one(
        actor=recycler_user,
        organisation=recycler,
        data=services.EventInput("unload", codes, at(2), parent="urn:huanxin:load:JING-A-12345"),
    )
    first = codes[0]
    services.record_one(
        actor=recycler_user,
        organisation=recycler,
        data=services.EventInput("ship", [first], at(3), destination=dismantler),
    )
    services.record_one(
        actor=dismantler_user, organisation=dismantler, data=services.EventInput("receive", [first], at(4))
    )
    category = TraceItem.objects.get(code=first).category
    if category in ("fridge", "ac", "washer"):
        services.record_one(
            actor=dismantler_user,
            organisation=dismantler,
            data=services.EventInput("dismantle", [first], at(5), outputs_g=OUTPUTS_G),
        )
