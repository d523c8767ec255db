"""The write side of the vehicle registry: importing the traffic police's registration data.

Events are only appended; each vehicle's current state is then derived again from all of its events
(``domain.lifecycle``). The entry point checks who is acting, owns its transaction and writes its audit row in it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from huanxin.accounts.models import Organisation, User
from huanxin.accounts.queries import organisations_by_uscc, persons_by_resident_id_digest
from huanxin.catalogue.domain.tabular import read_table
from huanxin.core import audit, crypto
from huanxin.core.domain.masking import mask_middle
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.vehicles import queries
from huanxin.vehicles.domain import lifecycle
from huanxin.vehicles.domain.lifecycle import EventFacts, Owner, VehicleState
from huanxin.vehicles.domain.traffic import CheckedRows, EventRow, ImportFileError, RowError, check_rows, map_header
from huanxin.vehicles.models import Vehicle, VehicleEvent, VehicleImport

BATCH_SIZE = 500
BEIJING = ZoneInfo("Asia/Shanghai")
EVENT_PURPOSE = "vehicle_event"
# Derived from the events; rewritten together whenever an event is appended.
STATE_FIELDS = (
    "status",
    "owner_kind",
    "owner_name",
    "owner_id_cipher",
    "owner_id_digest",
    "owner_id_masked",
    "owner_person",
    "owner_organisation",
    "owner_since",
    "district",
    "use",
    "last_inspection_on",
    "inspection_passed",
    "mileage_km",
    "scrapped_on",
    "deregistered_on",
    "updated_at",
)


@dataclass(frozen=True)
class ImportReport:
    """What became of one uploaded file: the counts and every refused row with its reason."""

    import_id: int
    file_name: str
    file_format: str
    uploaded_at: datetime.datetime
    uploaded_by: str
    good_rows_only: bool
    outcome: str
    total_rows: int
    recorded: int
    unchanged: int
    refused: int
    withheld: int
    errors: tuple[RowError, ...]

    @classmethod
    def of(cls, record: VehicleImport) -> ImportReport:
        """Rebuild the report from its stored import record."""
        return cls(
            import_id=record.pk,
            file_name=record.file_name,
            file_format=record.file_format,
            uploaded_at=record.uploaded_at,
            uploaded_by=str(record.uploaded_by),
            good_rows_only=record.good_rows_only,
            outcome=record.outcome,
            total_rows=record.total_rows,
            recorded=record.recorded_count,
            unchanged=record.unchanged_count,
            refused=record.refused_count,
            withheld=record.withheld_count,
            errors=tuple(RowError.from_dict(item) for item in record.refused_rows),
        )

    @property
    def outcome_name(self) -> str:
        return str(VehicleImport.Outcome(self.outcome).label)


def _clean_file_name(file_name: str) -> str:
    return PurePosixPath((file_name or "").replace("\\", "/")).name[:200] or "未命名文件"


def seal_owner(kind: str, name: str, number: str) -> Owner:
    """The owner's identity number sealed: a resident ID with the accounts' purpose (so the blind index equals
    ``Person.resident_id_digest``), an organisation's credit code with its own."""
    purpose = "resident_id" if kind == "person" else "uscc"
    if kind == "person":
        sealed = crypto.seal(number, purpose=purpose)
        cipher, digest, masked = sealed.cipher, sealed.digest, sealed.masked
    else:
        cipher = crypto.encrypt(number, purpose=purpose)
        digest = crypto.blind_index(number, purpose=purpose)
        masked = mask_middle(number, 4, 4)
    return Owner(kind=kind, name=name, id_digest=digest, id_masked=masked, id_cipher=cipher)


def _row_details(row: EventRow) -> dict[str, Any]:
    if row.kind == "registration":
        return {
            "vehicle_type": row.vehicle_type,
            "fuel": row.fuel,
            "displacement_ml": row.displacement_ml,
            "emission_standard": row.emission_standard,
        }
    if row.kind == "inspection":
        return {"passed": row.inspection_passed, "mileage_km": row.mileage_km}
    if row.kind == "deregistration":
        return {"reason": row.reason}
    return {}


def _facts_of_event(event: VehicleEvent) -> EventFacts:
    owner = (
        Owner(
            kind=event.owner_kind,
            name=event.owner_name,
            id_digest=event.owner_id_digest,
            id_masked=event.owner_id_masked,
            id_cipher=event.owner_id_cipher,
        )
        if event.owner_kind
        else None
    )
    return EventFacts(
        kind=event.kind,
        occurred_on=event.occurred_on,
        owner=owner,
        district_code=event.district_id or "",
        use=event.use,
        details=event.details,
    )


