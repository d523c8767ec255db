"""The traction battery, a category of trace's own (data in ``rules.EXTRA_CATEGORIES``): it is shipped to, and
received by, only an organisation holding a cascade-use or recycling licence valid on the day."""

import datetime

import pytest
from django.utils import timezone

from huanxin.accounts.models import Licence, OrganisationKind, Role
from huanxin.conftest import make_member, make_organisation
from huanxin.core.errors import ValidationFailed
from huanxin.trace import integrity, services
from huanxin.trace.domain.recording import category_known
from huanxin.trace.domain.rules import EXTRA_CATEGORIES, KINDS, receiver_is_licensed, receiver_licences
from huanxin.trace.models import TraceEvent, TraceItem


def test_the_battery_is_a_known_category_that_names_its_receivers_licences():
    assert category_known(KINDS["commission"], "traction_battery") is None
    assert category_known(KINDS["commission"], "spaceship") is not None
    assert receiver_licences("traction_battery") == {"battery_cascade_use", "battery_recycling"}
    assert receiver_licences("fridge") == frozenset()
    assert EXTRA_CATEGORIES["traction_battery"].name == "新能源汽车动力蓄电池"


@pytest.mark.parametrize("kind", ["ship", "load", "receive", "unload"])
def test_a_handover_of_such_an_item_needs_a_licensed_receiver(kind):
    required = receiver_licences("traction_battery")
    assert receiver_is_licensed(KINDS[kind], required, licensed=True) is None
    refusal = receiver_is_licensed(KINDS[kind], required, licensed=False)
    assert refusal is not None
    assert refusal.code == "receiver_not_licensed"
    assert receiver_is_licensed(KINDS[kind], frozenset(), licensed=False) is None
    assert receiver_is_licensed(KINDS["commission"], required, licensed=False) is None


@pytest.mark.django_db
def test_a_recycler_whose_licence_lapsed_before_the_receipt_cannot_receive(personas):
    scrapper = make_organisation(OrganisationKind.VEHICLE_SCRAPPER, "110113")
    staff = make_member(Role.DISMANTLER, scrapper)
    recycler = make_organisation(OrganisationKind.RECYCLER, "110115")
    recycler_staff = make_member(Role.RECYCLER, recycler)
    today = timezone.localdate()
    Licence.objects.create(
        organisation=recycler,
        kind=Licence.Kind.BATTERY_RECYCLING,
        number="电池再生-1",
        valid_from=datetime.date(2020, 1, 1),
        valid_until=today - datetime.timedelta(days=1),
    )
    yesterday = timezone.now() - datetime.timedelta(days=1)
    code = services.new_code()
    results = services.record_events(
        actor=staff,
        organisation=scrapper,
        events=[
            services.EventInput("commission", [code], yesterday, category="traction_battery"),
            services.EventInput("ship", [code], yesterday + datetime.timedelta(seconds=1), destination=recycler),
        ],
    )
    assert [r.status for r in results] == ["recorded", "recorded"]
    events = TraceEvent.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.record_one(
            actor=recycler_staff,
            organisation=recycler,
            data=services.EventInput("receive", [code], timezone.now()),
        )
    assert caught.value.errors[0].code == "receiver_not_licensed"
    assert TraceEvent.objects.count() == events
    item = TraceItem.objects.get(code=code)
    assert item.state == "in_transit"
    assert integrity.verify_item(item).ok
