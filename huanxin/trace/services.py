"""The write side of traceability: commissioning codes and recording events, one by one or in batches.

What it writes, in one transaction per call: ``TraceItem`` rows (inserted at commissioning; state, holder,
destination, chain head and event count updated by every later event; the take-back and serial bound by
``commission_take_back``), ``TraceEvent`` rows (append-only, each event's canonical text and hash),
``ChainLink`` rows (one per item an event names), ``TraceFlag`` rows (implausible dismantling outputs) and
one audit row per batch (``trace.events.record``). The rules an event must pass live in
``trace.domain.recording`` and ``trace.domain.rules``; reads are in ``trace.queries``.

Batches are set-based: the items a batch touches are locked once (in key order), every event is decided in
memory in order, and events, chain links and item states are written in bulk — thousands of events a second
while every rule still runs for every event.
"""

from __future__ import annotations

import datetime
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, User
from huanxin.accounts.roles import MERCHANT_STAFF
from huanxin.core import audit
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.permissions import organisations_for
from huanxin.trace.domain.canonical import GENESIS, canonical_text, text_hash
from huanxin.trace.domain.codes import InvalidCode, giai_element, is_canonical, parse_code, printed_code
from huanxin.trace.domain.recording import (
    UNRECORDED,
    ItemState,
    Recorder,
    after_event,
    event_refusal,
    item_refusal,
    licensed_on,
)
from huanxin.trace.domain.rules import (
    EXT,
    KINDS,
    Kind,
    Refusal,
    plausibility,
    receiver_is_licensed,
    receiver_licences,
    trade_of,
)
from huanxin.trace.models import ChainLink, TraceEvent, TraceFlag, TraceItem

MAX_BATCH = 1000


def company_prefix() -> str:
    return str(getattr(settings, "HUANXIN_GS1_COMPANY_PREFIX", "6999999"))


def new_code() -> str:
    """A GIAI EPC URI under the programme's GS1 company prefix: urn:epc:id:giai:<prefix>.<asset reference>."""
    return f"urn:epc:id:giai:{company_prefix()}.{secrets.randbelow(10**12):012d}"


def digital_link(code: str) -> str:
    """The GS1 Digital Link a label's QR code carries (AI 8004 = GIAI), resolved by the public verify page."""
    return f"{settings.HUANXIN_TRACE_RESOLVER}/8004/{giai_element(code)}"


def canonical_code(text: str, *, field_name: str = "code") -> str:
    """The stored form of a code however a person gave it (printed line, URN, scanned link, pasted address).

    The one entry point for a code from outside: pages, forms, API paths and bodies all come through here.
    Text that is no code is refused as a field error naming ``field_name``.
    """
    try:
        return parse_code(text, company_prefix=company_prefix())
    except InvalidCode as error:
        raise ValidationFailed.for_field(field_name, error.code, error.message) from None


def org_uri(organisation: Organisation) -> str:
    return f"{settings.HUANXIN_TRACE_RESOLVER}/org/{organisation.uscc}"


def _time_text(moment: datetime.datetime) -> str:
    # Beijing time, as eventTimeZoneOffset says; naming the zone skips the per-call lookup of the active one.
    local = timezone.localtime(moment, timezone.get_default_timezone())
    return local.isoformat(timespec="milliseconds")


# ---------------------------------------------------------------- one event as a document


@dataclass
class EventInput:
    """What a caller asks to record (after parsing): the kind, the items, when, and the kind's details."""

    kind: str
    codes: list[str]
    event_time: datetime.datetime
    destination: Organisation | None = None
    parent: str = ""
    outputs_g: dict[str, int] = field(default_factory=dict)
    category: str = ""


