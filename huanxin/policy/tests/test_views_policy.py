import pytest
from django.test import Client

from huanxin.conftest import client_for
from huanxin.policy import services
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.models import Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(db):
    services.load_catalogue()
    Programme.objects.filter(code__in=["cn-appliance-2026", "cn-car-scrap-2026"]).update(status="open")


def test_public_programme_page_explains_and_offers_the_calculator(loaded):
    html = Client().get("/programmes/cn-appliance-2026/").content.decode()
    assert "补贴什么、补多少" in html
    assert "谁可以申请、怎么申请" in html
    assert "¥1,500.00" in html
    assert 'id="calculator"' in html
    assert "policy/calculator" in html


def test_draft_programmes_are_not_public(loaded):
    assert Client().get("/programmes/cn-appliance-2025/").status_code == 404


def test_programme_list_page(loaded):
    html = Client().get("/programmes/").content.decode()
    assert "2026年家电以旧换新补贴" in html


def test_staff_pages_are_for_government_staff_only(loaded, personas):
    assert client_for(personas.clerk).get("/policy/programmes/").status_code == 403
    html = client_for(personas.reviewer).get("/policy/programmes/").content.decode()
    assert "cn-appliance-2026" in html


def test_budget_form_shows_field_errors(loaded, personas):
    response = client_for(personas.finance).post(
        "/policy/programmes/cn-appliance-2026/budget/", {"total": "100", "d_110105": "30"}
    )
    assert response.status_code == 422
    assert "与总预算" in response.content.decode()


def test_the_preparer_sees_no_approve_button_but_a_colleague_does(loaded, personas):
    text = (
        (CATALOGUE_DIR / "cn-appliance-2026.toml").read_text(encoding="utf-8").replace("version = 1", "version = 2", 1)
    )
    text = text.replace("cap_fen = 150000", "cap_fen = 100000", 1)
    services.prepare_rule_set(
        actor=personas.reviewer, programme=Programme.objects.get(code="cn-appliance-2026"), content=text
    )
    own = client_for(personas.reviewer).get("/policy/programmes/cn-appliance-2026/versions/2/").content.decode()
    other = client_for(personas.admin).get("/policy/programmes/cn-appliance-2026/versions/2/").content.decode()
    assert "审批发布" not in own
    assert "须由另一名审核人员审批" in own
    assert "审批发布" in other
    assert "cap_fen = 100000" in other
    response = client_for(personas.admin).post(
        "/policy/programmes/cn-appliance-2026/versions/2/", {"decision": "approve"}
    )
    assert response.status_code == 302
    assert services.published_version("cn-appliance-2026").version == 2


def test_measures_page_shows_all_areas(loaded):
    html = Client().get("/measures/").content.decode()
    assert html.count("policy/measures/") == 0
    for area in ["基础设施领域", "消费品以旧换新领域", "循环利用领域", "保障措施"]:
        assert area in html
    assert "开展绿色智能家电以旧换新" in html
