"""Every form of a trace code a person can read, type or scan finds the item: in the workspace, the API and
the public verification page; the public page has a box to type one; bad input is a field error."""

import datetime
import json
from urllib.parse import quote, urlencode

import pytest
from django.test import Client
from django.utils import timezone

from huanxin.accounts import services as accounts
from huanxin.conftest import client_for
from huanxin.core.errors import ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.trace import services
from huanxin.trace.models import TraceEvent, TraceItem
from huanxin.trace.tests.conftest import ship_to_dismantler

pytestmark = pytest.mark.django_db

CODE = "urn:epc:id:giai:6999999.639079541759"
PRINTED = "6999999.639079541759"

# Forms that fit in one URL path segment (no "/"): usable in /verify/<code>/ and /api/v1/trace/verify/<code>.
PATH_FORMS = [
    pytest.param(CODE, id="urn"),
    pytest.param(PRINTED, id="printed"),
    pytest.param("6999999639079541759", id="dotless"),
    pytest.param("URN:EPC:ID:GIAI:6999999.639079541759", id="urn-upper"),
    pytest.param("６９９９９９９．６３９０７９５４１７５９", id="full-width"),
    pytest.param("6999999。639079541759", id="ideographic-full-stop"),
    pytest.param("(8004)6999999639079541759", id="gs1-element-string"),
    pytest.param(" 6999999.639079541759 ", id="surrounding-spaces"),
    pytest.param("6999999 639 079 541 759", id="spaced-digits"),
]
# Forms with slashes, typed or pasted into a box or sent in a body: scanned links and pasted page addresses.
TEXT_FORMS = [
    *PATH_FORMS,
    pytest.param("\t6999999.639079541759\n", id="tab-and-newline"),
    pytest.param("https://id.huanxin.example.cn/8004/6999999639079541759", id="digital-link"),
    pytest.param("HTTPS://ID.HUANXIN.EXAMPLE.CN/8004/6999999639079541759", id="digital-link-upper"),
    pytest.param("https://id.huanxin.example.cn/8004/6999999639079541759?linktype=all", id="digital-link-query"),
    pytest.param("https://huanxin.example.cn/verify/6999999.639079541759/", id="verify-url-printed"),
    pytest.param(
        "https://huanxin.example.cn/verify/urn%3Aepc%3Aid%3Agiai%3A6999999.639079541759/", id="verify-url-urn"
    ),
]
BAD_INPUT = [
    pytest.param("hello", id="word"),
    pytest.param("6999999.", id="no-reference"),
    pytest.param("123", id="too-short"),
    pytest.param("urn:epc:id:giai:", id="urn-without-code"),
    pytest.param("https://example.cn/somewhere", id="other-url"),
    pytest.param("6999999.6390795417<script>", id="markup"),
]
# What fits in one path segment: a "/" in a pasted address would be a different path altogether.
BAD_PATH_INPUT = [text for text in BAD_INPUT if "/" not in str(text.values[0])]


@pytest.fixture
def item(chain):
    services.record_one(
        actor=chain.clerk,
        organisation=chain.merchant,
        data=services.EventInput("commission", [CODE], timezone.now() - datetime.timedelta(minutes=5), category="tv"),
    )
    return TraceItem.objects.get(code=CODE)


# ---------------------------------------------------------------- every printed form resolves


@pytest.mark.parametrize("text", TEXT_FORMS)
def test_the_workspace_finds_the_item_by_any_printed_form(chain, item, text):
    page = client_for(chain.clerk).get("/trace/workspace/?" + urlencode({"code": text}))
    html = page.content.decode()
    assert page.status_code == 200
    assert "追溯码不存在" not in html
    assert 'class="error"' not in html
    assert "记录事件" in html  # the clerk's merchant holds it: the next event can be recorded
    assert f'type="hidden" name="code" value="{PRINTED}"' in html