def build_document(
    data: EventInput, kind: Kind, organisation: Organisation, *, category: str | None = None
) -> dict[str, Any]:
    """The EPCIS 2.0 event (JSON-LD, CBV terms bare, our extension under hx:) without its eventID.

    ``category`` (the event's own when None) is what the document declares as ``hx:category``.
    """
    category = data.category if category is None else category
    where = {"id": org_uri(organisation)}
    document: dict[str, Any] = {
        "type": kind.event_type,
        "eventTime": _time_text(data.event_time),
        "eventTimeZoneOffset": "+08:00",
        "bizStep": kind.biz_step,
        "disposition": kind.disposition,
        "readPoint": where,
        "bizLocation": where,
        "hx:kind": kind.code,
    }
    if kind.event_type == "ObjectEvent":
        document["action"] = kind.action
        document["epcList"] = sorted(data.codes)
    elif kind.event_type == "AggregationEvent":
        document["action"] = kind.action
        document["parentID"] = data.parent
        document["childEPCs"] = sorted(data.codes)
    else:
        document["inputEPCList"] = sorted(data.codes)
        document["outputQuantityList"] = [
            {"epcClass": f"{EXT}material/{name}", "quantity": grams / 1000, "uom": "KGM"}
            for name, grams in sorted(data.outputs_g.items())
        ]
    if data.destination is not None:
        document["destinationList"] = [{"type": "owning_party", "destination": org_uri(data.destination)}]
    if category:
        document["hx:category"] = category
    return document


# ---------------------------------------------------------------- membership and licences


# ---------------------------------------------------------------- recording


@dataclass(frozen=True)
class EventResult:
    """What became of one event of a batch: recorded, a duplicate of one stored, or refused and why."""

    index: int
    status: str  # "recorded", "duplicate", "refused"
    code: str = ""
    message: str = ""
    field: str = ""
    event_hash: str = ""
    items: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "field": self.field,
            "event_hash": self.event_hash,
            "items": list(self.items),
        }


def _refused(index: int, refusal: Refusal) -> EventResult:
    return EventResult(index, "refused", refusal.code, refusal.message, refusal.field)


@dataclass
class _Batch:
    """One batch at work: what the rules read, fetched once under lock, and what the accepted events write."""

    organisation: Organisation
    recorder: Recorder
    actor_id: int | None
    now: datetime.datetime
    stored: dict[str, tuple[int, str]]  # the stored items the batch names, locked: code -> id, category
    states: dict[str, ItemState]  # every named item on record, as the batch has left it so far
    destinations: set[int]  # the named destinations that are registered organisations
    prepared: dict[int, tuple[str, str, str]]  # by index: the category, the canonical text and its hash
    stored_hashes: set[str]  # of those hashes, the ones already recorded
    licences: list[tuple[datetime.date, datetime.date | None]] | None = None  # read at the first dismantling
    # Licences of receivers of items whose category requires one (organisation id -> kind, from, until).
    receiver_licences: dict[int, list[tuple[str, datetime.date, datetime.date | None]]] = field(default_factory=dict)
    seen_hashes: set[str] = field(default_factory=set)
    rows: list[dict[str, Any]] = field(default_factory=list)  # TraceEvent fields of the accepted events
    links: list[tuple[str, int, str, str, str]] = field(default_factory=list)  # code, sequence, previous, link, hash
    new_categories: dict[str, str] = field(default_factory=dict)  # items commissioned here: code -> category
    touched: dict[str, None] = field(default_factory=dict)  # stored items whose state changed, in order
    flags: list[tuple[str, str, str]] = field(default_factory=list)  # event hash, code, reason


def record_events(
    *,
    actor: User | None,
    organisation: Organisation,
    events: Sequence[EventInput],
    now: datetime.datetime | None = None,
) -> list[EventResult]:
    """Record a batch of events for one organisation, in order, each refused or accepted on its own.

    Accepted events and their chain links are written together with the items' new states in one
    transaction; a refused event changes nothing and says why; an event already stored (same hash) is
    reported as a duplicate, so a retried batch records nothing twice.
    """
    if len(events) > MAX_BATCH:
        raise ValidationFailed.for_field("events", "too_many", f"每批最多 {MAX_BATCH} 个事件")
    with transaction.atomic(durable=True):
        return _record_in_transaction(actor, organisation, events, now)


def record_events_step(
    *,
    actor: User | None,
    organisation: Organisation,
    events: Sequence[EventInput],
    now: datetime.datetime | None = None,
) -> list[EventResult]:
    """``record_events`` as a step of the caller's transaction, not an entry point: another app's service records
    trace events together with its own rows (the scrapping enterprise's battery hand-over), all or nothing."""
    if not connection.in_atomic_block:
        raise RuntimeError("record_events_step() runs inside the caller's transaction")
    if len(events) > MAX_BATCH:
        raise ValidationFailed.for_field("events", "too_many", f"每批最多 {MAX_BATCH} 个事件")
    return _record_in_transaction(actor, organisation, events, now)