@dataclass
class _Accepted:
    row: EventRow
    digest: str
    facts: EventFacts


@dataclass
class _Plan:
    vehicles: dict[str, Vehicle]
    existing: dict[str, list[EventFacts]]
    accepted: list[_Accepted] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _recorded(
    vins: Sequence[str],
) -> tuple[dict[str, Vehicle], dict[str, list[EventFacts]], dict[tuple[str, str, datetime.date], str]]:
    """The stored vehicles of these VINs, their events as facts, and each event's content digest by identity.

    The vehicles are locked (in VIN order, as ``vins`` come sorted) for the rest of the import's transaction: a
    scrapping intake or another import that changes one of them waits, so the state written here is derived from
    every event the vehicle has, not from a read that another writer overtook."""
    vehicles: dict[str, Vehicle] = {}
    for start in range(0, len(vins), BATCH_SIZE):
        batch = Vehicle.objects.select_for_update().filter(vin__in=vins[start : start + BATCH_SIZE]).order_by("vin")
        vehicles.update((v.vin, v) for v in batch)
    existing: dict[str, list[EventFacts]] = defaultdict(list)
    recorded: dict[tuple[str, str, datetime.date], str] = {}
    by_pk = {vehicle.pk: vin for vin, vehicle in vehicles.items()}
    pks = sorted(by_pk)
    for start in range(0, len(pks), BATCH_SIZE):
        for event in VehicleEvent.objects.filter(vehicle_id__in=pks[start : start + BATCH_SIZE]):
            vin = by_pk[event.vehicle_id]
            existing[vin].append(_facts_of_event(event))
            recorded[(vin, event.kind, event.occurred_on)] = event.content_digest
    return vehicles, existing, recorded


def _plan(rows: Sequence[EventRow]) -> _Plan:
    """Match each row against what is recorded: the same event again is unchanged, a different event for the same
    vehicle, kind and day is a conflict, an event that cannot follow the vehicle's life is refused."""
    vehicles, existing, recorded = _recorded(sorted({row.vin for row in rows}))
    plan = _Plan(vehicles=vehicles, existing=existing)
    states: dict[str, VehicleState] = {vin: lifecycle.derive_state(facts) for vin, facts in existing.items()}
    ordered = sorted(rows, key=lambda r: (r.occurred_on, lifecycle.KIND_ORDER[r.kind], r.row_number))
    for row in ordered:
        digest = crypto.blind_index(row.canonical(), purpose=EVENT_PURPOSE)
        known = recorded.get(row.identity)
        if known is not None:
            if known == digest:
                plan.unchanged += 1
            else:
                plan.errors.append(
                    RowError(
                        row.row_number,
                        "kind",
                        "conflicts_with_recorded",
                        "该车辆当天已记录了同类业务且内容不同；生命周期记录只能追加，不能修改",
                        row.vin,
                    )
                )
            continue
        state = states.get(row.vin, lifecycle.EMPTY)
        refusal = lifecycle.refusal_for(state, row.kind, row.occurred_on)
        if refusal is not None:
            code, message = refusal
            column = "occurred_on" if code == lifecycle.BEFORE_LAST_EVENT else "vin"
            plan.errors.append(RowError(row.row_number, column, code, message, row.vin))
            continue
        owner = seal_owner(row.owner_kind, row.owner_name, row.owner_id_number) if row.owner_kind else None
        facts = EventFacts(
            kind=row.kind,
            occurred_on=row.occurred_on,
            owner=owner,
            district_code=row.district_code,
            use=row.use,
            details=_row_details(row),
        )
        states[row.vin] = lifecycle.apply(state, facts)
        recorded[row.identity] = digest
        plan.accepted.append(_Accepted(row, digest, facts))
    return plan


def _owner_links(states: Iterable[VehicleState]) -> tuple[dict[str, int], dict[str, int]]:
    """Persons by resident-ID digest and organisations by credit code, for the owners named in ``states``."""
    person_digests = [s.owner.id_digest for s in states if s.owner and s.owner.kind == "person"]
    codes = [
        crypto.decrypt(s.owner.id_cipher, purpose="uscc")
        for s in states
        if s.owner and s.owner.kind == "organisation" and s.owner.id_cipher
    ]
    return persons_by_resident_id_digest(person_digests), organisations_by_uscc(codes)


