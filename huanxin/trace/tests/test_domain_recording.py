"""The recording rules as pure functions: each event's own shape, then each item's custody, in a fixed order."""

import datetime
from typing import Any

import pytest

from huanxin.trace.domain.canonical import GENESIS, link_hash
from huanxin.trace.domain.recording import (
    CLOCK_SKEW,
    UNRECORDED,
    ItemState,
    Recorder,
    after_event,
    event_refusal,
    item_refusal,
    licensed_on,
)
from huanxin.trace.domain.rules import KINDS, kinds_open_to, trade_of

NOW = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
CODE = "urn:epc:id:giai:6999999.639079541759"
OTHER = "urn:epc:id:giai:6999999.639079541760"
MERCHANT, RECYCLER, DISMANTLER = 1, 2, 3
AS_MERCHANT = Recorder(MERCHANT, "merchant")


def shape(kind="ship", codes=(CODE,), **overrides):
    values: dict[str, Any] = {
        "unreadable": "",
        "event_time": NOW - datetime.timedelta(minutes=1),
        "now": NOW,
        "category": "",
        "parent": "",
        "destination_known": True,
        "outputs_g": {},
    }
    return event_refusal(KINDS.get(kind), list(codes), **(values | overrides))


def held_by(holder, **overrides):
    values = {"state": "held", "holder_id": holder, "destination_id": None, "head": "a" * 64}
    return ItemState(**(values | {"event_count": 1, "updated_at": NOW - datetime.timedelta(hours=1)} | overrides))


def on_item(kind, item, recorder=AS_MERCHANT, licensed=False, when=NOW):
    return item_refusal(KINDS[kind], CODE, item, event_time=when, recorder=recorder, licensed=licensed)


def test_a_well_formed_shipment_breaks_no_rule_of_its_own():
    assert shape() is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"kind": "teleport"}, ("unknown_kind", "kind")),
        ({"codes": ()}, ("required", "codes")),
        ({"codes": (CODE, CODE), "kind": "load", "parent": "urn:huanxin:load:T-1"}, ("duplicate_code", "codes")),
        ({"unreadable": "无法识别该追溯码"}, ("invalid_code", "codes")),
        ({"event_time": datetime.datetime(2026, 6, 1, 11, 0)}, ("invalid_time", "event_time")),
        ({"kind": "commission", "category": "spaceship"}, ("unknown_category", "category")),
        ({"parent": "JING A 12345"}, ("invalid_parent", "parent")),
        ({"codes": (CODE, OTHER)}, ("one_item_only", "codes")),
        ({"event_time": NOW + CLOCK_SKEW + datetime.timedelta(seconds=1)}, ("future_time", "event_time")),
        ({"destination_known": False}, ("destination_required", "destination")),
        ({"kind": "load", "codes": (CODE, OTHER)}, ("parent_required", "parent")),
        ({"kind": "dismantle", "outputs_g": {}}, ("invalid_outputs", "outputs")),
        ({"kind": "dismantle", "outputs_g": {"metals": -1}}, ("invalid_outputs", "outputs")),
        ({"kind": "dismantle", "outputs_g": {"gold": 10}}, ("invalid_outputs", "outputs")),
    ],
)
def test_each_rule_of_an_events_shape_refuses_with_its_code_and_field(overrides, expected):
    refusal = shape(**overrides)
    assert refusal is not None
    assert (refusal.code, refusal.field) == expected


def test_the_first_broken_rule_is_the_one_reported():
    # No codes and a time without an offset: the codes are reported, as they come first.
    assert shape(codes=(), event_time=datetime.datetime(2026, 6, 1)).code == "required"
    # Two items on a shipment that also lacks its destination: one item only comes first.
    assert shape(codes=(CODE, OTHER), destination_known=False).code == "one_item_only"


def test_an_event_a_few_minutes_ahead_of_the_clock_is_accepted():
    assert shape(event_time=NOW + CLOCK_SKEW) is None


def test_a_code_is_commissioned_once_and_other_events_need_an_item_on_record():
    assert on_item("commission", None) is None
    already = on_item("commission", held_by(MERCHANT))
    assert (already.code, already.message) == ("already_commissioned", "追溯码 6999999.639079541759 已赋码")
    unknown = on_item("ship", None)
    assert (unknown.code, unknown.message, unknown.field) == (
        "unknown_code",
        "追溯码 6999999.639079541759 不存在",
        "codes",
    )


