"""Which event may follow which, who may record it, and whether a dismantling's output is plausible.

The states of an old item: ``held`` (in someone's custody), ``in_transit`` (shipped to a named
destination), and the terminal ``dismantled`` and ``destroyed``. CBV 2.0 business steps and dispositions
are used where they exist; the platform's own vocabulary lives under ``EXT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# EPCIS 2.0 JSON-LD takes CBV terms bare ("shipping"); the context maps them to https://ref.gs1.org/cbv/.
CBV_STEP = ""
CBV_DISP = ""
EXT = "https://huanxin.beijing.gov.cn/ns/trace/"

# RFC 3986 absolute URI: a scheme, a colon and only characters a URI may contain (or percent escapes). The
# one rule for the URIs an event carries: recording and the EPCIS schema check must agree, or an event
# could be stored that its own export then fails.
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def is_uri(text: str) -> bool:
    """Whether the text is an absolute URI (RFC 3986): what an event's parentID and other URIs must be."""
    return URI.fullmatch(text) is not None


HELD, IN_TRANSIT, DISMANTLED, DESTROYED = "held", "in_transit", "dismantled", "destroyed"
TERMINAL = frozenset({DISMANTLED, DESTROYED})


@dataclass(frozen=True)
class Kind:
    """One kind of event: its EPCIS shape, CBV step and disposition, and the states it moves between."""

    code: str
    label: str
    event_type: str
    action: str
    biz_step: str
    disposition: str
    from_states: frozenset[str | None]
    to_state: str


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind(
            "commission",
            "赋码",
            "ObjectEvent",
            "ADD",
            CBV_STEP + "commissioning",
            CBV_DISP + "active",
            frozenset({None}),
            HELD,
        ),
        Kind(
            "collect",
            "上门回收",
            "ObjectEvent",
            "OBSERVE",
            CBV_STEP + "collecting",
            CBV_DISP + "in_progress",
            frozenset({HELD}),
            HELD,
        ),
        Kind(
            "ship",
            "发运",
            "ObjectEvent",
            "OBSERVE",
            CBV_STEP + "shipping",
            CBV_DISP + "in_transit",
            frozenset({HELD}),
            IN_TRANSIT,
        ),
        Kind(
            "receive",
            "接收",
            "ObjectEvent",
            "OBSERVE",
            CBV_STEP + "receiving",
            CBV_DISP + "in_progress",
            frozenset({IN_TRANSIT}),
            HELD,
        ),
        Kind(
            "load",
            "装车发运",
            "AggregationEvent",
            "ADD",
            CBV_STEP + "loading",
            CBV_DISP + "in_transit",
            frozenset({HELD}),
            IN_TRANSIT,
        ),
        Kind(
            "unload",
            "卸车接收",
            "AggregationEvent",
            "DELETE",
            CBV_STEP + "unloading",
            CBV_DISP + "in_progress",
            frozenset({IN_TRANSIT}),
            HELD,
        ),
        Kind(
            "dismantle",
            "拆解",
            "TransformationEvent",
            "",
            CBV_STEP + "disassembling",
            CBV_DISP + "disposed",
            frozenset({HELD}),
            DISMANTLED,
        ),
        Kind(
            "destroy",
            "销毁",
            "ObjectEvent",
            "DELETE",
            CBV_STEP + "destroying",
            CBV_DISP + "destroyed",
            frozenset({HELD}),
            DESTROYED,
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an event is not recorded: a stable code, a message for people, and the input field it is about."""

    code: str
    message: str
    field: str = ""


# The organisation kinds the custody rules name (accounts.OrganisationKind values; domain code imports no app).
RECYCLER, DISMANTLER, VEHICLE_SCRAPPER = "recycler", "dismantler", "vehicle_scrapper"


def trade_of(organisation_kind: str) -> str:
    """Vehicle scrapping enterprises dismantle under the same rules as appliance dismantlers."""
    return DISMANTLER if organisation_kind == VEHICLE_SCRAPPER else organisation_kind


def not_terminal(state: str | None) -> Refusal | None:
    """Nothing follows a dismantling or a destruction."""
    if state in TERMINAL:
        return Refusal("terminal", "该旧机已拆解或销毁，之后不能再记录任何事件")
    return None


def transition_allowed(kind: Kind, state: str | None) -> Refusal | None:
    """An event moves an item only out of the states its kind starts from (a receipt only while in transit)."""
    if state not in kind.from_states:
        return Refusal("invalid_transition", f"当前状态下不能记录“{kind.label}”")
    return None


def receiver_is_destination(kind: Kind, destination_id: int | None, actor_org_id: int) -> Refusal | None:
    """Only the organisation a shipment names as its destination receives or unloads it."""
    if kind.code in ("receive", "unload") and destination_id != actor_org_id:
        return Refusal("not_destination", "只有发运目的地的企业可以接收")
    return None


def recorder_holds_item(kind: Kind, state: str | None, holder_id: int | None, actor_org_id: int) -> Refusal | None:
    """Every other event on a recorded item is recorded by the organisation holding it."""
    if kind.code not in ("receive", "unload") and state is not None and holder_id != actor_org_id:
        return Refusal("not_holder", "只有当前持有该旧机的企业可以记录下一事件")
    return None


def collector_is_recycler(kind: Kind, actor_kind: str) -> Refusal | None:
    """Only a recycling enterprise records a collection from a household."""
    if kind.code == "collect" and actor_kind != RECYCLER:
        return Refusal("not_recycler", "只有回收企业可以记录上门回收")
    return None


def dismantler_is_licensed(kind: Kind, actor_kind: str, licensed: bool) -> Refusal | None:
    """Only a dismantler holding a dismantling licence valid on the event date records a dismantling."""
    if kind.code == "dismantle" and (actor_kind != DISMANTLER or not licensed):
        return Refusal("not_licensed", "只有事件日期在资质有效期内的拆解企业可以记录拆解")
    return None


def check_transition(
    *,
    kind: Kind,
    state: str | None,
    holder_id: int | None,
    destination_id: int | None,
    actor_org_id: int,
    actor_kind: str,
    licensed: bool,
) -> Refusal | None:
    """Whether ``actor_org`` may record ``kind`` on an item now; the first custody rule it breaks says why not."""
    return (
        not_terminal(state)
        or transition_allowed(kind, state)
        or receiver_is_destination(kind, destination_id, actor_org_id)
        or recorder_holds_item(kind, state, holder_id, actor_org_id)
        or collector_is_recycler(kind, actor_kind)
        or dismantler_is_licensed(kind, actor_kind, licensed)
    )


def receiver_is_licensed(kind: Kind, required: frozenset[str], licensed: bool) -> Refusal | None:
    """An item whose category names receiver licences (a traction battery: ``EXTRA_CATEGORIES``) is shipped to,
    and received by, only an organisation holding one of them valid on the event date."""
    if kind.code in ("ship", "load", "receive", "unload") and required and not licensed:
        return Refusal(
            "receiver_not_licensed", "接收方在事件日期没有有效的相应资质（如废旧动力蓄电池梯次利用或再生利用企业）"
        )
    return None


# What the workspace offers for one scanned item, in this order (a load needs a vehicle: API and import only).
OFFERED_KINDS = ("receive", "ship", "collect", "dismantle", "destroy")


def kinds_open_to(
    *, state: str | None, holder_id: int | None, destination_id: int | None, actor_org_id: int, actor_kind: str
) -> list[Kind]:
    """The offered kinds the custody rules let an organisation record on a recorded item now (the licence is
    checked when the event is recorded)."""
    if state is None:
        return []
    return [
        kind
        for kind in (KINDS[code] for code in OFFERED_KINDS)
        if check_transition(
            kind=kind,
            state=state,
            holder_id=holder_id,
            destination_id=destination_id,
            actor_org_id=actor_org_id,
            actor_kind=actor_kind,
            licensed=True,
        )
        is None
    ]


@dataclass(frozen=True)
class TraceCategory:
    """A category trace records beyond the subsidy categories (``catalogue.domain.categories.CATEGORIES``): its
    name, and the licences (``accounts.Licence.Kind`` values) of which its receiver must hold one."""

    name: str
    receiver_licences: frozenset[str] = frozenset()


# Declared as data: a new category is a row here (and its plausible mass below), not code.
EXTRA_CATEGORIES: dict[str, TraceCategory] = {
    # 《新能源汽车动力蓄电池回收利用管理暂行办法》(工信部联节〔2018〕43号): a scrapping enterprise hands a
    # scrapped NEV's traction battery to a cascade-use (梯次利用) or recycling (再生利用) enterprise, and the
    # hand-over is recorded on the traceability platform.
    "traction_battery": TraceCategory("新能源汽车动力蓄电池", frozenset({"battery_cascade_use", "battery_recycling"})),
}


def receiver_licences(category: str) -> frozenset[str]:
    """The licence kinds a receiver of an item of ``category`` must hold one of (none for most categories)."""
    extra = EXTRA_CATEGORIES.get(category)
    return extra.receiver_licences if extra else frozenset()


# Total material a dismantled unit can plausibly yield, in grams (GB/T 2019 sample weights, rounded out).
MASS_RANGES_G: dict[str, tuple[int, int]] = {
    "fridge": (15_000, 180_000),
    "washer": (15_000, 110_000),
    "tv": (2_000, 70_000),
    "ac": (15_000, 100_000),
    "computer": (1_000, 35_000),
    "water_heater": (5_000, 80_000),
    "range_hood": (8_000, 40_000),
    "microwave": (8_000, 25_000),
    # A passenger car's pack weighs from about 20 kg (a plug-in hybrid's) to 1 t (a large bus's).
    "traction_battery": (20_000, 1_000_000),
}
MATERIALS = {
    "metals": "金属",
    "plastics": "塑料",
    "glass": "玻璃",
    "refrigerant": "制冷剂",
    "hazardous": "危险部件",
    "circuit_boards": "电路板",
    "other": "其他",
}
NEEDS_REFRIGERANT = frozenset({"fridge", "ac"})


def plausibility(category: str, outputs_g: dict[str, int]) -> list[str]:
    """Reasons a dismantling's outputs look implausible for the category (empty when they look fine)."""
    reasons = []
    total = sum(outputs_g.values())
    low, high = MASS_RANGES_G.get(category, (500, 300_000))
    if not low <= total <= high:
        reasons.append(f"产出总重 {total / 1000:.1f} kg 不在该品类合理范围 {low / 1000:.0f}–{high / 1000:.0f} kg 内")
    if category in NEEDS_REFRIGERANT and outputs_g.get("refrigerant", 0) <= 0:
        reasons.append("含制冷剂的品类未记录回收制冷剂")
    return reasons
