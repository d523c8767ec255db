import datetime
import json

import pytest
from django.db import DatabaseError, DataError, connection, transaction
from django.utils import timezone

from huanxin.core import jobs
from huanxin.core.errors import ValidationFailed
from huanxin.trace import integrity, queries, services
from huanxin.trace.domain.canonical import canonical_text, text_hash, verify_proof
from huanxin.trace.models import ChainLink, Checkpoint, TraceEvent, TraceFlag, TraceItem
from huanxin.trace.services import EventInput
from huanxin.trace.tests.conftest import FRIDGE_OUTPUT, minutes, raw_sql, walk_to_dismantling

pytestmark = pytest.mark.django_db


def test_a_full_chain_from_take_back_to_dismantling(chain):
    item = walk_to_dismantling(chain)
    assert (item.state, item.holder_id, item.event_count) == ("dismantled", chain.dismantler.pk, 6)
    kinds = [link.event.kind for link in queries.item_history(item)]
    assert kinds == ["commission", "ship", "receive", "ship", "receive", "dismantle"]
    dismantle = TraceEvent.objects.get(kind="dismantle")
    assert dismantle.document["type"] == "TransformationEvent"
    assert dismantle.document["bizStep"] == "disassembling"
    assert {q["uom"] for q in dismantle.document["outputQuantityList"]} == {"KGM"}
    assert dismantle.document["eventID"] == f"ni:///sha-256;{dismantle.hash}?ver=CBV2.0"
    assert not dismantle.implausible


def test_nothing_follows_dismantling_and_the_refusal_changes_nothing(chain):
    item = walk_to_dismantling(chain)
    before = (TraceEvent.objects.count(), ChainLink.objects.count(), item.head_hash)
    with pytest.raises(ValidationFailed) as caught:
        services.record_one(
            actor=chain.dismantler_user,
            organisation=chain.dismantler,
            data=EventInput("destroy", [item.code], minutes(7)),
        )
    assert caught.value.code == "terminal"
    item.refresh_from_db()
    assert (TraceEvent.objects.count(), ChainLink.objects.count(), item.head_hash) == before


def test_only_the_holder_records_the_next_event(chain):
    code = services.new_code()
    services.record_one(
        actor=chain.clerk, organisation=chain.merchant, data=EventInput("commission", [code], minutes(1), category="tv")
    )
    with pytest.raises(ValidationFailed) as caught:
        services.record_one(
            actor=chain.recycler_user,
            organisation=chain.recycler,
            data=EventInput("ship", [code], minutes(2), destination=chain.dismantler),
        )
    assert caught.value.code == "not_holder"


def test_only_the_destination_receives(chain):
    code = services.new_code()
    services.record_one(
        actor=chain.clerk, organisation=chain.merchant, data=EventInput("commission", [code], minutes(1), category="tv")
    )
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=EventInput("ship", [code], minutes(2), destination=chain.recycler),
    )
    with pytest.raises(ValidationFailed) as caught:
        services.record_one(
            actor=chain.dismantler_user, organisation=chain.dismantler, data=EventInput("receive", [code], minutes(3))
        )
    assert caught.value.code == "not_destination"


def test_only_a_dismantler_licensed_on_the_event_date_dismantles(chain):
    code = services.new_code()
    for actor, org, data in [
        (chain.clerk, chain.merchant, EventInput("commission", [code], minutes(1), category="fridge")),
        (chain.clerk, chain.merchant, EventInput("ship", [code], minutes(2), destination=chain.unlicensed)),
        (chain.unlicensed_user, chain.unlicensed, EventInput("receive", [code], minutes(3))),
    ]:
        services.record_one(actor=actor, organisation=org, data=data)
    with pytest.raises(ValidationFailed) as caught:
        services.record_one(
            actor=chain.unlicensed_user,
            organisation=chain.unlicensed,
            data=EventInput("dismantle", [code], minutes(4), outputs_g=FRIDGE_OUTPUT),
        )
    assert caught.value.code == "not_licensed"