@pytest.mark.parametrize("text", PATH_FORMS)
def test_the_public_verification_page_resolves_any_printed_form(item, text):
    page = Client().get(f"/verify/{quote(text, safe='')}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "去向核验" in html
    assert PRINTED in html


@pytest.mark.parametrize("text", PATH_FORMS)
def test_the_verification_api_resolves_any_printed_form(item, text):
    response = Client().get(f"/api/v1/trace/verify/{quote(text, safe='')}")
    assert response.status_code == 200
    assert response.json()["item"]["code"] == CODE


@pytest.mark.parametrize("text", PATH_FORMS)
def test_the_label_and_epcis_api_resolve_any_printed_form(item, text):
    png = Client().get(f"/api/v1/trace/items/{quote(text, safe='')}/label.png")
    assert png.status_code == 200
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    export = Client().get(f"/api/v1/trace/epcis/items/{quote(text, safe='')}")
    assert export.status_code == 200
    assert len(json.loads(b"".join(export.streaming_content))["epcisBody"]["eventList"]) == 1


@pytest.mark.parametrize("text", TEXT_FORMS)
def test_the_typed_box_takes_any_printed_form_to_the_verification_page(item, text):
    response = Client().get("/verify/?" + urlencode({"code": text}))
    assert response.status_code == 302
    assert response["Location"] == f"/verify/{CODE}/"


@pytest.mark.parametrize("text", TEXT_FORMS)
def test_the_batch_api_records_an_event_named_by_any_printed_form(chain, item, text):
    token = accounts.issue_api_token(
        actor=chain.personas.admin, organisation=chain.merchant, name="收银系统", user=chain.clerk
    ).plaintext
    event = {
        "kind": "ship",
        "codes": [text],
        "event_time": (timezone.now() - datetime.timedelta(minutes=1)).isoformat(),
        "destination_uscc": chain.recycler.uscc,
    }
    response = Client().post(
        "/api/v1/trace/events/batch",
        data=json.dumps({"events": [event]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = response.json()
    assert body["recorded"] == 1, body
    assert body["results"][0]["items"] == [CODE]
    assert TraceItem.objects.get(code=CODE).state == "in_transit"
    assert TraceItem.objects.count() == 1


@pytest.mark.parametrize("text", [CODE, PRINTED, "6999999639079541759"])
def test_the_workspace_records_an_event_for_a_code_posted_in_printed_form(chain, item, text):
    response = client_for(chain.clerk).post(
        "/trace/workspace/", {"form": "event", "code": text, "kind": "ship", "destination": chain.recycler.pk}
    )
    assert response.status_code == 302
    assert TraceItem.objects.get(code=CODE).state == "in_transit"


def test_the_staff_search_finds_an_item_by_its_printed_form(chain, item):
    html = client_for(chain.personas.auditor).get(f"/trace/staff/?q={PRINTED}").content.decode()
    assert f'href="/verify/{CODE}/"' in html


def test_tables_and_the_verification_page_show_the_code_as_printed_on_the_label(chain, item):
    workspace = client_for(chain.clerk).get("/trace/workspace/").content.decode()
    assert f">{PRINTED}</a>" in workspace
    verify = Client().get(f"/verify/{CODE}/").content.decode()
    assert f">{PRINTED}<" in verify


# ---------------------------------------------------------------- the public box


def test_the_public_box_is_a_page_of_its_own_linked_from_the_navigation():
    page = Client().get("/verify/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="code"' in html
    assert 'inputmode="text"' in html or 'type="text"' in html
    home = Client().get("/").content.decode()
    assert 'href="/verify/"' in home


@pytest.mark.parametrize("text", BAD_INPUT)
def test_the_public_box_shows_a_field_error_for_input_that_is_no_code(item, text):
    response = Client().get("/verify/?" + urlencode({"code": text}))
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-code="invalid_code"' in html
    assert "无法识别" in html
    assert "<script>" not in html.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_public_box_says_when_a_well_formed_code_is_not_on_record(item):
    response = Client().get("/verify/?code=6999999.000000000001")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-code="unknown_code"' in html
    assert 'name="code"' in html


def test_the_public_box_asks_for_a_code_when_submitted_empty():
    response = Client().get("/verify/?code=+")
    assert response.status_code == 400
    assert 'data-code="required"' in response.content.decode()


@pytest.mark.parametrize("text", BAD_PATH_INPUT)
def test_the_verification_page_refuses_input_that_is_no_code_with_the_box_and_a_field_error(item, text):
    response = Client().get(f"/verify/{quote(text, safe='')}/")
    html = response.content.decode()
    assert response.status_code == 400
    assert 'data-code="invalid_code"' in html
    assert "未找到" not in html


def test_a_well_formed_unknown_code_at_the_verification_page_is_a_404_with_the_box():
    response = Client().get("/verify/6999999.000000000001/")
    assert response.status_code == 404
    assert 'name="code"' in response.content.decode()


@pytest.mark.parametrize("text", BAD_INPUT)
def test_the_workspace_shows_a_field_error_for_input_that_is_no_code(chain, item, text):
    page = client_for(chain.clerk).get("/trace/workspace/?" + urlencode({"code": text}))
    html = page.content.decode()
    assert page.status_code == 400
    assert 'data-code="invalid_code"' in html
    assert "追溯码不存在" not in html


def test_the_workspace_says_a_well_formed_unknown_code_does_not_exist(chain, item):
    html = client_for(chain.clerk).get("/trace/workspace/?code=6999999.000000000001").content.decode()
    assert 'data-code="unknown_code"' in html


@pytest.mark.parametrize("text", BAD_PATH_INPUT)
def test_the_api_refuses_input_that_is_no_code_with_a_field_error(item, text):
    response = Client().get(f"/api/v1/trace/verify/{quote(text, safe='')}")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_code"
    assert body["errors"][0]["field"] == "code"


@pytest.mark.parametrize(
    "path",
    [
        "/verify/%00/",
        "/verify/6999999.6390%0079541759/",
        "/verify/" + "9" * 5000 + "/",
        "/verify/?code=%00",
        "/verify/?code=" + "9" * 5000,
        "/api/v1/trace/verify/%00",
        "/api/v1/trace/verify/" + "9" * 5000,
    ],
)
def test_nul_bytes_and_overlong_input_are_refused_with_a_4xx(item, path):
    response = Client().get(path)
    assert 400 <= response.status_code < 500
    assert response.status_code != 404


def test_nul_bytes_and_overlong_input_in_the_workspace_are_field_errors(chain, item):
    clerk = client_for(chain.clerk)
    for text in ("6999999.\x00639079541759", "9" * 5000):
        page = clerk.get("/trace/workspace/?" + urlencode({"code": text}))
        assert page.status_code == 400
        # A NUL is refused at the boundary for every page, with the refusal page rather than the form.
        assert ("不能包含空字符" if "\x00" in text else 'class="error"') in page.content.decode()


# A NUL byte once reached PostgreSQL inside the row-locking lookup and failed the whole batch with a 500.
@pytest.mark.parametrize(
    ("junk", "says"), [("hello", "无法识别"), ("6999999.63\x0079541759", "控制字符"), ("9" * 5000, "输入过长")]
)
def test_the_batch_api_refuses_an_event_whose_code_is_no_code_and_writes_nothing(chain, item, junk, says):
    token = accounts.issue_api_token(
        actor=chain.personas.admin, organisation=chain.merchant, name="收银系统", user=chain.clerk
    ).plaintext
    events_before, audit_before = TraceEvent.objects.count(), AuditEntry.objects.count()
    event = {
        "kind": "ship",
        "codes": [junk],
        "event_time": timezone.now().isoformat(),
        "destination_uscc": chain.recycler.uscc,
    }
    response = Client().post(
        "/api/v1/trace/events/batch",
        data=json.dumps({"events": [event]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    if "\x00" in junk:
        # A NUL anywhere in a JSON body is refused at the boundary, for the whole request, naming the field.
        assert response.status_code == 422
        problem = response.json()
        assert (problem["code"], problem["errors"][0]["field"]) == ("nul_character", "events[0].codes[0]")
    else:
        result = response.json()["results"][0]
        assert (result["status"], result["code"], result["field"]) == ("refused", "invalid_code", "codes")
        assert says in result["message"]
    assert (TraceEvent.objects.count(), AuditEntry.objects.count()) == (events_before, audit_before)
    assert TraceItem.objects.get(code=CODE).state == "held"


def test_a_digital_link_that_is_no_code_lands_on_the_box_with_a_field_error():
    response = Client().get("/8004/hello")
    assert response.status_code == 400
    assert 'data-code="invalid_code"' in response.content.decode()


# ---------------------------------------------------------------- messages


def test_a_dismantling_without_outputs_is_a_field_error_in_kilograms_not_grams(chain):
    code = ship_to_dismantler(chain)
    services.record_one(
        actor=chain.dismantler_user,
        organisation=chain.dismantler,
        data=services.EventInput("receive", [code], timezone.now() - datetime.timedelta(minutes=1)),
    )
    events_before = TraceEvent.objects.count()
    page = client_for(chain.dismantler_user).post(
        "/trace/workspace/", {"form": "event", "code": code, "kind": "dismantle"}
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-code="outputs_required"' in html
    assert "克" not in html
    assert TraceEvent.objects.count() == events_before
    assert TraceItem.objects.get(code=code).state == "held"


def test_the_dismantling_refusal_from_the_service_names_no_unit_the_caller_did_not_use(chain):
    code = ship_to_dismantler(chain)
    services.record_one(
        actor=chain.dismantler_user,
        organisation=chain.dismantler,
        data=services.EventInput("receive", [code], timezone.now() - datetime.timedelta(minutes=1)),
    )
    [result] = services.record_events(
        actor=chain.dismantler_user,
        organisation=chain.dismantler,
        events=[services.EventInput("dismantle", [code], timezone.now(), outputs_g={"metals": -5})],
    )
    assert result.code == "invalid_outputs"
    assert "克" not in result.message
    assert "kg" not in result.message


def _commission_with_outcomes(chain, monkeypatch, outcomes):
    """Post the commissioning form for one take-back per outcome (None: coded; an error: refused)."""
    from huanxin.subsidies.models import TakeBack

    class Chosen:
        def select_related(self, *fields):
            return [object() for _ in outcomes]

    results = iter(outcomes)

    def commission(*, actor, take_back):
        error = next(results)
        if error is not None:
            raise error
        return TraceItem(code=CODE)

    clerk = client_for(chain.clerk)
    with monkeypatch.context() as patch:
        patch.setattr(TakeBack.objects, "filter", lambda **kwargs: Chosen())
        patch.setattr(services, "commission_take_back", commission)
        response = clerk.post("/trace/commission/", {"take_back": [str(n) for n in range(len(outcomes))]})
    assert response.status_code == 302
    return clerk.get(response["Location"]).content.decode()


REFUSED = ValidationFailed.for_field("take_back", "already_commissioned", "该旧机已赋码")


def test_giving_codes_where_some_take_backs_fail_is_a_warning_not_a_success(chain, monkeypatch):
    html = _commission_with_outcomes(chain, monkeypatch, [None, REFUSED])
    assert 'class="message warning"' in html
    assert 'class="message success"' not in html
    assert "已为 1 台旧机赋码" in html
    assert "1 台旧机未赋码：该旧机已赋码" in html


def test_giving_codes_where_every_take_back_fails_is_an_error(chain, monkeypatch):
    html = _commission_with_outcomes(chain, monkeypatch, [REFUSED, REFUSED])
    assert 'class="message error"' in html
    assert 'class="message success"' not in html
    assert 'class="message warning"' not in html
    assert "2 台旧机未赋码：该旧机已赋码" in html


def test_giving_codes_where_all_take_backs_succeed_is_a_success(chain, monkeypatch):
    html = _commission_with_outcomes(chain, monkeypatch, [None, None])
    assert 'class="message success"' in html
    assert "已为 2 台旧机赋码" in html


def test_the_public_proof_path_names_its_sides_in_chinese(chain):
    from huanxin.trace import integrity
    from huanxin.trace.tests.conftest import raw_sql, walk_to_dismantling

    item = walk_to_dismantling(chain)
    raw_sql("UPDATE trace_traceevent SET recorded_at = %s", [timezone.now() - datetime.timedelta(days=1)])
    integrity.publish_checkpoint(timezone.localdate() - datetime.timedelta(days=1))
    html = Client().get(f"/verify/{item.code}/").content.decode()
    assert "路径 左:" in html or "路径 右:" in html
    assert "left:" not in html
    assert "right:" not in html


def test_an_imported_dismantling_in_another_unit_is_refused_naming_the_material_in_chinese(chain):
    from huanxin.trace import epcis

    event = {
        "type": "TransformationEvent",
        "eventTime": "2026-01-05T10:00:00.000+08:00",
        "eventTimeZoneOffset": "+08:00",
        "bizStep": "disassembling",
        "inputEPCList": [CODE],
        "outputQuantityList": [
            {"epcClass": "https://huanxin.beijing.gov.cn/ns/trace/material/metals", "quantity": 40, "uom": "LBR"}
        ],
    }
    with pytest.raises(epcis._Unmappable) as caught:
        epcis._to_input(event, own_uri=services.org_uri(chain.dismantler), organisations={})
    assert caught.value.code == "unsupported_uom"
    assert "金属" in caught.value.message
    assert "metals" not in caught.value.message


def _batch(chain, event):
    token = accounts.issue_api_token(
        actor=chain.personas.admin, organisation=chain.merchant, name="收银系统", user=chain.clerk
    ).plaintext
    return Client().post(
        "/api/v1/trace/events/batch",
        data=json.dumps({"events": [event]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


@pytest.mark.parametrize("category", ["tv\x00", "spaceship"])
def test_a_commissioning_with_a_category_the_programme_does_not_have_is_refused_and_writes_nothing(chain, category):
    response = _batch(
        chain,
        {"kind": "commission", "codes": [PRINTED], "event_time": timezone.now().isoformat(), "category": category},
    )
    if "\x00" in category:
        # A NUL anywhere in a JSON body is refused at the boundary, for the whole request, naming the field.
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "events[0].category"
    else:
        assert response.status_code == 200
        result = response.json()["results"][0]
        assert (result["status"], result["code"], result["field"]) == ("refused", "unknown_category", "category")
    assert (TraceItem.objects.count(), TraceEvent.objects.count()) == (0, 0)


def test_a_destination_credit_code_with_a_nul_byte_is_refused_not_a_server_error(chain, item):
    response = _batch(
        chain,
        {
            "kind": "ship",
            "codes": [PRINTED],
            "event_time": timezone.now().isoformat(),
            "destination_uscc": chain.recycler.uscc[:17] + "\x00",
        },
    )
    # Refused at the boundary (a NUL anywhere in a JSON body), naming the field.
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events[0].destination_uscc"
    assert TraceItem.objects.get(code=CODE).state == "held"
