import datetime
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from huanxin.core.models import AuditEntry
from huanxin.trace import epcis, queries, services
from huanxin.trace.models import TraceEvent, TraceItem
from huanxin.trace.services import EventInput
from huanxin.trace.tests.conftest import minutes, ship_to_dismantler, walk_to_dismantling

pytestmark = pytest.mark.django_db

SHARED = Path(settings.BASE_DIR).parent / "shared" / "data" / "epcis"
TRUCK = "urn:huanxin:load:TRUCK-7"


def shared_file(name):
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"shared EPCIS data not present at {SHARED}")
    return path


def time_text(moment):
    return timezone.localtime(moment).isoformat(timespec="milliseconds")


def record(actor, organisation, data):
    return services.record_one(actor=actor, organisation=organisation, data=data)


def full_chain(chain):
    """A fridge from take-back to dismantling, and three washers loaded onto a truck and unloaded."""
    code = walk_to_dismantling(chain).code
    washers = [services.new_code() for _ in range(3)]
    services.record_events(
        actor=chain.clerk,
        organisation=chain.merchant,
        events=[EventInput("commission", [c], minutes(7), category="washer") for c in washers],
    )
    record(
        chain.clerk, chain.merchant, EventInput("load", washers, minutes(8), destination=chain.recycler, parent=TRUCK)
    )
    record(chain.recycler_user, chain.recycler, EventInput("unload", washers, minutes(9), parent=TRUCK))
    return code, washers


def document(*events):
    return {
        "@context": epcis.context(),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": time_text(timezone.now()),
        "epcisBody": {"eventList": list(events)},
    }


def object_event(organisation, step, action, code, when, **extra):
    where = {"id": services.org_uri(organisation)}
    return {
        "type": "ObjectEvent",
        "action": action,
        "bizStep": step,
        "epcList": [code],
        "eventTime": time_text(when),
        "eventTimeZoneOffset": "+08:00",
        "readPoint": where,
        "bizLocation": where,
        **extra,
    }


def dismantle_event(organisation, code, when, outputs_kg):
    where = {"id": services.org_uri(organisation)}
    return {
        "type": "TransformationEvent",
        "bizStep": "disassembling",
        "disposition": "disposed",
        "inputEPCList": [code],
        "outputQuantityList": [
            {"epcClass": f"{epcis.MATERIAL_CLASS}{name}", "quantity": kg, "uom": "KGM"}
            for name, kg in outputs_kg.items()
        ],
        "eventTime": time_text(when),
        "eventTimeZoneOffset": "+08:00",
        "readPoint": where,
    }


# ---------------------------------------------------------------- export


def test_every_export_validates_against_the_epcis_schema(chain):
    fridge, washers = full_chain(chain)
    since, until = minutes(0), minutes(10)
    exports = {
        "item": epcis.export_document(queries.events_for_item(fridge)),
        "washer": epcis.export_document(queries.events_for_item(services.digital_link(washers[0]))),
        "dismantler": epcis.export_document(queries.events_for_organisation(chain.dismantler, since, until)),
        "merchant": epcis.export_document(queries.events_for_organisation(chain.merchant, since, until)),
        "window": epcis.export_document(queries.events_in_window(since, until)),
    }
    for name, exported in exports.items():
        assert epcis.validate(exported) == [], name
    kinds = {name: [e["hx:kind"] for e in doc["epcisBody"]["eventList"]] for name, doc in exports.items()}
    assert kinds["item"] == ["commission", "ship", "receive", "ship", "receive", "dismantle"]
    assert kinds["washer"] == ["commission", "load", "unload"]
    assert kinds["dismantler"] == ["receive", "dismantle"]
    assert kinds["merchant"] == ["commission", "ship", "commission", "commission", "commission", "load"]
    assert len(kinds["window"]) == TraceEvent.objects.count() == 11
    window = exports["window"]
    assert window["@context"] == [
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        {"hx": "https://huanxin.beijing.gov.cn/ns/trace/"},
    ]
    assert (window["type"], window["schemaVersion"]) == ("EPCISDocument", "2.0")
    assert [e["eventID"] for e in window["epcisBody"]["eventList"]] == [
        f"ni:///sha-256;{h}?ver=CBV2.0"
        for h in TraceEvent.objects.order_by("recorded_at", "pk").values_list("hash", flat=True)
    ]


def test_the_window_is_half_open_on_event_time(chain):
    fridge, _ = full_chain(chain)
    times = [e.event_time for e in queries.events_for_item(fridge)]
    exported = epcis.export_document(queries.events_in_window(times[1], times[4]))
    assert [e["hx:kind"] for e in exported["epcisBody"]["eventList"]] == ["ship", "receive", "ship"]
    assert queries.events_in_window(None, None).count() == 11
    assert queries.events_in_window(times[5], None).count() == 6  # the dismantling, and the washers' five
    assert epcis.validate(epcis.export_document(queries.events_in_window(times[5], None))) == []


