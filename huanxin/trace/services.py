"""The write side of traceability: commissioning codes, recording events one by one or in batches,
daily signed checkpoints, and verification of every chain.

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
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from huanxin.accounts.models import Licence, Organisation, OrganisationKind, User
from huanxin.accounts.roles import MERCHANT_STAFF
from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.core import audit
from huanxin.core.errors import FieldError, ForbiddenError, NotFoundError, ValidationFailed
from huanxin.core.permissions import organisations_for
from huanxin.trace.domain.canonical import GENESIS, canonical_text, link_hash, text_hash
from huanxin.trace.domain.codes import InvalidCode, giai_element, is_canonical, parse_code, printed_code
from huanxin.trace.domain.rules import EXT, KINDS, MATERIALS, Kind, check_transition, is_uri, plausibility
from huanxin.trace.models import ChainLink, TraceEvent, TraceFlag, TraceItem

MAX_BATCH = 1000
UNKNOWN_CODE = "未找到该追溯码：请核对标签上的编码"
CLOCK_SKEW = datetime.timedelta(minutes=5)


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


def build_document(data: EventInput, kind: Kind, organisation: Organisation) -> dict[str, Any]:
    """The EPCIS 2.0 event (JSON-LD, CBV terms bare, our extension under hx:) without its eventID."""
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
    if data.category:
        document["hx:category"] = data.category
    return document


# ---------------------------------------------------------------- membership and licences


def _licensed(organisation: Organisation, day: datetime.date) -> bool:
    return (
        Licence.objects.filter(organisation=organisation, kind=Licence.Kind.WEEE_DISMANTLING, valid_from__lte=day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=day))
        .exists()
    )


def _actor_kind(organisation: Organisation) -> str:
    """Vehicle scrapping enterprises dismantle under the same rules as appliance dismantlers."""
    kind = str(organisation.kind)
    return "dismantler" if kind == OrganisationKind.VEHICLE_SCRAPPER else kind


# ---------------------------------------------------------------- recording


@dataclass(frozen=True)
class EventResult:
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


def _refused(index: int, code: str, message: str, field_name: str = "") -> EventResult:
    return EventResult(index, "refused", code, message, field_name)


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
    events, unreadable = _canonical_codes(events)
    now = now or timezone.now()
    actor_kind = _actor_kind(organisation)
    licence_cache: dict[datetime.date, bool] = {}
    # Only codes that parsed go near the database: an unreadable one (NUL bytes, junk) is refused below with
    # its event, and PostgreSQL would reject a NUL inside the JSON of the lookup with a server error.
    all_codes = sorted({code for index, event in enumerate(events) if index not in unreadable for code in event.codes})
    destinations = {e.destination.pk for e in events if e.destination is not None}
    results: list[EventResult] = []
    with transaction.atomic(durable=True):
        # Lock every item the batch touches, in key order: concurrent batches on the same items queue.
        items = {
            i.code: i
            for i in TraceItem.objects.select_for_update().filter(code__in=_json_values(all_codes)).order_by("pk")
        }
        valid_destinations = set(Organisation.objects.filter(pk__in=destinations).values_list("pk", flat=True))
        pending_events: list[dict[str, Any]] = []  # TraceEvent fields, written in bulk below
        pending_links: list[tuple[TraceItem, int, str, str, str]] = []  # item, seq, previous, link, event hash
        new_items: list[TraceItem] = []
        flags: list[tuple[str, TraceItem, str]] = []
        touched: dict[int | str, TraceItem] = {}
        seen_hashes: set[str] = set()
        prepared = {
            index: _prepare(data, items, organisation)
            for index, data in enumerate(events)
            if data.kind in KINDS and timezone.is_aware(data.event_time) and index not in unreadable
        }
        stored_hashes = set(
            TraceEvent.objects.filter(
                hash__in=_json_values([digest for _, _, digest in prepared.values()])
            ).values_list("hash", flat=True)
        )
        for index, data in enumerate(events):
            kind = KINDS.get(data.kind)
            if kind is None:
                results.append(_refused(index, "unknown_kind", "事件类型无效", "kind"))
                continue
            if not data.codes:
                results.append(_refused(index, "required", "请提供追溯码", "codes"))
                continue
            if len(set(data.codes)) != len(data.codes):
                results.append(_refused(index, "duplicate_code", "同一事件中追溯码重复", "codes"))
                continue
            if index in unreadable:
                results.append(_refused(index, "invalid_code", unreadable[index], "codes"))
                continue
            if timezone.is_naive(data.event_time):
                results.append(_refused(index, "invalid_time", "事件时间须带时区（如 +08:00）", "event_time"))
                continue
            if kind.code == "commission" and data.category and data.category not in CATEGORIES:
                # It is stored on the item and decides the dismantling's plausibility range.
                results.append(_refused(index, "unknown_category", "品类无效", "category"))
                continue
            if data.parent and not is_uri(data.parent):
                results.append(
                    _refused(
                        index,
                        "invalid_parent",
                        "车辆或笼车编号应为 URI，仅含字母、数字和 URI 允许的符号（如 urn:huanxin:load:JING-A-12345）",
                        "parent",
                    )
                )
                continue
            if len(data.codes) > 1 and kind.event_type != "AggregationEvent":
                results.append(_refused(index, "one_item_only", "该事件只能针对一台旧机", "codes"))
                continue
            if data.event_time > now + CLOCK_SKEW:
                results.append(_refused(index, "future_time", "事件时间不能晚于当前时间", "event_time"))
                continue
            if kind.code in ("ship", "load") and (
                data.destination is None or data.destination.pk not in valid_destinations
            ):
                results.append(_refused(index, "destination_required", "发运须指定目的地企业", "destination"))
                continue
            if kind.code == "load" and not data.parent:
                results.append(_refused(index, "parent_required", "装车须提供车辆或笼车编号", "parent"))
                continue
            if kind.code == "dismantle":
                bad = [m for m, g in data.outputs_g.items() if m not in MATERIALS or not isinstance(g, int) or g < 0]
                if not data.outputs_g or bad:
                    results.append(
                        _refused(
                            index, "invalid_outputs", "拆解须记录至少一种平台物料的产物重量，重量不能为负", "outputs"
                        )
                    )
                    continue
            # The event's identity is its hash: a retried event is a duplicate before any rule is applied.
            category, canonical, digest = prepared[index]
            if digest in seen_hashes or digest in stored_hashes:
                results.append(
                    EventResult(
                        index, "duplicate", "duplicate", "该事件已记录", event_hash=digest, items=tuple(data.codes)
                    )
                )
                continue
            refusal: EventResult | None = None
            # Only a dismantling asks for the licence; the others need no local date (it is not cheap).
            day = timezone.localdate(data.event_time) if kind.code == "dismantle" else None
            for code in data.codes:
                item = items.get(code)
                if kind.code == "commission":
                    if item is not None:
                        refusal = _refused(
                            index, "already_commissioned", f"追溯码 {printed_code(code)} 已赋码", "codes"
                        )
                        break
                    continue
                if item is None:
                    refusal = _refused(index, "unknown_code", f"追溯码 {printed_code(code)} 不存在", "codes")
                    break
                if day is not None and day not in licence_cache:
                    licence_cache[day] = _licensed(organisation, day)
                problem = check_transition(
                    kind=kind,
                    state=item.state or None,
                    holder_id=item.holder_id,
                    destination_id=item.destination_id,
                    actor_org_id=organisation.pk,
                    actor_kind=actor_kind,
                    licensed=day is not None and licence_cache[day],
                )
                if problem is not None:
                    refusal = _refused(index, problem.code, f"{printed_code(code)}：{problem.message}", "codes")
                    break
                if item.updated_at and data.event_time < item.updated_at - CLOCK_SKEW and item.event_count:
                    refusal = _refused(
                        index, "out_of_order", f"{printed_code(code)}：事件时间早于该旧机的上一事件", "event_time"
                    )
                    break
            if refusal is not None:
                results.append(refusal)
                continue
            seen_hashes.add(digest)
            reasons = plausibility(category, data.outputs_g) if kind.code == "dismantle" else []
            pending_events.append(
                {
                    "hash": digest,
                    "canonical": canonical,
                    "kind": kind.code,
                    "event_type": kind.event_type,
                    "biz_step": kind.biz_step,
                    "event_time": data.event_time,
                    "organisation_id": organisation.pk,
                    "recorded_by_id": actor.pk if actor is not None else None,
                    "recorded_at": now,
                    "implausible": bool(reasons),
                    "flag_reasons": reasons,
                }
            )
            for code in data.codes:
                item = items.get(code)
                if item is None:
                    item = TraceItem(code=code, category=data.category, created_at=now, head_hash=GENESIS)
                    items[code] = item
                    new_items.append(item)
                previous = item.head_hash or GENESIS
                link = link_hash(previous, digest)
                item.event_count += 1
                pending_links.append((item, item.event_count, previous, link, digest))
                item.head_hash = link
                item.state = kind.to_state
                item.updated_at = data.event_time
                if kind.code in ("ship", "load"):
                    item.destination = data.destination
                elif kind.code in ("receive", "unload"):
                    item.holder = organisation
                    item.destination = None
                elif kind.code == "commission":
                    item.holder = organisation
                touched[item.pk or code] = item
                for reason in reasons:
                    flags.append((digest, item, reason))
            results.append(EventResult(index, "recorded", event_hash=digest, items=tuple(data.codes)))
        if pending_events:
            TraceItem.objects.bulk_create(new_items)
            event_ids = _insert_events(pending_events)
            _insert_links(pending_links, event_ids)
            # New items were inserted above in their final state; only the others need their state written.
            created = {id(item) for item in new_items}
            _write_item_states([item for item in touched.values() if id(item) not in created])
            TraceFlag.objects.bulk_create(
                [TraceFlag(event_id=event_ids[d], item=i, reason=r[:200]) for d, i, r in flags]
            )
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
    return results


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


def _insert_links(links: list[tuple[TraceItem, int, str, str, str]], event_ids: Mapping[str, int]) -> None:
    """The batch's chain links (item, sequence, previous, link, event hash): bulk_create, on PostgreSQL as JSON."""
    if connection.vendor != "postgresql":
        ChainLink.objects.bulk_create(
            [
                ChainLink(item=item, sequence=seq, event_id=event_ids[digest], previous=previous, link=link)
                for item, seq, previous, link, digest in links
            ]
        )
        return
    rows = [
        {"item_id": item.pk, "sequence": seq, "event_id": event_ids[digest], "previous": previous, "link": link}
        for item, seq, previous, link, digest in links
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


def _write_item_states(items: Sequence[TraceItem]) -> None:
    """Write the items' new state, head and count: on PostgreSQL one ``UPDATE … FROM jsonb_to_recordset``.

    ``bulk_update`` builds a CASE WHEN per item and field, which costs more Python time than the rest of a
    batch together, and arrays are quoted element by element in Python (both measured in bench/trace.py);
    elsewhere (SQLite) bulk_update is still used.
    """
    if not items:
        return
    if connection.vendor != "postgresql":
        TraceItem.objects.bulk_update(items, ITEM_STATE_FIELDS, batch_size=500)
        return
    rows = [
        {
            "id": item.pk,
            "state": item.state,
            "holder_id": item.holder_id,
            "destination_id": item.destination_id,
            "head_hash": item.head_hash,
            "event_count": item.event_count,
            "updated_at": item.updated_at.isoformat(),
        }
        for item in items
    ]
    assignments = ", ".join(f'"{column}" = v."{column}"' for column in ITEM_STATE_COLUMNS)
    types = ", ".join(["id bigint", *(f'"{column}" {kind}' for column, kind in ITEM_STATE_COLUMNS.items())])
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{TraceItem._meta.db_table}" AS t SET {assignments} '  # noqa: S608 - names from the model
            f"FROM jsonb_to_recordset(%s::jsonb) AS v({types}) WHERE t.id = v.id",
            [json.dumps(rows)],
        )