def _record_in_transaction(
    actor: User | None,
    organisation: Organisation,
    events: Sequence[EventInput],
    now: datetime.datetime | None,
) -> list[EventResult]:
    events, unreadable = _canonical_codes(events)
    now = now or timezone.now()
    batch = _load_batch(actor, organisation, events, unreadable, now)
    # Every rule runs for every event, in order, against the items as the events before it left them.
    results = [_decide(batch, index, data, unreadable.get(index, "")) for index, data in enumerate(events)]
    if batch.rows:
        _write_batch(batch)
        _audit_batch(actor, organisation, results)
    return results


def _load_batch(
    actor: User | None,
    organisation: Organisation,
    events: Sequence[EventInput],
    unreadable: Mapping[int, str],
    now: datetime.datetime,
) -> _Batch:
    """Lock the items a batch names and read what its rules need: a few statements for the whole batch."""
    # Only codes that parsed go near the database: an unreadable one (NUL bytes, junk) is refused with its
    # event, and PostgreSQL would reject a NUL inside the JSON of the lookup with a server error.
    all_codes = sorted({code for index, event in enumerate(events) if index not in unreadable for code in event.codes})
    destinations = {e.destination.pk for e in events if e.destination is not None}
    # Lock every item the batch touches, in key order: concurrent batches on the same items queue.
    # Plain rows, not model instances: building a TraceItem costs more than every rule an event passes.
    locked = (
        TraceItem.objects.select_for_update()
        .filter(code__in=_json_values(all_codes))
        .order_by("pk")
        .values_list(
            "code", "pk", "category", "state", "holder_id", "destination_id", "head_hash", "event_count", "updated_at"
        )
    )
    states: dict[str, ItemState] = {}
    stored: dict[str, tuple[int, str]] = {}
    for code, pk, category, state, holder_id, destination_id, head, count, updated_at in locked:
        stored[code] = (pk, category)
        states[code] = ItemState(state or None, holder_id, destination_id, head or GENESIS, count, updated_at)
    registered = set(Organisation.objects.filter(pk__in=destinations).values_list("pk", flat=True))
    prepared = {
        index: _prepare(data, stored, organisation)
        for index, data in enumerate(events)
        if data.kind in KINDS and timezone.is_aware(data.event_time) and index not in unreadable
    }
    stored_hashes = set(
        TraceEvent.objects.filter(hash__in=_json_values([digest for _, _, digest in prepared.values()])).values_list(
            "hash", flat=True
        )
    )
    return _Batch(
        organisation=organisation,
        recorder=Recorder(organisation.pk, trade_of(str(organisation.kind))),
        actor_id=actor.pk if actor is not None else None,
        now=now,
        stored=stored,
        states=states,
        destinations=registered,
        prepared=prepared,
        stored_hashes=stored_hashes,
    )


def _decide(batch: _Batch, index: int, data: EventInput, unreadable: str) -> EventResult:
    """One event's fate: refused with the first rule it breaks, a duplicate of one recorded, or accepted."""
    kind = KINDS.get(data.kind)
    destination_id = data.destination.pk if data.destination is not None else None
    refusal = event_refusal(
        kind,
        data.codes,
        unreadable=unreadable,
        event_time=data.event_time,
        now=batch.now,
        category=data.category,
        parent=data.parent,
        destination_known=destination_id in batch.destinations,
        outputs_g=data.outputs_g,
    )
    if refusal is not None:
        return _refused(index, refusal)
    assert kind is not None  # event_refusal refuses an unknown kind
    # The event's identity is its hash: a retried event is a duplicate before any rule is applied to its items.
    category, canonical, digest = batch.prepared[index]
    if digest in batch.seen_hashes or digest in batch.stored_hashes:
        return EventResult(index, "duplicate", "duplicate", "该事件已记录", event_hash=digest, items=tuple(data.codes))
    # Only a dismantling asks for the licence; the others need no local date (it is not cheap).
    licensed = kind.code == "dismantle" and _licensed(batch, data.event_time)
    for code in data.codes:
        refusal = item_refusal(
            kind, code, batch.states.get(code), event_time=data.event_time, recorder=batch.recorder, licensed=licensed
        )
        if refusal is not None:
            return _refused(index, refusal)
        receiver = destination_id if kind.code in ("ship", "load") else batch.recorder.organisation_id
        required = receiver_licences(_category_of(batch, code))
        if required and kind.code in ("ship", "load", "receive", "unload"):
            holds = receiver is not None and _holds_licence(batch, receiver, required, data.event_time)
            refusal = receiver_is_licensed(kind, required, holds)
            if refusal is not None:
                return _refused(index, replace(refusal, message=f"{printed_code(code)}：{refusal.message}"))
    _accept(batch, data, kind, (category, canonical, digest), destination_id)
    return EventResult(index, "recorded", event_hash=digest, items=tuple(data.codes))