@pytest.mark.parametrize(
    ("kind", "item", "recorder", "licensed", "code"),
    [
        ("destroy", held_by(DISMANTLER, state="dismantled"), Recorder(DISMANTLER, "dismantler"), True, "terminal"),
        ("receive", held_by(MERCHANT), Recorder(MERCHANT, "merchant"), False, "invalid_transition"),
        ("ship", held_by(MERCHANT), Recorder(RECYCLER, "recycler"), False, "not_holder"),
        (
            "receive",
            held_by(MERCHANT, state="in_transit", destination_id=RECYCLER),
            Recorder(DISMANTLER, "dismantler"),
            False,
            "not_destination",
        ),
        ("collect", held_by(MERCHANT), Recorder(MERCHANT, "merchant"), False, "not_recycler"),
        ("dismantle", held_by(DISMANTLER), Recorder(DISMANTLER, "dismantler"), False, "not_licensed"),
        ("dismantle", held_by(RECYCLER), Recorder(RECYCLER, "recycler"), True, "not_licensed"),
    ],
)
def test_the_custody_rules_name_the_item_in_their_refusal(kind, item, recorder, licensed, code):
    refusal = on_item(kind, item, recorder, licensed)
    assert refusal.code == code
    assert refusal.message.startswith("6999999.639079541759：")
    assert refusal.field == "codes"


def test_an_event_earlier_than_the_items_last_is_out_of_order_beyond_the_clock_skew():
    item = held_by(MERCHANT, updated_at=NOW)
    assert on_item("destroy", item, when=NOW - CLOCK_SKEW) is None
    late = on_item("destroy", item, when=NOW - CLOCK_SKEW - datetime.timedelta(seconds=1))
    assert (late.code, late.field) == ("out_of_order", "event_time")


def test_a_licensed_dismantler_dismantles_what_it_holds():
    assert on_item("dismantle", held_by(DISMANTLER), Recorder(DISMANTLER, "dismantler"), licensed=True) is None


def test_a_licence_covers_its_first_and_last_day_and_an_open_one_has_no_end():
    licences = [(datetime.date(2024, 1, 1), datetime.date(2026, 12, 31))]
    assert licensed_on(datetime.date(2024, 1, 1), licences)
    assert licensed_on(datetime.date(2026, 12, 31), licences)
    assert not licensed_on(datetime.date(2027, 1, 1), licences)
    assert not licensed_on(datetime.date(2023, 12, 31), licences)
    assert licensed_on(datetime.date(2099, 1, 1), [(datetime.date(2024, 1, 1), None)])
    assert not licensed_on(datetime.date(2025, 1, 1), [])


def test_vehicle_scrappers_dismantle_under_the_dismantlers_rules():
    assert trade_of("vehicle_scrapper") == "dismantler"
    assert trade_of("recycler") == "recycler"


def test_an_event_moves_custody_and_extends_the_chain():
    digest = "b" * 64
    commissioned = after_event(
        KINDS["commission"], UNRECORDED, digest=digest, event_time=NOW, recorder_id=MERCHANT, sent_destination_id=None
    )
    assert commissioned == ItemState("held", MERCHANT, None, link_hash(GENESIS, digest), 1, NOW)
    shipped = after_event(
        KINDS["ship"], commissioned, digest="c" * 64, event_time=NOW, recorder_id=MERCHANT, sent_destination_id=RECYCLER
    )
    assert (shipped.state, shipped.holder_id, shipped.destination_id, shipped.event_count) == (
        "in_transit",
        MERCHANT,
        RECYCLER,
        2,
    )
    assert shipped.head == link_hash(commissioned.head, "c" * 64)
    received = after_event(
        KINDS["receive"], shipped, digest="d" * 64, event_time=NOW, recorder_id=RECYCLER, sent_destination_id=None
    )
    assert (received.state, received.holder_id, received.destination_id) == ("held", RECYCLER, None)
    collected = after_event(
        KINDS["collect"], received, digest="e" * 64, event_time=NOW, recorder_id=RECYCLER, sent_destination_id=None
    )
    assert (collected.holder_id, collected.destination_id) == (RECYCLER, None)


@pytest.mark.parametrize(
    ("state", "holder", "destination", "actor", "trade", "offered"),
    [
        ("held", RECYCLER, None, RECYCLER, "recycler", ["ship", "collect", "destroy"]),
        ("held", DISMANTLER, None, DISMANTLER, "dismantler", ["ship", "dismantle", "destroy"]),
        ("held", MERCHANT, None, MERCHANT, "merchant", ["ship", "destroy"]),
        ("held", MERCHANT, None, RECYCLER, "recycler", []),
        ("in_transit", MERCHANT, RECYCLER, RECYCLER, "recycler", ["receive"]),
        ("in_transit", MERCHANT, RECYCLER, MERCHANT, "merchant", []),
        ("dismantled", DISMANTLER, None, DISMANTLER, "dismantler", []),
    ],
)
def test_the_workspace_offers_what_the_custody_rules_allow(state, holder, destination, actor, trade, offered):
    kinds = kinds_open_to(
        state=state, holder_id=holder, destination_id=destination, actor_org_id=actor, actor_kind=trade
    )
    assert [kind.code for kind in kinds] == offered
