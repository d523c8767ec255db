"""A vehicle's life as a list of events, and its current state derived from them.

Events are only ever appended (registration, transfers, inspections, scrapping, deregistration); what the
vehicle is now — in use, scrapped, deregistered; who owns it and since when; where it is registered; its
last inspection — is computed from them here, never typed in. The same function decides whether a new event
may follow the ones recorded.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

# Order of kinds on the same day: a car is registered before it is inspected, scrapped before deregistered.
KIND_ORDER: Final[Mapping[str, int]] = {
    "registration": 0,
    "transfer": 1,
    "inspection": 2,
    # A certificate revoked (issued in error) ranks with the scrapping it undoes: on one day they keep the order
    # they were recorded in (the sort is stable), so intake, revocation and a new intake read back as they happened.
    "scrapping": 3,
    "scrap_revoked": 3,
    "deregistration": 4,
}

# Codes of the refusals of :func:`refusal_for`.
NOT_REGISTERED: Final = "vehicle_not_registered"
ALREADY_REGISTERED: Final = "vehicle_already_registered"
ALREADY_DEREGISTERED: Final = "vehicle_deregistered"
ALREADY_SCRAPPED: Final = "vehicle_scrapped"
BEFORE_LAST_EVENT: Final = "event_before_last"
NOT_SCRAPPED: Final = "vehicle_not_scrapped"


@dataclass(frozen=True)
class Owner:
    """Who owns the vehicle: a person or an organisation, by name and the sealed identity number."""

    kind: str
    name: str
    id_digest: str
    id_masked: str
    id_cipher: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class EventFacts:
    """One event as the rules read it: its kind and day, and what it says about owner, district and use."""

    kind: str
    occurred_on: datetime.date
    owner: Owner | None = None
    district_code: str = ""
    use: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VehicleState:
    """What the events say the vehicle is today."""

    status: str
    registered_on: datetime.date | None
    owner: Owner | None
    owner_since: datetime.date | None
    district_code: str
    use: str
    last_event_on: datetime.date | None
    last_inspection_on: datetime.date | None = None
    inspection_passed: bool | None = None
    mileage_km: int | None = None
    scrapped_on: datetime.date | None = None
    deregistered_on: datetime.date | None = None


EMPTY: Final = VehicleState(
    status="", registered_on=None, owner=None, owner_since=None, district_code="", use="", last_event_on=None
)


def in_order(events: Iterable[EventFacts]) -> list[EventFacts]:
    """Events in the order they happened: by day, then by the natural order of kinds on one day."""
    return sorted(events, key=lambda event: (event.occurred_on, KIND_ORDER[event.kind]))


def apply(state: VehicleState, event: EventFacts) -> VehicleState:
    """The state after one more event (assumed allowed: see :func:`refusal_for`)."""
    changes: dict[str, Any] = {"last_event_on": event.occurred_on}
    if event.kind == "registration":
        changes |= {
            "status": "registered",
            "registered_on": event.occurred_on,
            "owner": event.owner,
            "owner_since": event.occurred_on,
            "district_code": event.district_code,
            "use": event.use,
        }
    elif event.kind == "transfer":
        changes |= {"owner": event.owner, "owner_since": event.occurred_on}
        if event.district_code:
            changes["district_code"] = event.district_code
        if event.use:
            changes["use"] = event.use
    elif event.kind == "inspection":
        mileage = event.details.get("mileage_km")
        changes |= {
            "last_inspection_on": event.occurred_on,
            "inspection_passed": bool(event.details.get("passed", True)),
            "mileage_km": mileage if isinstance(mileage, int) else state.mileage_km,
        }
    elif event.kind == "scrapping":
        changes |= {"status": "scrapped", "scrapped_on": event.occurred_on}
    elif event.kind == "scrap_revoked":
        # The certificate was revoked (issued in error): the vehicle is back in use as before its intake. It does
        # not move the last event's day, so the traffic police's deregistration of that scrapping, dated before
        # the revocation but arriving after it, is still taken; and it never undoes a deregistration.
        changes = {"scrapped_on": None}
        if state.status == "scrapped":
            changes["status"] = "registered"
    elif event.kind == "deregistration":
        changes |= {"status": "deregistered", "deregistered_on": event.occurred_on}
    return dataclasses.replace(state, **changes)


def derive_state(events: Iterable[EventFacts]) -> VehicleState:
    """The vehicle's state from all its events, taken in the order they happened."""
    state = EMPTY
    for event in in_order(events):
        state = apply(state, event)
    return state


def refusal_for(state: VehicleState, kind: str, occurred_on: datetime.date) -> tuple[str, str] | None:
    """Why an event of ``kind`` on ``occurred_on`` cannot follow the recorded ones, as (code, Chinese message);
    None when it may. A life starts with its registration and ends with its deregistration; after scrapping only
    the deregistration (or the certificate's revocation) follows; a revocation follows only a scrapping; nothing is
    recorded before the last recorded event."""
    if kind == "registration":
        if state.status:
            return ALREADY_REGISTERED, "该车辆已有注册登记记录，不能重复登记"
        return None
    if not state.status:
        return NOT_REGISTERED, "该车辆没有注册登记记录，请先导入注册登记数据"
    if state.status == "deregistered":
        return ALREADY_DEREGISTERED, "该车辆已注销登记，不能再记录其他业务"
    if state.status == "scrapped" and kind not in ("deregistration", "scrap_revoked"):
        return ALREADY_SCRAPPED, "该车辆已报废回收，只能办理注销登记"
    if kind == "scrap_revoked" and state.status != "scrapped":
        return NOT_SCRAPPED, "该车辆没有有效的报废回收记录"
    if state.last_event_on is not None and occurred_on < state.last_event_on:
        return BEFORE_LAST_EVENT, f"业务日期早于该车辆最近一次业务的日期（{state.last_event_on:%Y-%m-%d}）"
    return None