def test_an_implausible_dismantling_is_stored_and_flagged(chain):
    item = walk_to_dismantling(chain, outputs={"metals": 3_000, "plastics": 2_000})
    event = TraceEvent.objects.get(kind="dismantle")
    assert event.implausible
    reasons = set(TraceFlag.objects.filter(item=item).values_list("reason", flat=True))
    assert any("不在该品类合理范围" in r for r in reasons)
    assert any("制冷剂" in r for r in reasons)


def test_a_batch_reports_each_event_and_a_retry_records_nothing_twice(chain):
    code_a, code_b = services.new_code(), services.new_code()
    batch = [
        EventInput("commission", [code_a], minutes(1), category="tv"),
        EventInput("commission", [code_b], minutes(1), category="tv"),
        EventInput("ship", [code_a], minutes(2), destination=chain.recycler),
        EventInput("receive", [code_b], minutes(3)),  # not shipped: refused
        EventInput("teleport", [code_a], minutes(3)),
    ]
    first = services.record_events(actor=chain.clerk, organisation=chain.merchant, events=batch)
    assert [r.status for r in first] == ["recorded", "recorded", "recorded", "refused", "refused"]
    assert [r.code for r in first][3:] == ["invalid_transition", "unknown_kind"]
    again = services.record_events(actor=chain.clerk, organisation=chain.merchant, events=batch[:3])
    assert [r.status for r in again] == ["duplicate", "duplicate", "duplicate"]
    assert TraceEvent.objects.count() == 3


def test_a_load_moves_many_items_as_one_aggregation_event(chain):
    codes = [services.new_code() for _ in range(3)]
    services.record_events(
        actor=chain.clerk,
        organisation=chain.merchant,
        events=[EventInput("commission", [c], minutes(1), category="washer") for c in codes],
    )
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=EventInput("load", codes, minutes(2), destination=chain.recycler, parent="urn:huanxin:load:TRUCK-7"),
    )
    services.record_one(
        actor=chain.recycler_user,
        organisation=chain.recycler,
        data=EventInput("unload", codes, minutes(3), parent="urn:huanxin:load:TRUCK-7"),
    )
    assert set(TraceItem.objects.values_list("holder_id", flat=True)) == {chain.recycler.pk}
    event = TraceEvent.objects.get(kind="load")
    assert event.document["childEPCs"] == sorted(codes)
    assert ChainLink.objects.filter(event=event).count() == 3


def test_the_take_back_at_checkout_gets_its_code_once(chain):
    from huanxin.subsidies import services as subsidies
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(chain.personas)
    qualification = subsidies.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    redemption = subsidies.redeem(
        actor=chain.clerk,
        merchant=chain.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial="SN-TB-1",
        price_fen=400_000,
        take_back=subsidies.TakeBackInput(category="fridge", condition="damaged"),
    ).redemption
    assert list(queries.pending_take_backs(chain.merchant)) == [redemption.take_back]
    item = services.commission_take_back(actor=chain.clerk, take_back=redemption.take_back)
    assert services.commission_take_back(actor=chain.clerk, take_back=redemption.take_back).pk == item.pk
    assert (item.category, item.state, item.serial) == ("fridge", "held", "SN-TB-1")
    assert list(queries.pending_take_backs(chain.merchant)) == []
    assert services.digital_link(item.code).startswith("https://")
    assert services.canonical_code(services.digital_link(item.code)) == item.code


# ---------------------------------------------------------------- integrity


def test_verify_passes_on_an_untouched_record(chain):
    walk_to_dismantling(chain)
    report = integrity.verify_all()
    assert report.ok, report.findings
    assert (report.items, report.events) == (1, 6)


