import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from huanxin.accounts import services as accounts
from huanxin.conftest import client_for
from huanxin.trace import services
from huanxin.trace.models import TraceEvent, TraceItem
from huanxin.trace.tests.conftest import raw_sql, walk_to_dismantling

pytestmark = pytest.mark.django_db


def batch(client, token, events, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        "/api/v1/trace/events/batch", data=json.dumps({"events": events}), content_type="application/json", **headers
    )


def at(minutes):
    return (timezone.now() - datetime.timedelta(minutes=60 - minutes)).isoformat()


def test_batch_api_records_and_reports_per_event_and_a_replay_acts_once(chain):
    token = accounts.issue_api_token(
        actor=chain.personas.admin, organisation=chain.recycler, name="系统对接", user=chain.recycler_user
    ).plaintext
    code = services.new_code()
    events = [
        {"kind": "commission", "codes": [code], "event_time": at(1), "category": "fridge"},
        {"kind": "collect", "codes": [code], "event_time": at(2)},
        {"kind": "ship", "codes": [code], "event_time": at(3), "destination_uscc": chain.dismantler.uscc},
        {"kind": "dismantle", "codes": [code], "event_time": at(4), "outputs_g": {"metals": 40000}},
    ]
    client = Client()
    first = batch(client, token, events, key="b-1")
    assert first.status_code == 200
    body = first.json()
    assert (body["recorded"], body["refused"]) == (3, 1)
    assert body["results"][3]["code"] == "invalid_transition"
    again = batch(client, token, events, key="b-1")
    assert again.content == first.content
    assert TraceEvent.objects.count() == 3
    retry_without_key = batch(client, token, events[:3]).json()
    assert retry_without_key["duplicates"] == 3


def test_the_public_verification_page_and_api_need_no_login(chain):

    item = walk_to_dismantling(chain)
    page = Client().get(f"/verify/{item.code}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "记录完整" in html
    assert "拆解" in html
    api = Client().get(f"/api/v1/trace/verify/{item.code}").json()
    assert api["chain_ok"] is True
    assert len(api["events"]) == 6
    assert "BEGIN PUBLIC KEY" in api["public_key_pem"]
    link = services.digital_link(item.code)
    resolved = Client().get("/" + link.split("/", 3)[3])
    assert resolved.status_code == 302
    assert Client().get("/verify/urn:epc:id:giai:6999999.999/").status_code == 404


def test_labels_png_svg_and_pdf_sheet(chain):
    code = services.new_code()
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=services.EventInput("commission", [code], timezone.now(), category="tv"),
    )
    png = Client().get(f"/api/v1/trace/items/{code}/label.png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = Client().get(f"/api/v1/trace/items/{code}/label.svg")
    assert b"<svg" in svg.content
    pdf = client_for(chain.clerk).get(f"/trace/labels.pdf?code={code}")
    assert pdf.content[:5] == b"%PDF-"
    # The Chinese font is embedded (a TrueType subset), not left to the viewer as STSong-Light was.
    assert b"/FontFile2" in pdf.content
    assert b"STSong" not in pdf.content


def test_workspace_records_the_next_event_for_the_holder_only(chain):
    code = services.new_code()
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=services.EventInput("commission", [code], timezone.now() - datetime.timedelta(minutes=5), category="tv"),
    )
    clerk = client_for(chain.clerk)
    page = clerk.get(f"/trace/workspace/?code={code}").content.decode()
    assert "记录事件" in page
    response = clerk.post(
        "/trace/workspace/", {"form": "event", "code": code, "kind": "ship", "destination": chain.recycler.pk}
    )
    assert response.status_code == 302
    assert TraceItem.objects.get(code=code).state == "in_transit"
    other = client_for(chain.dismantler_user).get(f"/trace/workspace/?code={code}").content.decode()
    assert "不能对该旧机记录事件" in other


def test_staff_search_finds_items_and_lists_flags(chain):

    item = walk_to_dismantling(chain, outputs={"metals": 1000})
    html = client_for(chain.personas.auditor).get(f"/trace/staff/?q={item.code}").content.decode()
    assert item.code in html
    assert "不在该品类合理范围" in html
    assert client_for(chain.clerk).get("/trace/staff/").status_code == 403


def test_epcis_export_over_the_api_validates_and_reimporting_it_changes_nothing(chain):
    from huanxin.trace import epcis

    item = walk_to_dismantling(chain)
    response = Client().get(f"/api/v1/trace/epcis/items/{item.code}")
    assert response.status_code == 200
    document = json.loads(b"".join(response.streaming_content))
    assert epcis.validate(document) == []
    assert len(document["epcisBody"]["eventList"]) == 6
    dismantler = client_for(chain.dismantler_user)
    own = dismantler.get("/api/v1/trace/epcis/events")
    own_document = json.loads(b"".join(own.streaming_content))
    assert {e["hx:kind"] for e in own_document["epcisBody"]["eventList"]} == {"receive", "dismantle"}
    before = TraceEvent.objects.count()
    imported = dismantler.post(
        "/api/v1/trace/epcis/import", data=json.dumps(own_document), content_type="application/ld+json"
    )
    assert imported.status_code == 200
    assert imported.json()["duplicates"] == 2
    assert TraceEvent.objects.count() == before
    refused = dismantler.post("/api/v1/trace/epcis/import", data="{}", content_type="application/json")
    assert refused.status_code == 422


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"\n\xd1\xaf\x96\x8a6", "invalid_encoding"),  # not UTF-8: was a server error (found by the fuzz)
        (b"\xef\xbb\xbf{}", "invalid_encoding"),
        (b'{"epcisBody": "\\u0000"}', "nul_character"),
        (b"[" * 40 + b"]" * 40, "too_deep"),
        (b"{", "invalid_json"),
    ],
)
def test_an_epcis_import_that_is_not_json_we_read_is_refused_with_its_reason(chain, body, code):
    before = TraceEvent.objects.count()
    response = client_for(chain.dismantler_user).post(
        "/api/v1/trace/epcis/import", data=body, content_type="application/ld+json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code
    assert TraceEvent.objects.count() == before


def test_the_public_verification_shows_each_events_proof_reading_the_day_once(chain, django_assert_max_num_queries):
    from huanxin.trace import integrity

    item = walk_to_dismantling(chain)
    raw_sql("UPDATE trace_traceevent SET recorded_at = %s", [timezone.now() - datetime.timedelta(days=1)])
    checkpoint = integrity.publish_checkpoint(timezone.localdate() - datetime.timedelta(days=1))
    assert checkpoint is not None
    html = Client().get(f"/verify/{item.code}/").content.decode()
    assert html.count("检查点（第") == 6
    assert "当日检查点尚未签发" not in html
    # The item, its links with events, the day's checkpoint and the day's hashes — not one read per event.
    with django_assert_max_num_queries(4):
        api = Client().get(f"/api/v1/trace/verify/{item.code}").json()
    assert [event["proof"]["root"] for event in api["events"]] == [checkpoint.root] * 6
