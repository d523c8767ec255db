"""EPCIS 2.0 JSON-LD: export of stored events as EPCIS documents, validation against the ratified GS1 schema
(2.0.1, packaged in ``data/``), and import of events from a dismantler's or recycler's own EPCIS system.

What it writes: an import records its events through ``services.record_events`` (so the same ``TraceItem``,
``TraceEvent``, ``ChainLink`` and ``TraceFlag`` rows and a ``trace.events.record`` audit row per batch) and adds
one audit row per document (``trace.epcis.import``). Export and validation write nothing; the events an
export holds are read by ``trace.queries``.

An export is the stored events as recorded: each event's canonical text (the text its hash is over) with its
``eventID`` put first, wrapped in an ``EPCISDocument``. An import never stores the sender's JSON: every event
is validated, mapped to what a caller of ``services.record_events`` would send (an ``EventInput``) and recorded
through it, so the custody rules, the licence checks, the plausibility flags and the hash identity apply
exactly as for events recorded on the platform. The stored text is the one the platform builds from that input,
so the same event imported twice has the same hash and the second import records nothing.
"""

from __future__ import annotations

import datetime
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from huanxin.accounts.models import Organisation, User
from huanxin.core import audit
from huanxin.core.errors import ValidationFailed
from huanxin.trace import queries, services
from huanxin.trace.domain.canonical import document_text
from huanxin.trace.domain.rules import EXT, KINDS, MATERIALS, Kind, is_uri
from huanxin.trace.models import TraceEvent

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "epcis-json-schema.json"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MATERIAL_CLASS = f"{EXT}material/"
SCHEMA_VERSION = "2.0"

# Where the events sit in the two document types the schema knows.
EVENT_LISTS: tuple[tuple[str, ...], ...] = (
    ("epcisBody", "eventList"),
    ("epcisBody", "queryResults", "resultsBody", "eventList"),
)
# Which list carries the item codes in each event type we record.
CODE_FIELDS = {"ObjectEvent": "epcList", "AggregationEvent": "childEPCs", "TransformationEvent": "inputEPCList"}
# CBV 2.0 business steps may also arrive as full URIs (the schema forbids only the old urn:epcglobal:cbv forms).
BIZ_STEP_PREFIXES = ("https://ref.gs1.org/cbv/BizStep-", "https://gs1.org/voc/BizStep-")
KIND_BY_SHAPE: dict[tuple[str, str, str], Kind] = {(k.event_type, k.action, k.biz_step): k for k in KINDS.values()}


def context() -> list[Any]:
    """The JSON-LD context of our documents: EPCIS 2.0 plus our extension namespace under ``hx:``."""
    return [EPCIS_CONTEXT, {"hx": EXT}]


# ---------------------------------------------------------------- schema validation

# RFC 3339 date-time (the "date-time" format of JSON Schema): a date, a time and an offset, nothing else.
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def parse_time(text: str) -> datetime.datetime:
    """An RFC 3339 date-time with its offset (``Z`` or ``±hh:mm``) as an aware datetime; ValueError if not."""
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    day, clock, fraction, offset = match.groups()
    if clock.endswith(":60"):  # a leap second is valid RFC 3339; Python's datetime cannot hold it
        clock = clock[:-2] + "59"
    fraction = (fraction or "")[:7]  # microseconds at most
    offset = "+00:00" if offset in ("Z", "z") else offset
    return datetime.datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}")


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats constrain strings only; the type keyword speaks for the rest
    try:
        parse_time(value)
    except ValueError:
        return False
    return True


def _is_uri(value: object) -> bool:
    return not isinstance(value, str) or is_uri(value)


@cache
def _validator() -> Draft7Validator:
    """The packaged EPCIS 2.0.1 schema, loaded once, with strict date-time and URI format checks.

    jsonschema checks these two formats only when optional packages (rfc3339-validator, rfc3987) are
    installed; we register our own so that an eventTime of "yesterday" is an error on every installation.
    """
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    checker = FormatChecker()
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return Draft7Validator(schema, format_checker=checker)


@dataclass(frozen=True)
class SchemaProblem:
    """One schema error: where it is (a JSON path), what is wrong, and which event it belongs to."""

    path: str
    message: str
    event_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "event_index": self.event_index}


def _json_path(parts: Iterable[str | int]) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _event_index(parts: Sequence[str | int]) -> int | None:
    """The index in the event list an error path points into, or None for an error outside the events."""
    for prefix in EVENT_LISTS:
        if len(parts) > len(prefix) and tuple(parts[: len(prefix)]) == prefix and isinstance(parts[len(prefix)], int):
            return int(parts[len(prefix)])
    return None