def test_verify_names_an_altered_event(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="dismantle")
    body = json.loads(event.canonical)
    body["outputQuantityList"][0]["quantity"] = 99.0
    raw_sql("UPDATE trace_traceevent SET canonical = %s WHERE id = %s", [canonical_text(body), event.pk])
    findings = integrity.verify_all().findings
    assert [(f.kind, f.reference) for f in findings] == [("altered", event.hash)]
    assert not integrity.verify_item(TraceItem.objects.get()).ok


def test_verify_names_an_event_whose_canonical_text_was_replaced_with_its_hash(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="dismantle")
    body = json.loads(event.canonical)
    body["outputQuantityList"][0]["quantity"] = 99.0
    forged = canonical_text(body)
    # The hash recomputed too: the chain link and the item's head no longer match it.
    raw_sql(
        "UPDATE trace_traceevent SET canonical = %s, hash = %s WHERE id = %s", [forged, text_hash(forged), event.pk]
    )
    kinds = {(f.kind, f.reference) for f in integrity.verify_all().findings}
    assert ("inserted", TraceItem.objects.get().code) in kinds


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("biz_step", "receiving"),
        ("kind", "receive"),
        ("event_type", "AggregationEvent"),
        ("event_time", datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)),
    ],
)
def test_verify_names_an_altered_column_too(chain, column, value):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="ship", organisation=chain.merchant)
    raw_sql(f"UPDATE trace_traceevent SET {column} = %s WHERE id = %s", [value, event.pk])
    findings = integrity.verify_all().findings
    assert [(f.kind, f.reference) for f in findings] == [("altered", event.hash)]


def test_verify_names_an_event_moved_to_another_organisation(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="ship", organisation=chain.merchant)
    raw_sql("UPDATE trace_traceevent SET organisation_id = %s WHERE id = %s", [chain.recycler.pk, event.pk])
    assert [(f.kind, f.reference) for f in integrity.verify_all().findings] == [("altered", event.hash)]


def test_the_document_copy_cannot_be_written_and_a_copy_made_writable_is_compared(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="dismantle")
    document = dict(event.document)
    document["outputQuantityList"][0]["quantity"] = 99.0
    with pytest.raises(DatabaseError):
        raw_sql("UPDATE trace_traceevent SET document = %s WHERE id = %s", [json.dumps(document), event.pk])
    if connection.vendor != "postgresql":
        return  # SQLite cannot turn a generated column into a plain one
    raw_sql("SET CONSTRAINTS ALL IMMEDIATE", [])  # the deferred foreign key checks would block the ALTER
    raw_sql("ALTER TABLE trace_traceevent ALTER COLUMN document DROP EXPRESSION", [])
    assert integrity.verify_all().ok
    raw_sql("UPDATE trace_traceevent SET document = %s WHERE id = %s", [json.dumps(document), event.pk])
    assert [(f.kind, f.reference) for f in integrity.verify_all().findings] == [("altered", event.hash)]


def test_a_canonical_text_that_is_not_json_is_refused_or_named(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="receive", organisation=chain.recycler)
    if connection.vendor == "postgresql":
        # The database derives the document from the text and refuses one it cannot read.
        with pytest.raises(DataError):
            raw_sql("UPDATE trace_traceevent SET canonical = %s WHERE id = %s", ['{"type": no json', event.pk])
        return
    raw_sql("UPDATE trace_traceevent SET canonical = %s WHERE id = %s", ['{"type": no json', event.pk])
    assert [(f.kind, f.reference) for f in integrity.verify_all().findings] == [("altered", event.hash)]