def _licensed(batch: _Batch, moment: datetime.datetime) -> bool:
    """Whether a dismantling licence of the organisation covers the event's Beijing date (read once a batch)."""
    if batch.licences is None:
        batch.licences = list(
            Licence.objects.filter(organisation=batch.organisation, kind=Licence.Kind.WEEE_DISMANTLING).values_list(
                "valid_from", "valid_until"
            )
        )
    return licensed_on(timezone.localdate(moment), batch.licences)


def _category_of(batch: _Batch, code: str) -> str:
    """An item's category: as stored, or as commissioned earlier in this batch."""
    return batch.stored[code][1] if code in batch.stored else batch.new_categories.get(code, "")


def _holds_licence(batch: _Batch, organisation_id: int, kinds: frozenset[str], moment: datetime.datetime) -> bool:
    """Whether the organisation holds a licence of one of ``kinds`` covering the event's Beijing date (each
    organisation's licences read once a batch)."""
    if organisation_id not in batch.receiver_licences:
        batch.receiver_licences[organisation_id] = list(
            Licence.objects.filter(organisation_id=organisation_id).values_list("kind", "valid_from", "valid_until")
        )
    spans = [(start, end) for kind, start, end in batch.receiver_licences[organisation_id] if kind in kinds]
    return licensed_on(timezone.localdate(moment), spans)


def _accept(
    batch: _Batch, data: EventInput, kind: Kind, prepared: tuple[str, str, str], destination_id: int | None
) -> None:
    """An accepted event's row, its chain link on each item, the items' new states and its plausibility flags."""
    category, canonical, digest = prepared
    batch.seen_hashes.add(digest)
    reasons = plausibility(category, data.outputs_g) if kind.code == "dismantle" else []
    batch.rows.append(
        {
            "hash": digest,
            "canonical": canonical,
            "kind": kind.code,
            "event_type": kind.event_type,
            "biz_step": kind.biz_step,
            "event_time": data.event_time,
            "organisation_id": batch.recorder.organisation_id,
            "recorded_by_id": batch.actor_id,
            "recorded_at": batch.now,
            "implausible": bool(reasons),
            "flag_reasons": reasons,
        }
    )
    for code in data.codes:
        item = batch.states.get(code)
        if item is None:  # a commissioning: the item is inserted in its final state
            batch.new_categories[code] = data.category
            item = UNRECORDED
        elif code in batch.stored:
            batch.touched[code] = None
        after = after_event(
            kind,
            item,
            digest=digest,
            event_time=data.event_time,
            recorder_id=batch.recorder.organisation_id,
            sent_destination_id=destination_id,
        )
        batch.states[code] = after
        batch.links.append((code, after.event_count, item.head, after.head, digest))
        batch.flags.extend((digest, code, reason) for reason in reasons)


def _write_batch(batch: _Batch) -> None:
    """Write the accepted events, their chain links, the items' new states and the flags, each in bulk."""
    item_ids = _insert_items(batch) | {code: batch.stored[code][0] for code in batch.touched}
    event_ids = _insert_events(batch.rows)
    _insert_links(
        [(item_ids[code], sequence, previous, link, digest) for code, sequence, previous, link, digest in batch.links],
        event_ids,
    )
    # New items were inserted above in their final state; only the others need their state written.
    _write_item_states([(batch.stored[code][0], batch.states[code]) for code in batch.touched])
    TraceFlag.objects.bulk_create(
        [TraceFlag(event_id=event_ids[d], item_id=item_ids[c], reason=r[:200]) for d, c, r in batch.flags]
    )