def _shorten(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(error: ValidationError) -> str:
    """jsonschema's message, kept short; for anyOf/oneOf the most relevant underlying reason is added."""
    if error.validator in ("anyOf", "oneOf", "allOf") and error.context:
        inner = best_match(error.context)
        where = _json_path(inner.relative_path)
        return _shorten(f"no alternative of {error.validator} matches; e.g. at {where}: {inner.message}")
    return _shorten(error.message)


def validate(document: Any) -> list[SchemaProblem]:
    """Every way ``document`` fails the EPCIS 2.0.1 JSON schema, each with its JSON path and event index.

    Problems outside the events come first, then each event's in the order the schema finds them (so an
    event without ``type`` reports that first, before what each event type would have required).
    """
    problems: dict[SchemaProblem, None] = {}  # the same error found through several branches counts once
    for error in _validator().iter_errors(document):
        parts = list(error.absolute_path)
        problems.setdefault(SchemaProblem(_json_path(parts), _describe(error), _event_index(parts)))
    return sorted(problems, key=lambda p: -1 if p.event_index is None else p.event_index)


# ---------------------------------------------------------------- export


def _time_text(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="milliseconds")


def _header(created: datetime.datetime | None) -> dict[str, Any]:
    return {
        "@context": context(),
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": _time_text(created or timezone.now()),
    }


def export_document(events: Iterable[TraceEvent], *, created: datetime.datetime | None = None) -> dict[str, Any]:
    """An EPCISDocument holding the stored events as recorded (each with its hash ``eventID``), in the given order."""
    return {
        **_header(created),
        "epcisBody": {"eventList": [json.loads(document_text(event.canonical, event.hash)) for event in events]},
    }


def stream_document(events: Iterable[TraceEvent], *, created: datetime.datetime | None = None) -> Iterator[str]:
    """The text of ``json.dumps(export_document(events), ensure_ascii=False, separators=(",", ":"))``, one
    event at a time, each event's stored canonical text sent as it is (nothing is decoded or encoded again).

    For a StreamingHttpResponse over ``queryset.iterator()``: memory stays flat however many events there are.
    """
    head = json.dumps(_header(created), ensure_ascii=False, separators=(",", ":"))
    yield head[:-1] + ',"epcisBody":{"eventList":['
    separator = ""
    for event in events:
        yield separator + document_text(event.canonical, event.hash)
        separator = ","
    yield "]}}"


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportRow:
    """What became of one event of an imported document, by its index in the document's eventList."""

    index: int
    status: str  # "recorded", "duplicate", "refused"
    code: str = ""
    message: str = ""
    event_hash: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "event_hash": self.event_hash,
        }


@dataclass
class ImportReport:
    """The outcome of an import: per-event rows, or a refusal of the whole document with its problems."""

    events: int = 0
    rows: list[ImportRow] = field(default_factory=list)
    code: str = ""  # set when the document as a whole was refused; then nothing was recorded
    message: str = ""
    problems: list[SchemaProblem] = field(default_factory=list)  # schema errors outside the event list

    @property
    def accepted(self) -> bool:
        return not self.code

    def _count(self, status: str) -> int:
        return sum(row.status == status for row in self.rows)

    @property
    def recorded(self) -> int:
        return self._count("recorded")

    @property
    def duplicates(self) -> int:
        return self._count("duplicate")

    @property
    def refused(self) -> int:
        return self._count("refused")

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "code": self.code,
            "message": self.message,
            "problems": [problem.as_dict() for problem in self.problems],
            "events": self.events,
            "recorded": self.recorded,
            "duplicates": self.duplicates,
            "refused": self.refused,
            "rows": [row.as_dict() for row in self.rows],
        }


class _Unmappable(Exception):  # a refusal of one event, caught in import_document
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _event_list(document: Mapping[str, Any]) -> list[Any] | None:
    for path in EVENT_LISTS:
        node: Any = document
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, list):
            return node
    return None