def _prepare(data: EventInput, items: Mapping[str, TraceItem], organisation: Organisation) -> tuple[str, str, str]:
    """The category, the canonical text of the EPCIS event and its hash for one event as the caller sent it."""
    kind = KINDS[data.kind]
    first = data.codes[0] if data.codes else ""
    category = data.category or (items[first].category if first in items else "")
    detail = EventInput(
        kind.code,
        data.codes,
        data.event_time,
        data.destination,
        data.parent,
        data.outputs_g,
        category if kind.code in ("commission", "dismantle") else "",
    )
    canonical = canonical_text(build_document(detail, kind, organisation))
    return category, canonical, text_hash(canonical)


def record_one(*, actor: User, organisation: Organisation, data: EventInput) -> TraceEvent:
    """Record a single event; a refusal raises with the reason and changes nothing."""
    [result] = record_events(actor=actor, organisation=organisation, events=[data])
    if result.status == "refused":
        raise ValidationFailed(
            result.message, code=result.code, errors=[FieldError(result.field or "codes", result.code, result.message)]
        )
    return TraceEvent.objects.get(hash=result.event_hash)


def commission_take_back(*, actor: User, take_back: Any) -> TraceItem:
    """Give the old item a merchant took back at checkout its code (once), bound to that take-back."""
    existing = TraceItem.objects.filter(take_back=take_back).first()
    if existing is not None:
        return existing
    merchant = take_back.redemption.merchant
    if merchant.pk not in organisations_for(actor, *MERCHANT_STAFF):
        raise ForbiddenError("只有本商户人员可以为回收旧机赋码", code="not_a_member")
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


def get_item(code: str, *, field_name: str = "code") -> TraceItem:
    """The item a person's code names (any printed form); refused when the text is no code or not on record."""
    item = (
        TraceItem.objects.select_related("holder", "destination")
        .filter(code=canonical_code(code, field_name=field_name))
        .first()
    )
    if item is None:
        raise NotFoundError(
            UNKNOWN_CODE, code="unknown_code", errors=[FieldError(field_name, "unknown_code", UNKNOWN_CODE)]
        )
    return item


def item_history(item: TraceItem) -> list[ChainLink]:
    return list(ChainLink.objects.filter(item=item).select_related("event", "event__organisation").order_by("sequence"))


def pending_take_backs(merchant: Organisation) -> QuerySet[Any]:
    """Old items this merchant took back at checkout that have no code yet."""
    from huanxin.subsidies.models import TakeBack

    return (
        TakeBack.objects.filter(redemption__merchant=merchant, to_recycler=True, trace_item__isnull=True)
        .select_related("redemption")
        .order_by("-recorded_at")
    )