def test_the_streamed_export_is_the_same_text_as_the_document(chain):
    full_chain(chain)
    created = timezone.now()
    events = queries.events_in_window(None, None)
    streamed = "".join(epcis.stream_document(events.iterator(), created=created))
    exported = epcis.export_document(events, created=created)
    assert streamed == json.dumps(exported, ensure_ascii=False, separators=(",", ":"))
    empty = "".join(epcis.stream_document([], created=created))
    assert json.loads(empty) == epcis.export_document([], created=created)


# ---------------------------------------------------------------- the validator itself


def test_the_packaged_schema_is_the_shared_ratified_artefact():
    shared = shared_file("epcis-json-schema.json")
    assert epcis.SCHEMA_PATH.read_bytes() == shared.read_bytes()
    assert json.loads(epcis.SCHEMA_PATH.read_text())["$id"].endswith("/2.0.1/epcis-json-schema.json")


@pytest.mark.parametrize("name", ["Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.4-TransformationEvent.jsonld"])
def test_the_gs1_examples_validate(name):
    example = json.loads(shared_file(name).read_text())
    assert epcis.validate(example) == []


def test_a_broken_example_is_reported_with_each_event_index_and_path():
    broken = json.loads(shared_file("Example_9.6.1-ObjectEvent.jsonld").read_text())
    del broken["epcisBody"]["eventList"][0]["type"]
    broken["epcisBody"]["eventList"][1]["eventTime"] = "yesterday"
    problems = epcis.validate(broken)
    assert {p.event_index for p in problems} == {0, 1}
    assert problems[0] == epcis.SchemaProblem("$.epcisBody.eventList[0]", "'type' is a required property", 0)
    assert epcis.SchemaProblem("$.epcisBody.eventList[1].eventTime", "'yesterday' is not a 'date-time'", 1) in problems


def test_problems_outside_the_events_have_no_index():
    broken = json.loads(shared_file("Example_9.6.4-TransformationEvent.jsonld").read_text())
    broken["creationDate"] = "2013-06-04 14:59"
    del broken["schemaVersion"]
    problems = epcis.validate(broken)
    assert sorted((p.path, p.event_index) for p in problems) == [("$", None), ("$.creationDate", None)]


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2026-11-29T10:11:12.123+08:00", True),
        ("2005-04-03T20:33:31.116000-06:00", True),
        ("2013-10-31T14:58:56.591Z", True),
        ("2016-12-31T23:59:60Z", True),
        ("2026-11-29T10:11:12", False),  # no offset
        ("2026-11-29 10:11:12+08:00", False),
        ("2026-02-30T10:11:12+08:00", False),
        ("yesterday", False),
    ],
)
def test_date_times_must_be_rfc_3339_with_an_offset(text, valid):
    assert epcis._is_date_time(text) is valid


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("urn:epc:id:giai:6999999.000000000001", True),
        ("https://id.huanxin.example.cn/org/91110105MA0000001X", True),
        ("hx:kind", True),
        ("ni:///sha-256;00ff?ver=CBV2.0", True),
        ("shipping", False),
        ("https://example.cn/a b", False),
        ("https://例子.cn/", False),
    ],
)
def test_uris_must_be_absolute_rfc_3986(text, valid):
    assert epcis._is_uri(text) is valid


# ---------------------------------------------------------------- import


