"""The rules every event passes before it is recorded, one function per rule, and what an event does to an item.

A caller is told the first rule its event breaks, in a fixed order: first the event's own shape (kind, codes,
time, the kind's details, see ``event_refusal``), then, item by item, whether the item is on record, the custody
rules and the order of events (``item_refusal``). Each rule returns a Refusal (a stable code, a message for
people, the input field it is about) or None. ``after_event`` is the item's state once an accepted event is
applied: its new state, who holds it, where it is headed, and its chain's new head.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.trace.domain.canonical import GENESIS, link_hash
from huanxin.trace.domain.codes import printed_code
from huanxin.trace.domain.rules import EXTRA_CATEGORIES, MATERIALS, Kind, Refusal, check_transition, is_uri

# How far an event time may run ahead of the platform's clock, or behind an item's last event: devices'
# clocks drift, and a scanner's queue is sent a little late.
CLOCK_SKEW = datetime.timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Recorder:
    """The organisation recording a batch: its id and its trade as the custody rules see it (``trade_of``)."""

    organisation_id: int
    trade: str


@dataclass(frozen=True, slots=True)
class ItemState:
    """Where an item on record stands between events: its state, holder, destination and chain head."""

    state: str | None
    holder_id: int | None
    destination_id: int | None
    head: str
    event_count: int
    updated_at: datetime.datetime | None


# A code before its commissioning: no state, no holder, an empty chain.
UNRECORDED = ItemState(None, None, None, GENESIS, 0, None)


# ---------------------------------------------------------------- the event's own shape


def known_kind(kind: Kind | None) -> Refusal | None:
    """An event is one of the platform's kinds (commission, collect, ship, receive, load, unload, …)."""
    return Refusal("unknown_kind", "事件类型无效", "kind") if kind is None else None


def codes_given(codes: Sequence[str]) -> Refusal | None:
    """An event names at least one item."""
    return None if codes else Refusal("required", "请提供追溯码", "codes")


def codes_distinct(codes: Sequence[str]) -> Refusal | None:
    """An event names each item once."""
    return Refusal("duplicate_code", "同一事件中追溯码重复", "codes") if len(set(codes)) != len(codes) else None


def codes_readable(reason: str) -> Refusal | None:
    """Every code an event names is a trace code; ``reason`` is why one is not (empty when all are)."""
    return Refusal("invalid_code", reason, "codes") if reason else None


def time_has_offset(event_time: datetime.datetime) -> Refusal | None:
    """An event time says its offset from UTC, so that it names one moment."""
    if event_time.utcoffset() is None:
        return Refusal("invalid_time", "事件时间须带时区（如 +08:00）", "event_time")
    return None


def category_known(kind: Kind, category: str) -> Refusal | None:
    """A commissioning's category, when given, is one the programme has (a subsidy category or one of trace's
    own, such as the traction battery): it decides a dismantling's plausible output."""
    if kind.code == "commission" and category and category not in CATEGORIES and category not in EXTRA_CATEGORIES:
        return Refusal("unknown_category", "品类无效", "category")
    return None


def parent_is_uri(parent: str) -> Refusal | None:
    """A vehicle or cage, when named, is named by a URI (the EPCIS parentID)."""
    if parent and not is_uri(parent):
        return Refusal(
            "invalid_parent",
            "车辆或笼车编号应为 URI，仅含字母、数字和 URI 允许的符号（如 urn:huanxin:load:JING-A-12345）",
            "parent",
        )
    return None


def one_item_unless_aggregation(kind: Kind, codes: Sequence[str]) -> Refusal | None:
    """Only a load or an unload (an aggregation) names several items; every other event names one."""
    if len(codes) > 1 and kind.event_type != "AggregationEvent":
        return Refusal("one_item_only", "该事件只能针对一台旧机", "codes")
    return None


def not_in_future(event_time: datetime.datetime, now: datetime.datetime) -> Refusal | None:
    """An event has happened: its time is not later than now (give or take CLOCK_SKEW)."""
    if event_time > now + CLOCK_SKEW:
        return Refusal("future_time", "事件时间不能晚于当前时间", "event_time")
    return None


def destination_registered(kind: Kind, destination_known: bool) -> Refusal | None:
    """A shipment or a load names its destination, an organisation registered on the platform."""
    if kind.code in ("ship", "load") and not destination_known:
        return Refusal("destination_required", "发运须指定目的地企业", "destination")
    return None


def load_names_vehicle(kind: Kind, parent: str) -> Refusal | None:
    """A load names the vehicle or cage the items go into."""
    if kind.code == "load" and not parent:
        return Refusal("parent_required", "装车须提供车辆或笼车编号", "parent")
    return None