def _set_state(
    vehicle: Vehicle, state: VehicleState, persons: dict[str, int], organisations: dict[str, int], now: Any
) -> None:
    """Write the derived state onto the vehicle row (nothing here is typed in: all of it comes from events)."""
    owner = state.owner
    # Every vehicle starts with its registration, which names an owner and a district.
    assert owner is not None
    assert state.owner_since is not None
    vehicle.status = state.status
    vehicle.owner_kind = owner.kind
    vehicle.owner_name = owner.name
    vehicle.owner_id_cipher = owner.id_cipher
    vehicle.owner_id_digest = owner.id_digest
    vehicle.owner_id_masked = owner.id_masked
    vehicle.owner_person_id = persons.get(owner.id_digest) if owner.kind == "person" else None
    vehicle.owner_organisation_id = (
        organisations.get(crypto.decrypt(owner.id_cipher, purpose="uscc"))
        if owner.kind == "organisation" and owner.id_cipher
        else None
    )
    vehicle.owner_since = state.owner_since
    vehicle.district_id = state.district_code
    vehicle.use = state.use
    vehicle.last_inspection_on = state.last_inspection_on
    vehicle.inspection_passed = state.inspection_passed
    vehicle.mileage_km = state.mileage_km
    vehicle.scrapped_on = state.scrapped_on
    vehicle.deregistered_on = state.deregistered_on
    vehicle.updated_at = now


def _record(plan: _Plan, *, actor: User, record: VehicleImport, now: Any) -> None:
    """Append the accepted events, create the vehicles they register, and derive each touched vehicle's state."""
    new_facts: dict[str, list[EventFacts]] = defaultdict(list)
    registrations: dict[str, EventRow] = {}
    for item in plan.accepted:
        new_facts[item.row.vin].append(item.facts)
        if item.row.kind == "registration":
            registrations[item.row.vin] = item.row
    states = {vin: lifecycle.derive_state([*plan.existing.get(vin, []), *facts]) for vin, facts in new_facts.items()}
    persons, organisations = _owner_links(states.values())
    created: list[Vehicle] = []
    updated: list[Vehicle] = []
    for vin, state in states.items():
        vehicle = plan.vehicles.get(vin)
        if vehicle is None:
            row = registrations[vin]
            vehicle = Vehicle(
                vin=vin,
                vehicle_type=row.vehicle_type,
                fuel=row.fuel,
                displacement_ml=row.displacement_ml,
                emission_standard=row.emission_standard,
                registered_on=row.occurred_on,
                created_at=now,
            )
            created.append(vehicle)
        else:
            updated.append(vehicle)
        _set_state(vehicle, state, persons, organisations, now)
    Vehicle.objects.bulk_create(created, batch_size=BATCH_SIZE)
    Vehicle.objects.bulk_update(updated, fields=list(STATE_FIELDS), batch_size=BATCH_SIZE)
    if created and created[0].pk is None:
        # SQLite before 3.35 and some backends do not return keys from bulk_create: read them back.
        ids = dict(Vehicle.objects.filter(vin__in=[v.vin for v in created]).values_list("vin", "pk"))
        for vehicle in created:
            vehicle.pk = ids[vehicle.vin]
    vehicles = {**plan.vehicles, **{v.vin: v for v in created}}
    events = []
    for item in plan.accepted:
        owner = item.facts.owner
        events.append(
            VehicleEvent(
                vehicle_id=vehicles[item.row.vin].pk,
                kind=item.row.kind,
                occurred_on=item.row.occurred_on,
                owner_kind=owner.kind if owner else "",
                owner_name=owner.name if owner else "",
                owner_id_cipher=owner.id_cipher if owner else "",
                owner_id_digest=owner.id_digest if owner else "",
                owner_id_masked=owner.id_masked if owner else "",
                district_id=item.row.district_code or None,
                use=item.row.use,
                details=item.facts.details,
                source=VehicleEvent.Source.TRAFFIC_POLICE,
                import_record=record,
                reference=f"{record.pk}:{item.row.row_number}",
                content_digest=item.digest,
                recorded_by=actor,
                recorded_at=now,
            )
        )
    VehicleEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)


