import datetime

import pytest
from django.db.models import F
from django.test import Client

from huanxin.accounts.models import District
from huanxin.conftest import client_for
from huanxin.policy import services
from huanxin.policy.domain import CATALOGUE_DIR
from huanxin.policy.models import BudgetPool, Programme, ResponsibleUnit, RuleSetVersion

pytestmark = pytest.mark.django_db

# The user and their role grants, the programmes and one grouped budget query: none per programme.
STAFF_LIST_QUERIES = 4


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
    assert 'name="price"' in html


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


def add_programmes(count):
    """Open programmes with a published version and a budget pool, to show a page's cost does not grow."""
    text = (CATALOGUE_DIR / "cn-appliance-2026.toml").read_text(encoding="utf-8")
    district = District.objects.order_by("code")[0]
    for number in range(count):
        code = f"extra-{number}"
        programme = Programme.objects.create(
            code=code, name=f"附加项目{number}", family="consumer_goods", status="open"
        )
        RuleSetVersion.objects.create(
            programme=programme,
            version=1,
            digest=f"digest-{number}",
            content=text.replace('code = "cn-appliance-2026"', f'code = "{code}"', 1),
            source="测试",
            effective_from=datetime.date(2025, 1, 1),
            status=RuleSetVersion.Status.PUBLISHED,
        )
        BudgetPool.objects.create(programme=programme, district=district, allocated_fen=100, available_fen=100)


def test_staff_programme_list_sums_each_programmes_pools(loaded, personas):
    programme = Programme.objects.get(code="cn-appliance-2026")
    services.set_budget(
        actor=personas.finance, programme=programme, total_fen=100_000, allocations={"110105": 40_000, "110108": 60_000}
    )
    pool = BudgetPool.objects.filter(programme=programme, district_id="110105").order_by("slice").first()
    BudgetPool.objects.filter(pk=pool.pk).update(
        available_fen=F("available_fen") - 3_000, held_fen=1_000, spent_fen=2_000
    )
    listing = client_for(personas.reviewer).get("/policy/programmes/").content.decode()
    row = listing[listing.index("cn-appliance-2026") :].split("</tr>", 1)[0]
    assert '<td class="num">¥1,000.00</td><td class="num">¥10.00</td><td class="num">¥20.00</td>' in row
    assert '<td class="num">¥970.00</td>' in row
    page = client_for(personas.reviewer).get("/policy/programmes/cn-appliance-2026/").content.decode()
    assert "<span>已冻结</span><b>¥10.00</b>" in page
    assert "<span>已使用</span><b>¥20.00</b>" in page
    assert "<span>可用</span><b>¥970.00</b>" in page


def test_a_programme_without_pools_shows_zero_totals(loaded, personas):
    page = client_for(personas.reviewer).get("/policy/programmes/cn-appliance-2026/").content.decode()
    assert "<span>已冻结</span><b>¥0.00</b>" in page
    assert "<span>可用</span><b>¥0.00</b>" in page


@pytest.mark.parametrize("extra", [0, 4])
def test_staff_programme_list_costs_the_same_queries_however_many_programmes(
    loaded, personas, extra, django_assert_num_queries
):
    add_programmes(extra)
    client = client_for(personas.reviewer)
    with django_assert_num_queries(STAFF_LIST_QUERIES):
        response = client.get("/policy/programmes/")
    assert response.content.decode().count("附加项目") == extra


def test_a_unit_member_reports_on_the_measure_page(loaded, personas):
    ResponsibleUnit.objects.filter(short_name="市商务局").update(organisation=personas.government)
    page = client_for(personas.reviewer).get("/measures/16/").content.decode()
    assert "<h2>填报进展</h2>" in page
    assert '<option value="市商务局"' in page
    # A measure the unit does not answer for offers no form.
    assert "<h2>填报进展</h2>" not in client_for(personas.reviewer).get("/measures/1/").content.decode()
    assert client_for(personas.clerk).post("/measures/16/", {"unit": "市商务局"}).status_code == 403


def test_a_member_of_a_supporting_unit_also_reports(loaded, personas):
    ResponsibleUnit.objects.filter(short_name="市财政局").update(organisation=personas.government)
    page = client_for(personas.reviewer).get("/measures/1/").content.decode()
    assert '<option value="市财政局"' in page
