import json

import pytest
from django.test import Client

from huanxin.accounts import services as account_services
from huanxin.conftest import api_client_for
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool
from huanxin.subsidies.models import Clawback, Enrolment, Qualification, Redemption

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_resident_claims_through_the_api_and_a_retry_does_not_claim_twice(scene):
    client = api_client_for(scene.resident())
    body = {"programme": "cn-appliance-2026", "category": "fridge"}
    first = post(client, "/api/v1/subsidies/qualifications", body, HTTP_IDEMPOTENCY_KEY="claim-1")
    again = post(client, "/api/v1/subsidies/qualifications", body, HTTP_IDEMPOTENCY_KEY="claim-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert Qualification.objects.count() == 1
    assert sum(BudgetPool.objects.values_list("held_fen", flat=True)) == 150_000
    listing = client.get("/api/v1/subsidies/qualifications").json()
    assert [q["code"] for q in listing] == [first.json()["code"]]


def test_a_refused_claim_returns_every_reason_and_is_listed_for_the_resident(scene):
    client = api_client_for(scene.resident())
    body = {"programme": "cn-appliance-2026", "category": "fridge"}
    post(client, "/api/v1/subsidies/qualifications", body)
    refused = post(client, "/api/v1/subsidies/qualifications", body)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "already_holding"
    assert {r["code"] for r in problem["reasons"]} == {"category", "quota"}
    refusals = client.get("/api/v1/subsidies/refusals").json()
    assert refusals[0]["code"] == "already_holding"


def test_pos_redeems_with_a_token_and_returns(scene):
    clerk = scene.personas.clerk
    issued = account_services.issue_api_token(
        actor=scene.personas.manager, organisation=scene.personas.merchant, name="收银台", user=clerk
    )
    pos = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issued.plaintext}"}
    owner = scene.resident()
    qualification = post(
        api_client_for(owner),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    ).json()
    looked_up = pos.get(
        f"/api/v1/subsidies/lookup?code={qualification['code_display']}", HTTP_AUTHORIZATION=auth["HTTP_AUTHORIZATION"]
    )
    assert looked_up.status_code == 200
    assert looked_up.json()["max_subsidy_fen"] == 150_000
    sale = {
        "code": qualification["code_display"].lower(),
        "store_id": scene.store.pk,
        "product_id": scene.fridge.pk,
        "serial": "SN-POS-1",
        "price_fen": 499_900,
        "take_back": {"category": "fridge", "condition": "damaged", "to_recycler": True},
    }
    # The till shows the subsidy and the customer's payment first; the commit carries the confirmed subsidy.
    quoted = post(pos, "/api/v1/subsidies/redemptions/quote", sale, HTTP_IDEMPOTENCY_KEY="quote-1", **auth)
    assert quoted.status_code == 200
    assert (quoted.json()["subsidy_fen"], quoted.json()["paid_fen"], quoted.json()["held"]) == (74_985, 424_915, False)
    assert Redemption.objects.count() == 0
    sale["confirmed_subsidy_fen"] = quoted.json()["subsidy_fen"]
    response = post(pos, "/api/v1/subsidies/redemptions", sale, HTTP_IDEMPOTENCY_KEY="sale-1", **auth)
    assert response.status_code == 201
    assert response.json()["subsidy_fen"] == 74_985
    replay = post(pos, "/api/v1/subsidies/redemptions", sale, HTTP_IDEMPOTENCY_KEY="sale-1", **auth)
    assert replay.json() == response.json()
    assert Redemption.objects.count() == 1
    returned = post(
        pos,
        f"/api/v1/subsidies/redemptions/{response.json()['id']}/returns",
        {"kind": "full", "reason": "顾客退货"},
        **auth,
    )
    assert returned.status_code == 201
    assert returned.json()["reversed_fen"] == 74_985
    assert returned.json()["refund_fen"] == 499_900 - 74_985
    assert Clawback.objects.get().amount_fen == 74_985
    mine = api_client_for(owner).get(f"/api/v1/subsidies/qualifications/{qualification['id']}").json()
    assert mine["status"] == "returned"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"price_fen": 0}, "price_fen", "too_small"),
        ({"serial": ""}, "serial", "required"),
        ({"code": "not-a-code"}, "code", "invalid_code"),
        ({"product_id": 999999}, "product_id", "unknown_product"),
        ({"price_fen": True}, "price_fen", "invalid_type"),
        ({"price_fen": "100000"}, "price_fen", "invalid_type"),
        ({"price_fen": 1000.0}, "price_fen", "invalid_type"),
        ({"price_fen": 2**63}, "price_fen", "too_large"),
        ({"price_fen": 9_999_999_999_900}, "price_fen", "price_above_ceiling"),
        ({"confirmed_subsidy_fen": True}, "confirmed_subsidy_fen", "invalid_type"),
    ],
)
def test_bad_sales_are_refused_field_by_field_and_change_nothing(scene, change, field, code):
    owner = scene.resident()
    qualification = post(
        api_client_for(owner),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    ).json()
    sale = {
        "code": qualification["code"],
        "store_id": scene.store.pk,
        "product_id": scene.fridge.pk,
        "serial": "SN-BAD-1",
        "price_fen": 100_000,
        "confirmed_subsidy_fen": 15_000,
        **change,
    }
    audit_rows = AuditEntry.objects.count()
    response = post(api_client_for(scene.personas.clerk), "/api/v1/subsidies/redemptions", sale)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["errors"][0]["code"] == code
    assert Redemption.objects.count() == 0
    assert Qualification.objects.get(pk=qualification["id"]).status == "issued"
    assert AuditEntry.objects.count() == audit_rows