def test_verify_names_stored_values_that_are_not_a_time_or_hex_instead_of_failing(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.get(kind="receive", organisation=chain.recycler)
    body = json.loads(event.canonical)
    body["eventTime"] = "the day before"
    raw_sql("UPDATE trace_traceevent SET canonical = %s WHERE id = %s", [canonical_text(body), event.pk])
    assert [(f.kind, f.reference) for f in integrity.verify_all().findings] == [("altered", event.hash)]
    link = ChainLink.objects.get(event=event)
    raw_sql("UPDATE trace_chainlink SET previous = %s WHERE id = %s", ["not hex", link.pk])
    kinds = {(f.kind, f.reference) for f in integrity.verify_all().findings}
    assert kinds == {("altered", event.hash), ("inserted", TraceItem.objects.get().code)}


def test_verify_names_a_removed_event(chain):
    item = walk_to_dismantling(chain)
    link = ChainLink.objects.get(item=item, sequence=3)
    raw_sql("DELETE FROM trace_chainlink WHERE id = %s", [link.pk])
    findings = integrity.verify_all().findings
    assert ("removed", item.code) in [(f.kind, f.reference) for f in findings]
    # The event the link pointed to is now in no chain at all.
    assert ("inserted", link.event.hash) in [(f.kind, f.reference) for f in findings]


def test_verify_names_a_removed_last_event(chain):
    item = walk_to_dismantling(chain)
    link = ChainLink.objects.get(item=item, sequence=6)
    raw_sql("DELETE FROM trace_chainlink WHERE id = %s", [link.pk])
    assert ("removed", item.code) in [(f.kind, f.reference) for f in integrity.verify_all().findings]


def test_verify_names_an_item_whose_whole_chain_was_removed(chain):
    item = walk_to_dismantling(chain)
    raw_sql("DELETE FROM trace_chainlink WHERE item_id = %s", [item.pk])
    findings = [(f.kind, f.reference) for f in integrity.verify_all().findings]
    assert ("removed", item.code) in findings


def test_verify_names_an_inserted_event(chain):
    item = walk_to_dismantling(chain)
    forged = TraceEvent.objects.create(
        hash="f" * 64,
        canonical='{"type":"ObjectEvent"}',
        kind="ship",
        event_type="ObjectEvent",
        biz_step="shipping",
        event_time=timezone.now(),
        organisation=chain.merchant,
    )
    ChainLink.objects.create(item=item, sequence=7, event=forged, previous=item.head_hash, link="0" * 64)
    kinds = {f.kind for f in integrity.verify_all().findings}
    assert {"inserted", "altered"} <= kinds


def slip_in_event(chain):
    """An event written straight into the table, in no item's chain."""
    canonical = '{"bizStep":"shipping","type":"ObjectEvent"}'
    return TraceEvent.objects.create(
        hash=text_hash(canonical),
        canonical=canonical,
        kind="ship",
        event_type="ObjectEvent",
        biz_step="shipping",
        event_time=timezone.now(),
        organisation=chain.merchant,
    )


def test_verify_names_an_event_slipped_in_outside_any_chain(chain):
    walk_to_dismantling(chain)
    slipped = slip_in_event(chain)
    findings = [(f.kind, f.reference) for f in integrity.verify_all().findings]
    assert ("inserted", slipped.hash) in findings


def test_checkpoints_sign_the_day_and_prove_inclusion_offline(chain):
    walk_to_dismantling(chain)
    TraceEvent.objects.all().count()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    raw_sql("UPDATE trace_traceevent SET recorded_at = %s", [timezone.now() - datetime.timedelta(days=1)])
    checkpoint = integrity.publish_checkpoint(yesterday)
    assert checkpoint is not None
    assert checkpoint.event_count == 6
    assert integrity.publish_checkpoint(yesterday).pk == checkpoint.pk
    assert integrity.verify_signature(checkpoint, integrity.public_key_bytes())
    event = TraceEvent.objects.get(kind="dismantle")
    proof = integrity.inclusion_proof(event)
    assert proof is not None
    assert proof.valid()
    assert verify_proof(event.hash, proof.path, checkpoint.root)
    assert not verify_proof("0" * 64, proof.path, checkpoint.root)
    assert integrity.verify_all().ok
    # An event slipped into a checkpointed day breaks that day's root.
    TraceEvent.objects.create(
        hash="e" * 64,
        canonical='{"type":"ObjectEvent"}',
        kind="ship",
        event_type="ObjectEvent",
        biz_step="shipping",
        event_time=timezone.now(),
        organisation=chain.merchant,
        recorded_at=timezone.now() - datetime.timedelta(days=1),
    )
    assert ("checkpoint", str(yesterday)) in [(f.kind, f.reference) for f in integrity.verify_all().findings]
    assert Checkpoint.objects.count() == 1


def test_the_periodic_job_signs_every_finished_day_once(chain):
    walk_to_dismantling(chain)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    raw_sql("UPDATE trace_traceevent SET recorded_at = %s", [timezone.now() - datetime.timedelta(days=1)])
    run = jobs.run_job("trace.checkpoints")
    assert run is not None
    assert (run.status, run.detail) == ("done", "1")
    [checkpoint] = Checkpoint.objects.all()
    assert (checkpoint.day, checkpoint.event_count) == (yesterday, 6)
    assert integrity.publish_due_checkpoints() == 0


def test_events_are_append_only_in_the_orm(chain):
    walk_to_dismantling(chain)
    event = TraceEvent.objects.first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        TraceEvent.objects.filter(pk=event.pk).update(kind="x")
    with pytest.raises(RuntimeError):
        TraceEvent.objects.filter(pk=event.pk).delete()


def test_malformed_events_are_refused_one_by_one_without_a_server_error(chain):
    import datetime as dt

    code = services.new_code()
    services.record_one(
        actor=chain.clerk, organisation=chain.merchant, data=EventInput("commission", [code], minutes(1), category="tv")
    )
    results = services.record_events(
        actor=chain.clerk,
        organisation=chain.merchant,
        events=[
            EventInput("load", [code, code], minutes(2), destination=chain.recycler, parent="urn:huanxin:load:T1"),
            EventInput("load", [code], minutes(2), destination=chain.recycler, parent="TRUCK-7"),
            # Not a URI either (RFC 3986 allows no Chinese characters), and the EPCIS export would fail on it.
            EventInput("load", [code], minutes(2), destination=chain.recycler, parent="urn:huanxin:load:京A12345"),
            EventInput("ship", ["not-a-code"], minutes(2), destination=chain.recycler),
            EventInput("ship", [code], dt.datetime(2026, 1, 1, 10, 0), destination=chain.recycler),
        ],
    )
    assert [r.code for r in results] == [
        "duplicate_code",
        "invalid_parent",
        "invalid_parent",
        "invalid_code",
        "invalid_time",
    ]
    assert TraceEvent.objects.count() == 1


def _tamper_in_every_way(chain):
    """One altered event, one removed link, one broken previous link, one event outside any chain."""
    first, second = walk_to_dismantling(chain), walk_to_dismantling(chain)
    dismantling = TraceEvent.objects.filter(kind="dismantle").order_by("pk").first()
    body = json.loads(dismantling.canonical)
    body["hx:category"] = "tv"
    raw_sql("UPDATE trace_traceevent SET canonical = %s WHERE id = %s", [canonical_text(body), dismantling.pk])
    raw_sql("DELETE FROM trace_chainlink WHERE item_id = %s AND sequence = 2", [first.pk])
    raw_sql("UPDATE trace_chainlink SET previous = %s WHERE item_id = %s AND sequence = 4", ["0" * 64, second.pk])
    slip_in_event(chain)


def test_the_database_and_python_scans_name_the_same_findings(chain):
    _tamper_in_every_way(chain)
    findings = integrity.verify_all().findings
    assert {f.kind for f in findings} == {"altered", "removed", "inserted"}
    assert findings == integrity._findings(integrity._scan_in_python())


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_chains_walked_alongside_name_the_same_findings(chain):
    _tamper_in_every_way(chain)
    alongside = integrity.verify_all().findings
    with transaction.atomic():
        one_after_the_other = integrity.verify_all().findings
    assert alongside == one_after_the_other == integrity._findings(integrity._scan_in_python())
    assert {f.kind for f in alongside} == {"altered", "removed", "inserted"}