def _audit_batch(actor: User | None, organisation: Organisation, results: Sequence[EventResult]) -> None:
    """The batch's audit row: how many events were recorded, refused and duplicates, and the first hash."""
    recorded = [r for r in results if r.status == "recorded"]
    audit.record(
        actor=actor or "trace-import",
        action="trace.events.record",
        target=organisation,
        after={
            "recorded": len(recorded),
            "refused": sum(r.status == "refused" for r in results),
            "duplicates": sum(r.status == "duplicate" for r in results),
            "first_hash": recorded[0].event_hash if recorded else "",
        },
        organisation_id=organisation.pk,
        district_code=organisation.district_id,
    )


def _canonical_codes(events: Sequence[EventInput]) -> tuple[list[EventInput], dict[int, str]]:
    """The events with their codes in stored form, and why each event whose codes are not codes is refused.

    Every caller (the API, EPCIS import, the workspace) passes codes as it got them; a code already in stored
    form costs one regular-expression match.
    """
    prefix = company_prefix()
    canonical: list[EventInput] = []
    unreadable: dict[int, str] = {}
    for index, data in enumerate(events):
        if all(is_canonical(code) for code in data.codes):
            canonical.append(data)
            continue
        try:
            codes = [parse_code(code, company_prefix=prefix) for code in data.codes]
        except InvalidCode as error:
            unreadable[index] = error.message
            canonical.append(data)
        else:
            canonical.append(replace(data, codes=codes))
    return canonical, unreadable


def _json_values(values: Sequence[str]) -> RawSQL:
    """A subquery of the values, sent as one JSON text the database takes apart.

    ``field__in=[…]`` resolves and binds each of a batch's thousands of codes and hashes one by one, which cost
    about a tenth of a batch in bench/trace.py.
    """
    if connection.vendor == "postgresql":
        return RawSQL("SELECT jsonb_array_elements_text(%s::jsonb)", [json.dumps(values)])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(values)])


# Columns written from JSON rows on PostgreSQL, with the cast each needs (jsonb columns take the value as is).
EVENT_COLUMNS = {
    "hash": "",
    "canonical": "",
    "kind": "",
    "event_type": "",
    "biz_step": "",
    "event_time": "timestamptz",
    "organisation_id": "bigint",
    "recorded_by_id": "bigint",
    "recorded_at": "timestamptz",
    "implausible": "boolean",
    "flag_reasons": "jsonb",
}
LINK_COLUMNS = {"item_id": "bigint", "sequence": "integer", "event_id": "bigint", "previous": "", "link": ""}


def _insert_json_rows(
    table: str, columns: Mapping[str, str], rows: list[dict[str, Any]], returning: str = ""
) -> list[tuple[Any, ...]]:
    """INSERT the rows, sent as one JSON array that PostgreSQL takes apart, in order.

    bulk_create sends each column as an array literal, and Django's client-side binding quotes every element
    of it in Python: for a batch of JSON documents that costs more than everything else in the batch
    (measured in bench/trace.py). One JSON text is quoted once.
    """
    values = ", ".join(
        f"row -> '{name}'" if cast == "jsonb" else f"(row ->> '{name}')" + (f"::{cast}" if cast else "")
        for name, cast in columns.items()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {values} "  # noqa: S608 - names from this module
            "FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS rows(row, position) ORDER BY position"
            + (f" RETURNING {returning}" if returning else ""),
            [json.dumps(rows)],
        )
        return cursor.fetchall() if returning else []


def _insert_events(events: list[dict[str, Any]]) -> dict[str, int]:
    """Insert a batch's events (TraceEvent fields) in order; their ids by hash. The database derives each
    event's JSON document from its canonical text.

    Plain rows rather than model instances: a TraceEvent object costs about 10 µs to build, work that only
    the bulk_create path (SQLite) needs.
    """
    if connection.vendor != "postgresql":
        return {e.hash: e.pk for e in TraceEvent.objects.bulk_create([TraceEvent(**row) for row in events])}
    recorded = {row["recorded_at"]: row["recorded_at"].isoformat() for row in events}  # one moment a batch
    rows = [
        {**row, "event_time": row["event_time"].isoformat(), "recorded_at": recorded[row["recorded_at"]]}
        for row in events
    ]
    return dict(_insert_json_rows(TraceEvent._meta.db_table, EVENT_COLUMNS, rows, returning="hash, id"))