def import_registrations(*, actor: User, file_name: str, content: bytes, good_rows_only: bool = False) -> ImportReport:
    """Import the traffic police's registration data (CSV or XLSX): every bad row is reported with its line and
    field; a file with any bad row imports nothing unless ``good_rows_only`` is asked; an event already recorded
    with the same content changes nothing, so re-importing a file changes nothing."""
    if not queries.can_import(actor):
        raise ForbiddenError(queries.IMPORT_REFUSED, code="vehicle_import_forbidden")
    file_name = _clean_file_name(file_name)
    try:
        table = read_table(file_name, content)
        columns = map_header(table.header)
    except ImportFileError as exc:
        message = "文件只有表头，没有登记数据" if exc.code == "no_rows" else exc.message
        raise ValidationFailed.for_field("file", exc.code, message) from None
    checked: CheckedRows = check_rows(
        table.rows, columns, districts=queries.district_lookup(), today=timezone.localdate(timezone=BEIJING)
    )
    try:
        with transaction.atomic(durable=True):
            now = timezone.now()
            plan = _plan(checked.valid)
            errors = sorted([*checked.errors, *plan.errors], key=lambda e: e.row)
            refused = len({error.row for error in errors})
            apply = not errors or good_rows_only
            record = VehicleImport.objects.create(
                uploaded_by=actor,
                uploaded_at=now,
                file_name=file_name,
                file_format=table.file_format,
                file_size=len(content),
                file_digest=hashlib.sha256(content).hexdigest(),
                good_rows_only=good_rows_only,
                outcome=VehicleImport.Outcome.IMPORTED if apply else VehicleImport.Outcome.REFUSED,
                total_rows=checked.total_rows,
                recorded_count=len(plan.accepted) if apply else 0,
                unchanged_count=plan.unchanged if apply else 0,
                refused_count=refused,
                withheld_count=0 if apply else len(plan.accepted) + plan.unchanged,
                refused_rows=[error.as_dict() for error in errors],
            )
            if apply:
                _record(plan, actor=actor, record=record, now=now)
            audit.record(
                actor=actor,
                action="vehicles.registry.import",
                target=record,
                after={
                    "file_name": file_name,
                    "file_digest": record.file_digest,
                    "good_rows_only": good_rows_only,
                    "outcome": record.outcome,
                    "total_rows": record.total_rows,
                    "recorded": record.recorded_count,
                    "unchanged": record.unchanged_count,
                    "refused": record.refused_count,
                    "withheld": record.withheld_count,
                },
            )
    except IntegrityError:
        # Only a concurrent import recording the same events between our read and our write gets here.
        raise ConflictError(
            "另一次导入同时写入了相同车辆的记录，请重新导入本文件", code="vehicle_import_conflict"
        ) from None
    return ImportReport.of(record)


# ---------------------------------------------------------------- one event appended by another verb


def append_event(
    *,
    actor: User,
    vehicle: Vehicle,
    kind: str,
    occurred_on: datetime.date,
    source: str,
    organisation: Organisation | None = None,
    reference: str = "",
    details: dict[str, Any] | None = None,
) -> VehicleEvent:
    """A step of the caller's transaction (the scrapping enterprise's certificate), not an entry point: append one
    event that names no owner (an inspection, a scrapping, a deregistration) to the vehicle's life if it may follow
    the recorded ones (``lifecycle.refusal_for``), and derive the vehicle's state again from all of its events."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("append_event() runs inside the caller's transaction")
    if kind not in lifecycle.KIND_ORDER or kind in ("registration", "transfer"):
        raise ValueError(f"append_event() does not record {kind!r} events")
    recorded = [_facts_of_event(event) for event in VehicleEvent.objects.filter(vehicle=vehicle)]
    state = lifecycle.derive_state(recorded)
    refusal = lifecycle.refusal_for(state, kind, occurred_on)
    if refusal is not None:
        code, message = refusal
        raise ValidationFailed.for_field("occurred_on" if code == lifecycle.BEFORE_LAST_EVENT else "vin", code, message)
    details = dict(details or {})
    facts = EventFacts(kind=kind, occurred_on=occurred_on, details=details)
    canonical = json.dumps(
        {
            "vin": vehicle.vin,
            "kind": kind,
            "occurred_on": occurred_on.isoformat(),
            "source": source,
            "organisation": organisation.pk if organisation else None,
            "reference": reference,
            "details": details,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    now = timezone.now()
    event = VehicleEvent.objects.create(
        vehicle=vehicle,
        kind=kind,
        occurred_on=occurred_on,
        details=details,
        source=source,
        organisation=organisation,
        reference=reference,
        content_digest=crypto.blind_index(canonical, purpose=EVENT_PURPOSE),
        recorded_by=actor,
        recorded_at=now,
    )
    after = lifecycle.apply(state, facts)
    persons, organisations = _owner_links([after])
    _set_state(vehicle, after, persons, organisations, now)
    vehicle.save(update_fields=list(STATE_FIELDS))
    return event