def test_enrolment_flow_over_the_api(personas):
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(personas)
    manager = api_client_for(personas.manager)
    store = post(
        manager,
        "/api/v1/subsidies/stores",
        {
            "merchant_id": personas.merchant.pk,
            "name": "朝阳二店",
            "address": "北京市朝阳区测试路2号",
            "district": "110105",
        },
    )
    assert store.status_code == 201
    Enrolment.objects.all().delete()
    body = {
        "merchant_id": personas.merchant.pk,
        "programme": "cn-appliance-2026",
        "categories": ["fridge"],
        "store_ids": [store.json()["id"]],
        "bank_name": "演示银行",
        "account_name": "朝阳家电",
        "bank_account": "6222 0212 3456 7890 123",
        "contact_name": "周经理",
        "contact_phone": "13912340000",
    }
    applied = post(manager, "/api/v1/subsidies/enrolments", body)
    assert applied.status_code == 201
    assert applied.json()["bank_account_masked"] == "6222***********0123"
    assert "6222021234567890123" not in applied.content.decode()
    enrolment_id = applied.json()["id"]
    other_district = post(
        api_client_for(scene.personas.clerk),
        f"/api/v1/subsidies/enrolments/{enrolment_id}/decision",
        {"action": "approve"},
    )
    assert other_district.status_code in {403, 404}
    refused = post(
        api_client_for(personas.district_reviewer),
        f"/api/v1/subsidies/enrolments/{enrolment_id}/decision",
        {"action": "refuse"},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "note"
    approved = post(
        api_client_for(personas.district_reviewer),
        f"/api/v1/subsidies/enrolments/{enrolment_id}/decision",
        {"action": "approve"},
    )
    assert approved.json()["status"] == "approved"
    suspended = post(
        api_client_for(personas.district_reviewer),
        f"/api/v1/subsidies/enrolments/{enrolment_id}/decision",
        {"action": "suspend", "note": "抽查发现价格异常"},
    )
    assert suspended.json()["status"] == "suspended"
    assert AuditEntry.objects.filter(action__startswith="subsidies.enrolment.").count() == 3


def test_staff_burn_board(scene):
    post(
        api_client_for(scene.resident()),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    )
    rows = api_client_for(scene.personas.reviewer).get("/api/v1/subsidies/burn").json()
    assert rows == [
        {
            "programme": "cn-appliance-2026",
            "category": "fridge",
            "issued": 1,
            "redeemed": 0,
            "held_fen": 150_000,
            "spent_fen": 0,
        }
    ]
    assert api_client_for(scene.personas.clerk).get("/api/v1/subsidies/burn").status_code == 403


def test_deciding_an_enrolment_out_of_reach_or_a_round_of_an_unknown_programme_is_not_found(scene):
    reviewer = api_client_for(scene.personas.district_reviewer)
    missing = post(reviewer, "/api/v1/subsidies/enrolments/999999/decision", {"action": "approve"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "enrolment_not_found"
    unknown = post(
        api_client_for(scene.personas.reviewer),
        "/api/v1/subsidies/rounds",
        {"programme": "no-such-programme", "name": "第一批", "opens_at": "2026-06-01T08:00:00+08:00", "limits": {}},
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_programme"
    assert Enrolment.objects.get(pk=scene.enrolment.pk).status == "approved"


def test_todays_redemptions_are_those_of_the_beijing_day(scene):
    import datetime

    from django.utils import timezone

    from huanxin.subsidies import services

    sales = []
    for serial in ("SN-TODAY-1", "SN-TODAY-2"):
        qualification = services.claim_qualification(
            actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
        )
        sales.append(
            services.redeem(
                actor=scene.personas.clerk,
                merchant=scene.personas.merchant,
                store_id=scene.store.pk,
                code=qualification.code,
                product_id=scene.fridge.pk,
                serial=serial,
                price_fen=499_900,
            ).redemption
        )
    midnight = datetime.datetime.combine(timezone.localdate(), datetime.time(), timezone.get_default_timezone())
    Redemption.objects.filter(pk=sales[0].pk).update(redeemed_at=midnight - datetime.timedelta(seconds=1))
    Redemption.objects.filter(pk=sales[1].pk).update(redeemed_at=midnight)
    listing = api_client_for(scene.personas.clerk).get("/api/v1/subsidies/redemptions?today=true").json()
    assert [r["serial"] for r in listing] == ["SN-TODAY-2"]


def test_the_same_sale_resubmitted_without_a_key_is_returned_with_200(scene):
    qualification = post(
        api_client_for(scene.resident()),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    ).json()
    sale = {
        "code": qualification["code"],
        "store_id": scene.store.pk,
        "product_id": scene.fridge.pk,
        "serial": "SN-AGAIN-1",
        "price_fen": 499_900,
        "confirmed_subsidy_fen": 74_985,
    }
    till = api_client_for(scene.personas.clerk)
    first = post(till, "/api/v1/subsidies/redemptions", sale)
    again = post(till, "/api/v1/subsidies/redemptions", sale)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Redemption.objects.count() == 1
    changed = post(till, "/api/v1/subsidies/redemptions", {**sale, "price_fen": 399_900})
    assert changed.status_code == 409
    assert changed.json()["code"] == "qualification_redeemed"


@pytest.mark.parametrize(
    "change", [{"serial": "SN-AGAIN-2"}, {"price_fen": 399_900}, {"product_id": None}, {"store_id": None}]
)
def test_a_different_sale_on_a_redeemed_code_is_a_conflict_naming_the_sale(scene, change):
    from huanxin.subsidies.models import Store

    qualification = post(
        api_client_for(scene.resident()),
        "/api/v1/subsidies/qualifications",
        {"programme": "cn-appliance-2026", "category": "fridge"},
    ).json()
    sale = {
        "code": qualification["code"],
        "store_id": scene.store.pk,
        "product_id": scene.fridge.pk,
        "serial": "SN-AGAIN-1",
        "price_fen": 499_900,
        "confirmed_subsidy_fen": 74_985,
    }
    till = api_client_for(scene.personas.clerk)
    first = post(till, "/api/v1/subsidies/redemptions", sale)
    assert first.status_code == 201
    if "product_id" in change:
        change = {"product_id": scene.fridge.pk + 10_000}
    if "store_id" in change:
        other = Store.objects.create(
            organisation=scene.store.organisation, name="第二门店", address="朝阳路2号", district=scene.store.district
        )
        scene.enrolment.stores.add(other)
        change = {"store_id": other.pk}
    audit_rows = AuditEntry.objects.count()
    again = post(till, "/api/v1/subsidies/redemptions", {**sale, **change})
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["redemption_id"]) == ("qualification_redeemed", first.json()["id"])
    assert Redemption.objects.count() == 1
    assert Redemption.objects.get().serial == "SN-AGAIN-1"
    assert AuditEntry.objects.count() == audit_rows


def _enrol_another_merchant(scene, stores=2):
    from huanxin.conftest import make_organisation
    from huanxin.subsidies.models import Store

    merchant = make_organisation(district="110105")
    enrolment = Enrolment.objects.create(
        organisation=merchant,
        programme=scene.programme,
        categories=["fridge"],
        bank_name="演示银行",
        account_name=merchant.name,
        bank_account_cipher=scene.enrolment.bank_account_cipher,
        bank_account_digest=scene.enrolment.bank_account_digest,
        bank_account_masked=scene.enrolment.bank_account_masked,
        contact_name="王经理",
        contact_phone_cipher=scene.enrolment.contact_phone_cipher,
        contact_phone_masked=scene.enrolment.contact_phone_masked,
        submitted_by=scene.personas.manager,
    )
    enrolment.stores.set(
        Store.objects.create(
            organisation=merchant, name=f"门店{n}", address="北京市朝阳区测试路9号", district_id="110105"
        )
        for n in range(stores)
    )
    return enrolment


def test_listing_enrolments_costs_the_same_queries_for_one_or_many(scene, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reviewer = api_client_for(scene.personas.reviewer)
    with CaptureQueriesContext(connection) as one:
        assert len(reviewer.get("/api/v1/subsidies/enrolments").json()) == 1
    added = [_enrol_another_merchant(scene) for _ in range(3)]
    with django_assert_num_queries(len(one)):
        listing = reviewer.get("/api/v1/subsidies/enrolments").json()
    by_id = {e["id"]: e["store_ids"] for e in listing}
    assert by_id == {
        scene.enrolment.pk: [scene.store.pk],
        **{e.pk: sorted(s.pk for s in e.stores.all()) for e in added},
    }


def test_a_decided_enrolment_shows_its_current_stores(scene):
    from huanxin.subsidies.models import Store

    enrolment = _enrol_another_merchant(scene, stores=1)
    extra = Store.objects.create(
        organisation=enrolment.organisation, name="新门店", address="北京市朝阳区测试路10号", district_id="110105"
    )
    enrolment.stores.add(extra)
    decided = post(
        api_client_for(scene.personas.district_reviewer),
        f"/api/v1/subsidies/enrolments/{enrolment.pk}/decision",
        {"action": "approve"},
    )
    assert decided.status_code == 200
    assert sorted(decided.json()["store_ids"]) == sorted(enrolment.stores.values_list("pk", flat=True))
    assert extra.pk in decided.json()["store_ids"]


def test_listing_rounds_costs_the_same_queries_for_one_or_many(scene, django_assert_num_queries):
    import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from huanxin.subsidies import services

    start = timezone.now() + datetime.timedelta(days=1)

    def schedule(day, limits):
        return services.create_round(
            actor=scene.personas.reviewer,
            programme=scene.programme,
            name=f"第{day + 1}批",
            opens_at=start + datetime.timedelta(days=day),
            closes_at=start + datetime.timedelta(days=day, hours=12),
            limits=limits,
        )

    schedule(0, {"fridge": 5})
    public = Client()
    with CaptureQueriesContext(connection) as one:
        assert len(public.get("/api/v1/subsidies/rounds?programme=cn-appliance-2026").json()) == 1
    schedule(1, {"fridge": 3, "tv": 4})
    schedule(2, {})
    with django_assert_num_queries(len(one)):
        listing = public.get("/api/v1/subsidies/rounds?programme=cn-appliance-2026").json()
    assert [(r["name"], r["limits"], r["issued"]) for r in listing] == [
        ("第1批", {"fridge": 5}, {"fridge": 0}),
        ("第2批", {"fridge": 3, "tv": 4}, {"fridge": 0, "tv": 0}),
        ("第3批", {}, {}),
    ]


def _sold(scene, price_fen=400_000):
    from huanxin.subsidies import services

    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    return services.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial="SN-API-RET",
        price_fen=price_fen,
    ).redemption


def test_a_pos_previews_a_partial_return_then_records_it_once_under_its_key(scene):
    redemption = _sold(scene)
    client = api_client_for(scene.personas.clerk)
    base = f"/api/v1/subsidies/redemptions/{redemption.pk}/returns"
    preview = post(client, f"{base}/preview", {"kind": "partial", "new_price_fen": 300_000})
    assert preview.status_code == 200
    assert preview.json() == {
        "kind": "partial",
        "new_price_fen": 300_000,
        "new_subsidy_fen": 45_000,
        "refund_fen": 85_000,
        "clawback_fen": 15_000,
        "quota_released": False,
    }
    assert Clawback.objects.count() == 0
    body = {"kind": "partial", "new_price_fen": 300_000, "reason": "差价补偿"}
    first = post(client, base, body, HTTP_IDEMPOTENCY_KEY="ret-1")
    again = post(client, base, body, HTTP_IDEMPOTENCY_KEY="ret-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert (first.json()["refund_fen"], first.json()["reversed_fen"]) == (85_000, 15_000)
    assert Clawback.objects.get().amount_fen == 15_000


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"kind": "partial"}, "new_price_fen", "required"),
        ({"kind": "partial", "new_price_fen": 400_000}, "new_price_fen", "price_not_lower"),
        ({"kind": "partial", "new_price_fen": 0}, "new_price_fen", "invalid_price"),
        ({"kind": "everything"}, "kind", "invalid_choice"),
    ],
)
def test_bad_returns_are_refused_field_by_field_and_change_nothing(scene, body, field, code):
    redemption = _sold(scene)
    client = api_client_for(scene.personas.clerk)
    for path in ("returns/preview", "returns"):
        response = post(client, f"/api/v1/subsidies/redemptions/{redemption.pk}/{path}", {**body, "reason": "退货"})
        assert response.status_code == 422
        assert [(e["field"], e["code"]) for e in response.json()["errors"]][:1] == [(field, code)]
    assert Clawback.objects.count() == 0
    assert Redemption.objects.get(pk=redemption.pk).status == "completed"
    assert AuditEntry.objects.filter(action="subsidies.redemption.return").count() == 0