def _insert_links(links: list[tuple[int, int, str, str, str]], event_ids: Mapping[str, int]) -> None:
    """The batch's chain links (item id, sequence, previous, link, event hash): bulk_create, on PostgreSQL as JSON."""
    if connection.vendor != "postgresql":
        ChainLink.objects.bulk_create(
            [
                ChainLink(item_id=item_id, sequence=seq, event_id=event_ids[digest], previous=previous, link=link)
                for item_id, seq, previous, link, digest in links
            ]
        )
        return
    rows = [
        {"item_id": item_id, "sequence": seq, "event_id": event_ids[digest], "previous": previous, "link": link}
        for item_id, seq, previous, link, digest in links
    ]
    _insert_json_rows(ChainLink._meta.db_table, LINK_COLUMNS, rows)


ITEM_STATE_FIELDS = ("state", "holder", "destination", "head_hash", "event_count", "updated_at")
# The same, as the columns written from JSON rows on PostgreSQL, with their types.
ITEM_STATE_COLUMNS = {
    "state": "varchar",
    "holder_id": "bigint",
    "destination_id": "bigint",
    "head_hash": "varchar",
    "event_count": "integer",
    "updated_at": "timestamptz",
}


# The columns of a new item written from JSON rows on PostgreSQL (take_back_id is left NULL).
NEW_ITEM_COLUMNS = {
    "code": "",
    "category": "",
    "serial": "",
    "state": "",
    "holder_id": "bigint",
    "destination_id": "bigint",
    "head_hash": "",
    "event_count": "integer",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
}


def _insert_items(batch: _Batch) -> dict[str, int]:
    """Insert the items commissioned in a batch in their final state; their ids by code."""
    if not batch.new_categories:
        return {}
    if connection.vendor != "postgresql":
        items = [
            TraceItem(code=code, category=category, created_at=batch.now, **_state_fields(batch.states[code]))
            for code, category in batch.new_categories.items()
        ]
        return {item.code: item.pk for item in TraceItem.objects.bulk_create(items)}
    now = batch.now.isoformat()
    rows = []
    for code, category in batch.new_categories.items():
        state = batch.states[code]
        rows.append(
            {
                "code": code,
                "category": category,
                "serial": "",
                "state": state.state or "",
                "holder_id": state.holder_id,
                "destination_id": state.destination_id,
                "head_hash": state.head,
                "event_count": state.event_count,
                "created_at": now,
                "updated_at": state.updated_at.isoformat() if state.updated_at else now,
            }
        )
    return dict(_insert_json_rows(TraceItem._meta.db_table, NEW_ITEM_COLUMNS, rows, returning="code, id"))


def _state_fields(state: ItemState) -> dict[str, Any]:
    """The TraceItem fields that hold an item's state."""
    return {
        "state": state.state or "",
        "holder_id": state.holder_id,
        "destination_id": state.destination_id,
        "head_hash": state.head,
        "event_count": state.event_count,
        "updated_at": state.updated_at,
    }


def _write_item_states(items: Sequence[tuple[int, ItemState]]) -> None:
    """Write the items' new state, head and count: on PostgreSQL one ``UPDATE … FROM jsonb_to_recordset``.

    ``bulk_update`` builds a CASE WHEN per item and field, which costs more Python time than the rest of a
    batch together, and arrays are quoted element by element in Python (both measured in bench/trace.py);
    elsewhere (SQLite) bulk_update is still used.
    """
    if not items:
        return
    if connection.vendor != "postgresql":
        TraceItem.objects.bulk_update(
            [TraceItem(pk=pk, **_state_fields(state)) for pk, state in items], ITEM_STATE_FIELDS, batch_size=500
        )
        return
    rows = [
        {
            "id": pk,
            "state": state.state or "",
            "holder_id": state.holder_id,
            "destination_id": state.destination_id,
            "head_hash": state.head,
            "event_count": state.event_count,
            "updated_at": state.updated_at.isoformat() if state.updated_at else None,
        }
        for pk, state in items
    ]
    assignments = ", ".join(f'"{column}" = v."{column}"' for column in ITEM_STATE_COLUMNS)
    types = ", ".join(["id bigint", *(f'"{column}" {kind}' for column, kind in ITEM_STATE_COLUMNS.items())])
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{TraceItem._meta.db_table}" AS t SET {assignments} '  # noqa: S608 - names from the model
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({types}) WHERE t.id = v.id",
            [json.dumps(rows)],
        )