def _bare_biz_step(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    for prefix in BIZ_STEP_PREFIXES:
        if value.startswith(prefix):
            return value.removeprefix(prefix)
    return value


def _kind_of(event: Mapping[str, Any]) -> Kind:
    """Our kind of event: ``hx:kind`` when present (it must agree with the EPCIS shape), else the shape."""
    event_type = event.get("type")
    action = event.get("action", "") if event_type != "TransformationEvent" else ""
    step = _bare_biz_step(event.get("bizStep"))
    declared = event.get("hx:kind")
    if declared is not None:
        kind = KINDS.get(declared) if isinstance(declared, str) else None
        if kind is None:
            raise _Unmappable("unknown_kind", f"无法识别的事件类型 hx:kind “{declared}”")
        if event_type != kind.event_type or action != kind.action or (step and step != kind.biz_step):
            raise _Unmappable(
                "kind_mismatch",
                f"hx:kind “{declared}” 与事件的 type、action、bizStep（{event_type} {action} {step}）不一致",
            )
        return kind
    kind = KIND_BY_SHAPE.get((str(event_type), str(action), step))
    if kind is None:
        shape = " ".join(str(part) for part in (event_type, action, step or "（无 bizStep）") if part)
        raise _Unmappable("unsupported_event", f"该事件（{shape}）不对应本平台的任何追溯事件")
    return kind


def _organisation_prefix() -> str:
    return f"{settings.HUANXIN_TRACE_RESOLVER}/org/"


def _destination_uscc(event: Mapping[str, Any]) -> str | None:
    """The USCC of the event's destination (the owning party when several are listed), None if there is none."""
    entries = [e for e in event.get("destinationList") or [] if isinstance(e, Mapping)]
    if not entries:
        return None
    entry = next((e for e in entries if e.get("type") == "owning_party"), entries[0])
    uri = str(entry.get("destination", ""))
    prefix = _organisation_prefix()
    if not uri.startswith(prefix):
        raise _Unmappable(
            "unknown_destination", f"目的地 {uri} 不是平台登记企业的标识（应为 {prefix}<统一社会信用代码>）"
        )
    return uri.removeprefix(prefix)


def _grams(quantity: Any) -> int:
    """Kilograms as sent (a JSON number) to whole grams, exactly: 0.12 kg is 120 g, not 119.99999999999999."""
    try:
        grams = Decimal(str(quantity)) * 1000
    except InvalidOperation:
        raise _Unmappable("invalid_outputs", f"拆解产物重量 {quantity} 不是数字") from None
    return int(grams.to_integral_value(rounding=ROUND_HALF_EVEN))


def _outputs(event: Mapping[str, Any]) -> dict[str, int]:
    outputs: dict[str, int] = {}
    for entry in event.get("outputQuantityList") or []:
        material_class = str(entry.get("epcClass", ""))
        name = material_class.removeprefix(MATERIAL_CLASS)
        if not material_class.startswith(MATERIAL_CLASS) or name not in MATERIALS:
            raise _Unmappable(
                "unknown_material", f"拆解产物 {material_class} 不是平台物料类别（{MATERIAL_CLASS}<物料>）"
            )
        if entry.get("uom") != "KGM":
            raise _Unmappable("unsupported_uom", f"拆解产物{MATERIALS[name]}的重量须以千克计（uom 为 KGM）")
        if entry.get("quantity") is None:
            raise _Unmappable("quantity_required", f"拆解产物{MATERIALS[name]}未填写重量")
        outputs[name] = outputs.get(name, 0) + _grams(entry["quantity"])
    return outputs


def _to_input(
    event: Mapping[str, Any], *, own_uri: str, organisations: Mapping[str, Organisation]
) -> services.EventInput:
    """The EventInput an imported event stands for; raises _Unmappable with a stable code and a reason."""
    kind = _kind_of(event)
    read_point = event.get("readPoint")
    read_point_id = read_point.get("id") if isinstance(read_point, Mapping) else None
    # Another platform organisation's read point: that organisation records its own events.
    if isinstance(read_point_id, str) and read_point_id.startswith(_organisation_prefix()) and read_point_id != own_uri:
        raise _Unmappable("foreign_read_point", f"读取点 {read_point_id} 属于其他企业，只能导入本企业记录的事件")
    try:
        moment = parse_time(str(event.get("eventTime", "")))
    except ValueError:
        raise _Unmappable("invalid_time", "事件时间 eventTime 须为带时区的 RFC 3339 时间") from None
    try:
        codes = list(
            dict.fromkeys(
                services.canonical_code(str(c), field_name="codes")
                for c in event.get(CODE_FIELDS[kind.event_type]) or []
            )
        )
    except ValidationFailed as error:
        raise _Unmappable(error.code, error.first_message) from None
    destination = None
    uscc = _destination_uscc(event)
    if uscc is not None:
        destination = organisations.get(uscc)
        if destination is None:
            raise _Unmappable("unknown_destination", f"目的地企业 {uscc} 未在平台登记")
    category = event.get("hx:category") if kind.code == "commission" else None
    return services.EventInput(
        kind=kind.code,
        codes=codes,
        event_time=moment,
        destination=destination,
        parent=str(event.get("parentID") or "") if kind.event_type == "AggregationEvent" else "",
        outputs_g=_outputs(event) if kind.code == "dismantle" else {},
        # The category is the commissioning's to declare; later events use the item's own.
        category=category if isinstance(category, str) else "",
    )


def _destinations(events: Iterable[Any]) -> dict[str, Organisation]:
    """The registered organisations the events name as destinations, by credit code."""
    prefix = _organisation_prefix()
    return queries.organisations_by_uscc(
        str(entry.get("destination", "")).removeprefix(prefix)
        for event in events
        if isinstance(event, Mapping)
        for entry in event.get("destinationList") or []
        if isinstance(entry, Mapping) and str(entry.get("destination", "")).startswith(prefix)
    )


def import_document(*, actor: User | None, organisation: Organisation, document: Any) -> ImportReport:
    """Import an EPCIS 2.0 document recorded by ``organisation``'s own system, event by event.

    The caller has already established that ``actor`` acts for ``organisation`` (accounts.queries.acting_organisation).
    The whole document is validated against the schema: errors outside the event list refuse the document;
    an event with schema errors, or one that does not map to our events, is refused on its own with its index
    and reason; the rest go through ``services.record_events`` in order, in batches of at most MAX_BATCH, so
    every rule applies and an event already stored (same hash) is reported as a duplicate. Not one
    transaction: each batch commits on its own, and a repeated import resumes where a failed one stopped.
    """
    report = ImportReport()
    if not isinstance(document, Mapping):
        report.code, report.message = "invalid_document", "请上传 EPCIS 2.0 JSON 文档（EPCISDocument）"
        return report
    events = _event_list(document)
    problems = validate(document)
    report.problems = [p for p in problems if p.event_index is None]
    if events is None and not report.problems:
        report.code, report.message = "not_a_document", "请上传 EPCISDocument（事件须在 epcisBody.eventList 中）"
        return report
    report.events = len(events or [])
    if report.problems:
        first = report.problems[0]
        report.code = "invalid_document"
        report.message = f"文档不符合 EPCIS 2.0 JSON 架构（{first.path}）：{first.message}"
        return report
    assert events is not None
    by_event: dict[int, list[SchemaProblem]] = {}
    for problem in problems:
        if problem.event_index is not None:  # all of them: problems outside the events refused the document
            by_event.setdefault(problem.event_index, []).append(problem)

    own_uri = services.org_uri(organisation)
    organisations = _destinations(events)
    rows: dict[int, ImportRow] = {}
    mapped: list[tuple[int, services.EventInput]] = []
    for index, event in enumerate(events):
        if index in by_event:
            first = by_event[index][0]
            more = f"（另有 {len(by_event[index]) - 1} 处）" if len(by_event[index]) > 1 else ""
            rows[index] = ImportRow(
                index, "refused", "schema_invalid", f"不符合 EPCIS 2.0 JSON 架构（{first.path}）：{first.message}{more}"
            )
            continue
        try:
            mapped.append((index, _to_input(event, own_uri=own_uri, organisations=organisations)))
        except _Unmappable as refusal:
            rows[index] = ImportRow(index, "refused", refusal.code, refusal.message)

    size = services.MAX_BATCH
    for start in range(0, len(mapped), size):
        chunk = mapped[start : start + size]
        results = services.record_events(actor=actor, organisation=organisation, events=[data for _, data in chunk])
        for (index, _), result in zip(chunk, results, strict=True):
            rows[index] = ImportRow(index, result.status, result.code, result.message, result.event_hash)
    report.rows = [rows[index] for index in sorted(rows)]
    _audit_import(actor, organisation, report)
    return report


def _audit_import(actor: User | None, organisation: Organisation, report: ImportReport) -> None:
    refusals = Counter(row.code for row in report.rows if row.status == "refused")
    with transaction.atomic():
        audit.record(
            actor=actor or "trace-import",
            action="trace.epcis.import",
            target=organisation,
            after={
                "events": report.events,
                "recorded": report.recorded,
                "duplicates": report.duplicates,
                "refused": report.refused,
                "refusals": dict(sorted(refusals.items())),
            },
            organisation_id=organisation.pk,
            district_code=organisation.district_id,
        )