def test_a_dismantlers_document_stores_the_good_events_and_reports_the_bad_ones(chain):
    fridge = ship_to_dismantler(chain)
    washer = ship_to_dismantler(chain, category="washer")  # in transit: cannot be dismantled yet
    unknown = services.new_code()
    bad_time = object_event(chain.dismantler, "receiving", "OBSERVE", washer, minutes(5))
    bad_time["eventTime"] = "yesterday"
    sent = document(
        object_event(chain.dismantler, "receiving", "OBSERVE", fridge, minutes(5)),
        dismantle_event(chain.dismantler, fridge, minutes(6), {"metals": 32.0, "plastics": 14.0, "refrigerant": 0.12}),
        object_event(chain.dismantler, "receiving", "OBSERVE", unknown, minutes(5)),
        dismantle_event(chain.dismantler, washer, minutes(6), {"metals": 30.0}),
        bad_time,
        object_event(chain.recycler, "receiving", "OBSERVE", washer, minutes(5)),
        object_event(chain.dismantler, "inspecting", "OBSERVE", washer, minutes(5)),
        dismantle_event(chain.dismantler, washer, minutes(6), {"gold": 1.0}),
    )
    before = TraceEvent.objects.count()
    report = epcis.import_document(actor=chain.dismantler_user, organisation=chain.dismantler, document=sent)
    assert report.accepted
    assert [(r.index, r.status, r.code) for r in report.rows] == [
        (0, "recorded", ""),
        (1, "recorded", ""),
        (2, "refused", "unknown_code"),
        (3, "refused", "invalid_transition"),
        (4, "refused", "schema_invalid"),
        (5, "refused", "foreign_read_point"),
        (6, "refused", "unsupported_event"),
        (7, "refused", "unknown_material"),
    ]
    assert all(r.message for r in report.rows if r.status == "refused")
    assert "eventTime" in report.rows[4].message
    assert (report.events, report.recorded, report.duplicates, report.refused) == (8, 2, 0, 6)
    assert TraceEvent.objects.count() == before + 2
    item = TraceItem.objects.get(code=fridge)
    assert (item.state, item.holder_id, item.event_count) == ("dismantled", chain.dismantler.pk, 6)
    dismantling = TraceEvent.objects.get(hash=report.rows[1].event_hash)
    assert (dismantling.kind, dismantling.organisation_id, dismantling.recorded_by_id) == (
        "dismantle",
        chain.dismantler.pk,
        chain.dismantler_user.pk,
    )
    assert {q["epcClass"].rsplit("/", 1)[1]: q["quantity"] for q in dismantling.document["outputQuantityList"]} == {
        "metals": 32.0,
        "plastics": 14.0,
        "refrigerant": 0.12,
    }
    assert TraceItem.objects.get(code=washer).state == "in_transit"
    assert json.loads(json.dumps(report.as_dict()))["rows"][1] == {
        "index": 1,
        "status": "recorded",
        "code": "",
        "message": "",
        "event_hash": dismantling.hash,
    }
    assert AuditEntry.objects.filter(action="trace.epcis.import").count() == 1

    again = epcis.import_document(actor=chain.dismantler_user, organisation=chain.dismantler, document=sent)
    assert [(r.index, r.status) for r in again.rows][:2] == [(0, "duplicate"), (1, "duplicate")]
    assert [r.event_hash for r in again.rows][:2] == [r.event_hash for r in report.rows][:2]
    assert [r.code for r in again.rows][2:] == [r.code for r in report.rows][2:]
    assert (again.recorded, again.duplicates, again.refused) == (0, 2, 6)
    assert TraceEvent.objects.count() == before + 2
    assert TraceItem.objects.get(code=fridge).event_count == 6


def test_a_document_with_errors_outside_its_events_is_refused_whole(chain):
    fridge = ship_to_dismantler(chain)
    sent = document(object_event(chain.dismantler, "receiving", "OBSERVE", fridge, minutes(5)))
    del sent["creationDate"]
    before = TraceEvent.objects.count()
    report = epcis.import_document(actor=chain.dismantler_user, organisation=chain.dismantler, document=sent)
    assert (report.accepted, report.code, report.rows) == (False, "invalid_document", [])
    assert [p.path for p in report.problems] == ["$"]
    assert report.as_dict()["problems"] == [
        {"path": "$", "message": "'creationDate' is a required property", "event_index": None}
    ]
    assert TraceEvent.objects.count() == before
    not_a_document = epcis.import_document(
        actor=chain.dismantler_user, organisation=chain.dismantler, document=sent["epcisBody"]["eventList"][0]
    )
    assert not_a_document.code in {"invalid_document", "not_a_document"}
    assert TraceEvent.objects.count() == before


def test_exported_events_imported_again_are_duplicates(chain):
    fridge, _ = full_chain(chain)
    before = TraceEvent.objects.count()
    for user, organisation in [
        (chain.clerk, chain.merchant),
        (chain.recycler_user, chain.recycler),
        (chain.dismantler_user, chain.dismantler),
    ]:
        exported = epcis.export_document(queries.events_for_organisation(organisation))
        report = epcis.import_document(actor=user, organisation=organisation, document=exported)
        assert report.events > 0
        assert {r.status for r in report.rows} == {"duplicate"}, report.as_dict()
        stored = [e["eventID"].split(";")[1].split("?")[0] for e in exported["epcisBody"]["eventList"]]
        assert [r.event_hash for r in report.rows] == stored
    # A whole item's history sent by the dismantler: its own events are duplicates, the others are not its own.
    history = epcis.export_document(queries.events_for_item(fridge))
    report = epcis.import_document(actor=chain.dismantler_user, organisation=chain.dismantler, document=history)
    assert [r.code or r.status for r in report.rows] == ["foreign_read_point"] * 4 + ["duplicate"] * 2
    assert TraceEvent.objects.count() == before