def _prepare(
    data: EventInput, items: Mapping[str, tuple[int, str]], organisation: Organisation
) -> tuple[str, str, str]:
    """The category, the canonical text of the EPCIS event and its hash for one event as the caller sent it."""
    kind = KINDS[data.kind]
    first = data.codes[0] if data.codes else ""
    category = data.category or (items[first][1] if first in items else "")
    # Only a commissioning and a dismantling declare the category (the one sent, else the item's own).
    declared = category if kind.code in ("commission", "dismantle") else ""
    canonical = canonical_text(build_document(data, kind, organisation, category=declared))
    return category, canonical, text_hash(canonical)


def record_one(*, actor: User, organisation: Organisation, data: EventInput) -> EventResult:
    """Record a single event (the page's, the API's and the import's one-event verb): recorded, or a duplicate
    of one already recorded; a refusal raises with the reason and its field and changes nothing."""
    [result] = record_events(actor=actor, organisation=organisation, events=[data])
    if result.status == "refused":
        raise ValidationFailed.for_field(result.field or "codes", result.code, result.message)
    return result


def commission_take_back(*, actor: User, take_back: Any) -> TraceItem:
    """Give the old item a merchant took back at checkout its code (once), bound to that take-back. Only the
    merchant's staff may, and they are checked before anything about the item is read."""
    merchant = take_back.redemption.merchant
    if merchant.pk not in organisations_for(actor, *MERCHANT_STAFF):
        raise ForbiddenError("只有本商户人员可以为回收旧机赋码", code="not_a_member")
    existing = TraceItem.objects.filter(take_back=take_back).first()
    if existing is not None:
        return existing
    code = new_code()
    record_one(
        actor=actor,
        organisation=merchant,
        data=EventInput("commission", [code], timezone.now(), category=take_back.category),
    )
    try:
        with transaction.atomic():
            TraceItem.objects.filter(code=code, take_back__isnull=True).update(
                take_back=take_back, serial=take_back.redemption.serial
            )
    except IntegrityError:
        raise ValidationFailed.for_field("take_back", "already_commissioned", "该旧机已赋码") from None
    return TraceItem.objects.get(code=code)


def commission_pickup(
    *, actor: User, organisation: Organisation, category: str, when: datetime.datetime | None = None
) -> TraceItem:
    """A recycler collects an old item from a household: a new code, commissioned and collected."""
    if organisation.kind != OrganisationKind.RECYCLER:
        raise ForbiddenError("只有回收企业可以登记上门回收", code="not_recycler")
    moment = when or timezone.now()
    code = new_code()
    results = record_events(
        actor=actor,
        organisation=organisation,
        events=[
            EventInput("commission", [code], moment, category=category),
            EventInput("collect", [code], moment + datetime.timedelta(milliseconds=1)),
        ],
    )
    refused = [r for r in results if r.status == "refused"]
    if refused:
        raise ValidationFailed(refused[0].message, code=refused[0].code)
    return TraceItem.objects.get(code=code)


TRACTION_BATTERY = "traction_battery"


def hand_over_traction_battery(
    *,
    actor: User,
    organisation: Organisation,
    battery_code: str,
    recycler: Organisation,
    when: datetime.datetime,
) -> TraceItem:
    """A step of the caller's transaction (the scrapping enterprise's battery hand-over): give a scrapped NEV's
    traction battery a trace code (its GB/T 34014 code kept as the item's serial) held by the scrapping
    enterprise, and ship it to the battery recycler, which must hold a cascade-use or recycling licence valid
    on the day (``EXTRA_CATEGORIES``); the recycler then records its receipt like any other. A refusal raises
    with its reason and the caller's transaction writes nothing."""
    code = new_code()
    results = record_events_step(
        actor=actor,
        organisation=organisation,
        events=[
            EventInput("commission", [code], when, category=TRACTION_BATTERY),
            EventInput("ship", [code], when + datetime.timedelta(milliseconds=1), destination=recycler),
        ],
    )
    refused = [r for r in results if r.status == "refused"]
    if refused:
        field_name = "recycler" if refused[0].code in ("receiver_not_licensed", "destination_required") else "codes"
        raise ValidationFailed.for_field(field_name, refused[0].code, refused[0].message)
    TraceItem.objects.filter(code=code).update(serial=battery_code)
    return TraceItem.objects.get(code=code)