def outputs_recorded(kind: Kind, outputs_g: Mapping[str, object]) -> Refusal | None:
    """A dismantling records the weight of at least one platform material, in whole grams, none negative."""
    if kind.code != "dismantle":
        return None
    bad = [m for m, g in outputs_g.items() if m not in MATERIALS or not isinstance(g, int) or g < 0]
    if not outputs_g or bad:
        return Refusal("invalid_outputs", "拆解须记录至少一种平台物料的产物重量，重量不能为负", "outputs")
    return None


def event_refusal(
    kind: Kind | None,
    codes: Sequence[str],
    *,
    unreadable: str,
    event_time: datetime.datetime,
    now: datetime.datetime,
    category: str,
    parent: str,
    destination_known: bool,
    outputs_g: Mapping[str, object],
) -> Refusal | None:
    """The first rule of its own shape an event breaks, in the order callers are told; None when it breaks none."""
    if kind is None:
        return known_kind(kind)
    return (
        codes_given(codes)
        or codes_distinct(codes)
        or codes_readable(unreadable)
        or time_has_offset(event_time)
        or category_known(kind, category)
        or parent_is_uri(parent)
        or one_item_unless_aggregation(kind, codes)
        or not_in_future(event_time, now)
        or destination_registered(kind, destination_known)
        or load_names_vehicle(kind, parent)
        or outputs_recorded(kind, outputs_g)
    )


# ---------------------------------------------------------------- each item the event names


def commission_is_new(code: str, item: ItemState | None) -> Refusal | None:
    """A code is commissioned once."""
    return Refusal("already_commissioned", f"追溯码 {printed_code(code)} 已赋码", "codes") if item is not None else None


def item_on_record(code: str, item: ItemState | None) -> Refusal | None:
    """Every event after a commissioning names an item on record."""
    return Refusal("unknown_code", f"追溯码 {printed_code(code)} 不存在", "codes") if item is None else None


def custody_allows(kind: Kind, code: str, item: ItemState, recorder: Recorder, licensed: bool) -> Refusal | None:
    """The custody rules (``rules.check_transition``) let the recorder record this kind on the item now."""
    problem = check_transition(
        kind=kind,
        state=item.state,
        holder_id=item.holder_id,
        destination_id=item.destination_id,
        actor_org_id=recorder.organisation_id,
        actor_kind=recorder.trade,
        licensed=licensed,
    )
    return None if problem is None else Refusal(problem.code, f"{printed_code(code)}：{problem.message}", "codes")


def in_order(code: str, event_time: datetime.datetime, item: ItemState) -> Refusal | None:
    """An item's events come in time order: none earlier than its last one (give or take CLOCK_SKEW)."""
    if item.updated_at and item.event_count and event_time < item.updated_at - CLOCK_SKEW:
        return Refusal("out_of_order", f"{printed_code(code)}：事件时间早于该旧机的上一事件", "event_time")
    return None


def item_refusal(
    kind: Kind,
    code: str,
    item: ItemState | None,
    *,
    event_time: datetime.datetime,
    recorder: Recorder,
    licensed: bool,
) -> Refusal | None:
    """The first rule an event breaks for one item it names (``item`` None: the code is not on record)."""
    if kind.code == "commission":
        return commission_is_new(code, item)
    if item is None:
        return item_on_record(code, item)
    return custody_allows(kind, code, item, recorder, licensed) or in_order(code, event_time, item)


def licensed_on(day: datetime.date, licences: Sequence[tuple[datetime.date, datetime.date | None]]) -> bool:
    """A dismantling licence covers the days from its start to its end, both included (no end: open-ended)."""
    return any(start <= day and (end is None or end >= day) for start, end in licences)


# ---------------------------------------------------------------- what an accepted event does


def custody_after(
    kind: Kind, holder_id: int | None, destination_id: int | None, recorder_id: int, sent_destination_id: int | None
) -> tuple[int | None, int | None]:
    """Who holds an item and where it is headed after an event: a shipment names where it goes, a receipt hands
    it to the receiver, a commissioning to the commissioner; other events change neither."""
    if kind.code in ("ship", "load"):
        return holder_id, sent_destination_id
    if kind.code in ("receive", "unload"):
        return recorder_id, None
    if kind.code == "commission":
        return recorder_id, destination_id
    return holder_id, destination_id


def after_event(
    kind: Kind,
    item: ItemState,
    *,
    digest: str,
    event_time: datetime.datetime,
    recorder_id: int,
    sent_destination_id: int | None,
) -> ItemState:
    """An item after an accepted event: the kind's new state, custody moved, the event linked onto its chain."""
    holder_id, destination_id = custody_after(
        kind, item.holder_id, item.destination_id, recorder_id, sent_destination_id
    )
    return ItemState(
        kind.to_state, holder_id, destination_id, link_hash(item.head, digest), item.event_count + 1, event_time
    )