def test_events_without_hx_kind_map_by_their_cbv_shape(chain):
    """A recycler's own system: CBV URIs, Digital Links, no hx: fields; a commissioning, a shipment, a load."""
    codes = [services.new_code() for _ in range(3)]
    resolver = settings.HUANXIN_TRACE_RESOLVER
    ship = object_event(
        chain.recycler,
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "OBSERVE",
        services.digital_link(codes[0]),
        minutes(2),
        destinationList=[{"type": "owning_party", "destination": services.org_uri(chain.dismantler)}],
    )
    where = {"id": services.org_uri(chain.recycler)}
    load = {
        "type": "AggregationEvent",
        "action": "ADD",
        "bizStep": "loading",
        "parentID": TRUCK,
        "childEPCs": codes[1:],
        "eventTime": time_text(minutes(3)),
        "eventTimeZoneOffset": "+08:00",
        "readPoint": where,
        "destinationList": [{"type": "owning_party", "destination": services.org_uri(chain.dismantler)}],
    }
    unknown_destination = object_event(
        chain.recycler,
        "shipping",
        "OBSERVE",
        codes[0],
        minutes(4),
        destinationList=[{"type": "owning_party", "destination": f"{resolver}/org/91110000000000000X"}],
    )
    sent = document(
        *[object_event(chain.recycler, "commissioning", "ADD", c, minutes(1), **{"hx:category": "tv"}) for c in codes],
        ship,
        load,
        unknown_destination,
    )
    report = epcis.import_document(actor=chain.recycler_user, organisation=chain.recycler, document=sent)
    assert [r.code or r.status for r in report.rows] == ["recorded"] * 5 + ["unknown_destination"]
    items = {i.code: i for i in TraceItem.objects.filter(code__in=codes)}
    assert {(i.category, i.state, i.holder_id, i.destination_id) for i in items.values()} == {
        ("tv", "in_transit", chain.recycler.pk, chain.dismantler.pk)
    }
    stored = TraceEvent.objects.get(hash=report.rows[4].event_hash)
    assert (stored.kind, stored.document["parentID"], stored.document["childEPCs"]) == (
        "load",
        TRUCK,
        sorted(codes[1:]),
    )
    assert epcis.validate(epcis.export_document(queries.events_for_organisation(chain.recycler))) == []


def test_hx_kind_must_agree_with_the_event_shape(chain):
    code = services.new_code()
    mismatched = object_event(chain.merchant, "commissioning", "ADD", code, minutes(1), **{"hx:kind": "ship"})
    unknown = object_event(chain.merchant, "commissioning", "ADD", code, minutes(1), **{"hx:kind": "teleport"})
    report = epcis.import_document(
        actor=chain.clerk, organisation=chain.merchant, document=document(mismatched, unknown)
    )
    assert [r.code for r in report.rows] == ["kind_mismatch", "unknown_kind"]
    assert not TraceItem.objects.filter(code=code).exists()


def test_a_long_document_is_recorded_in_batches_in_order(chain, monkeypatch):
    monkeypatch.setattr(services, "MAX_BATCH", 2)
    code = services.new_code()
    late = minutes(9)
    sent = document(
        object_event(chain.merchant, "commissioning", "ADD", code, minutes(1), **{"hx:category": "tv"}),
        {"type": "ObjectEvent"},  # schema-invalid, between two batches of good ones
        object_event(
            chain.merchant,
            "shipping",
            "OBSERVE",
            code,
            minutes(2),
            destinationList=[{"type": "owning_party", "destination": services.org_uri(chain.recycler)}],
        ),
        object_event(chain.merchant, "commissioning", "ADD", code, late, **{"hx:category": "tv"}),
        object_event(chain.merchant, "destroying", "DELETE", code, minutes(3)),
    )
    report = epcis.import_document(actor=chain.clerk, organisation=chain.merchant, document=sent)
    assert [(r.index, r.code or r.status) for r in report.rows] == [
        (0, "recorded"),
        (1, "schema_invalid"),
        (2, "recorded"),
        (3, "already_commissioned"),
        (4, "invalid_transition"),
    ]
    assert TraceItem.objects.get(code=code).state == "in_transit"


def test_import_times_keep_their_offset(chain):
    code = services.new_code()
    event = object_event(chain.merchant, "commissioning", "ADD", code, minutes(1), **{"hx:category": "tv"})
    moment = timezone.now().replace(microsecond=0) - datetime.timedelta(hours=1)
    event["eventTime"] = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["eventTimeZoneOffset"] = "+00:00"
    report = epcis.import_document(actor=chain.clerk, organisation=chain.merchant, document=document(event))
    stored = TraceEvent.objects.get(hash=report.rows[0].event_hash)
    assert stored.event_time == moment
    assert stored.document["eventTime"] == time_text(moment)
    assert epcis.parse_time("2005-04-03T20:33:31.116-06:00") == datetime.datetime(
        2005, 4, 4, 2, 33, 31, 116000, tzinfo=datetime.UTC
    )
