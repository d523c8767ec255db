import json

import pytest
from django.test import Client

from huanxin.conftest import api_client_for
from huanxin.policy import services
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.models import BudgetPool, Programme, ResponsibleUnit, StoredDecision
from huanxin.policy.tests.test_views_policy import add_programmes

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    services.load_catalogue()
    Programme.objects.filter(code="cn-appliance-2026").update(status="open")
    return Programme.objects.get(code="cn-appliance-2026")


def quote(code, body):
    return Client().post(
        f"/api/v1/programmes/{code}/quote",
        data=body if isinstance(body, str) else json.dumps(body),
        content_type="application/json",
    )


def test_quote_api_answers_the_contract_and_stores_the_decision(loaded):
    response = quote(
        "cn-car-scrap-2024",
        {
            "old_vehicle": {"fuel": "gasoline", "registered_on": "2009-05-01", "owned_since": "2009-05-01"},
            "new_vehicle": {"energy": "nev", "displacement_l": None, "price_fen": 15_000_000, "in_nev_catalogue": True},
            "applied_on": "2024-10-01",
            "history": [],
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"programme", "rule_version", "eligible", "amount_fen", "details", "reasons"}
    assert (body["eligible"], body["amount_fen"]) == (True, 2_000_000)
    stored = StoredDecision.objects.get()
    assert (stored.rule_version, stored.amount_fen, stored.source) == ("cn-car-scrap-2024@1", 2_000_000, "api")


@pytest.mark.parametrize(
    ("code", "body", "status", "error_code", "field"),
    [
        (
            "cn-appliance-2026",
            {"category": "fridge", "price_fen": "4000", "energy_grade": 1, "water_grade": None},
            422,
            "invalid_type",
            "price_fen",
        ),
        ("cn-appliance-2026", "{oops", 422, "invalid_json", "input"),
        ("nope", {}, 404, "unknown_programme", "programme"),
    ],
)
def test_quote_api_malformed_input_has_the_contract_error_and_problem_details(
    loaded, code, body, status, error_code, field
):
    response = quote(code, body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["error"]["code"] == error_code
    assert response.json()["error"]["field"] == field
    assert response.json()["code"] == error_code
    assert StoredDecision.objects.count() == 0


def test_quote_api_answers_an_uncovered_category_with_an_ineligible_decision(loaded):
    response = quote("cn-appliance-2026", {"category": "dishwasher", "price_fen": 300000, "energy_grade": 1})
    assert response.status_code == 200
    body = response.json()
    assert (body["eligible"], body["amount_fen"]) == (False, 0)
    assert [r["code"] for r in body["reasons"]] == ["category_not_covered"]
    assert StoredDecision.objects.get().eligible is False


def test_quote_api_keeps_the_error_for_a_code_outside_the_category_table(loaded):
    response = quote("cn-appliance-2026", {"category": "toaster", "price_fen": 300000})
    assert response.status_code == 422
    assert response.json()["error"] == {
        "code": "unknown_category",
        "field": "category",
        "message": response.json()["error"]["message"],
    }
    assert StoredDecision.objects.count() == 0


def test_public_programme_list_excludes_drafts(loaded):
    codes = [p["code"] for p in Client().get("/api/v1/programmes").json()]
    assert codes == ["cn-appliance-2026"]
    detail = Client().get("/api/v1/programmes/cn-appliance-2026").json()
    assert detail["categories"]["fridge"] == "冰箱"
    assert detail["rule_version"] == "cn-appliance-2026@1"
    assert Client().get("/api/v1/programmes/cn-appliance-2024").status_code == 404


def test_budget_api_for_finance_only(loaded, personas):
    body = json.dumps({"total_fen": 1000, "allocations": {"110105": 400, "110108": 600}})
    refused = api_client_for(personas.clerk).put(
        "/api/v1/programmes/cn-appliance-2026/budget", data=body, content_type="application/json"
    )
    assert refused.status_code == 403
    assert BudgetPool.objects.count() == 0
    response = api_client_for(personas.finance).put(
        "/api/v1/programmes/cn-appliance-2026/budget", data=body, content_type="application/json"
    )
    assert response.status_code == 200
    assert {p["district"]: p["available_fen"] for p in response.json()["pools"]} == {"110105": 400, "110108": 600}


def test_rule_set_maker_checker_through_the_api(loaded, personas):
    text = (
        (CATALOGUE_DIR / "cn-appliance-2026.toml").read_text(encoding="utf-8").replace("version = 1", "version = 2", 1)
    )
    text = text.replace("# ", "#  ", 1)
    maker = api_client_for(personas.reviewer)
    created = maker.post(
        "/api/v1/programmes/cn-appliance-2026/rule-sets",
        data=json.dumps({"content": text}),
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["status"] == "pending"
    own = maker.post(
        "/api/v1/programmes/cn-appliance-2026/rule-sets/2/approve", data="{}", content_type="application/json"
    )
    assert own.status_code == 403
    assert own.json()["code"] == "four_eyes"
    checker = api_client_for(personas.admin)
    preview = checker.get("/api/v1/programmes/cn-appliance-2026/rule-sets/2/preview")
    assert preview.status_code == 200
    approved = checker.post(
        "/api/v1/programmes/cn-appliance-2026/rule-sets/2/approve", data="{}", content_type="application/json"
    )
    assert approved.json()["status"] == "published"


def test_measures_are_public_and_reports_need_the_unit(loaded, personas):
    measures = Client().get("/api/v1/measures").json()
    assert len(measures) == 23
    assert measures[15]["lead_unit"] == "市商务局"
    ResponsibleUnit.objects.filter(short_name="市商务局").update(organisation=personas.government)
    body = json.dumps({"unit": "市商务局", "period": "2026-10", "narrative": "本月进展顺利，已按时完成清算。"})
    assert (
        api_client_for(personas.clerk)
        .post("/api/v1/measures/16/reports", data=body, content_type="application/json")
        .status_code
        == 403
    )
    response = api_client_for(personas.reviewer).post(
        "/api/v1/measures/16/reports", data=body, content_type="application/json"
    )
    assert response.status_code == 201


@pytest.mark.parametrize("extra", [0, 4])
def test_programme_list_api_costs_the_same_queries_however_many_programmes(loaded, extra, django_assert_num_queries):
    add_programmes(extra)
    # The programmes, then their published versions (with the programme, for the label) in one query.
    with django_assert_num_queries(2):
        response = Client().get("/api/v1/programmes")
    listed = {p["code"]: p["rule_version"] for p in response.json()}
    assert listed == {
        "cn-appliance-2026": "cn-appliance-2026@1",
        **{f"extra-{n}": f"extra-{n}@1" for n in range(extra)},
    }


def test_programme_api_states_the_published_versions_terms_and_description(loaded, personas):
    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member

    text = (CATALOGUE_DIR / "cn-appliance-2026.toml").read_text(encoding="utf-8")
    text = text.replace("version = 1", "version = 2", 1).replace("cap_fen = 150000", "cap_fen = 100000", 1)
    text = text.replace("每件不超过1500元", "每件不超过1000元", 1)
    version = services.prepare_rule_set(actor=personas.reviewer, programme=loaded, content=text)
    services.decide_rule_set(actor=make_member(Role.REVIEWER, personas.government), version=version, approve=True)
    body = Client().get("/api/v1/programmes/cn-appliance-2026").json()
    assert body["rule_version"] == "cn-appliance-2026@2"
    assert "每件不超过1000元" in body["description"]
    assert body["terms"] == [
        {
            "subject": "冰箱、洗衣机、电视、空调、电脑、热水器",
            "text": "一级能效或水效产品，按成交价 15% 补贴，每件最高 1,000 元，每人每类限 1 件",
        }
    ]