def test_a_returned_sale_cannot_be_returned_again_through_the_api(scene):
    redemption = _sold(scene)
    client = api_client_for(scene.personas.clerk)
    base = f"/api/v1/subsidies/redemptions/{redemption.pk}/returns"
    assert post(client, base, {"kind": "full", "reason": "退货"}).status_code == 201
    again = post(client, base, {"kind": "full", "reason": "退货"})
    assert (again.status_code, again.json()["code"]) == (409, "already_returned")
    assert Clawback.objects.count() == 1


def test_the_sales_list_takes_a_date_range_and_refuses_a_bad_one(scene):
    import datetime

    from django.utils import timezone

    redemption = _sold(scene)
    client = api_client_for(scene.personas.clerk)
    today = timezone.localdate()
    listed = client.get("/api/v1/subsidies/redemptions", {"start": today.isoformat(), "end": today.isoformat()})
    assert [r["id"] for r in listed.json()] == [redemption.pk]
    yesterday = (today - datetime.timedelta(days=1)).isoformat()
    assert client.get("/api/v1/subsidies/redemptions", {"end": yesterday}).json() == []
    bad = client.get("/api/v1/subsidies/redemptions", {"start": "2026-02-30"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "start"
    reversed_range = client.get("/api/v1/subsidies/redemptions", {"start": today.isoformat(), "end": yesterday})
    assert (reversed_range.status_code, reversed_range.json()["errors"][0]["code"]) == (422, "end_before_start")


def test_a_clerk_is_told_that_stores_and_enrolments_are_the_managers(scene):
    from huanxin.subsidies.models import Store

    clerk = api_client_for(scene.personas.clerk)
    stores, audit_rows = Store.objects.count(), AuditEntry.objects.count()
    response = post(
        clerk,
        "/api/v1/subsidies/stores",
        {
            "merchant_id": scene.personas.merchant.pk,
            "name": "朝阳三店",
            "address": "北京市朝阳区测试路3号",
            "district": "110105",
        },
    )
    assert response.status_code == 403
    assert response.json()["code"] == "manager_required"
    assert (Store.objects.count(), AuditEntry.objects.count()) == (stores, audit_rows)


def test_the_merchant_home_offers_the_statement_to_managers_only(scene):
    from huanxin.conftest import client_for

    link = "/merchant/statement/"
    assert link not in client_for(scene.personas.clerk).get("/merchant/").content.decode()
    assert link in client_for(scene.personas.manager).get("/merchant/").content.decode()
