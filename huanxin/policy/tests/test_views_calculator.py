"""Programme pages: a calculator form per rule family, decided by the quote service, and the family's steps."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from huanxin.policy import services
from huanxin.policy.models import Programme, StoredDecision

pytestmark = pytest.mark.django_db

SCRAP = "/programmes/cn-car-scrap-2026/"
REPLACE = "/programmes/cn-car-replace-2026/"
APPLIANCE = "/programmes/cn-appliance-2026/"

ELIGIBLE_SCRAP = {
    "old_fuel": "gasoline",
    "old_registered_on": "2010-05-01",
    "old_owned_since": "2012-01-01",
    "new_energy": "nev",
    "new_price": "150,000",
    "new_in_nev_catalogue": "yes",
}


@pytest.fixture
def loaded(db):
    services.load_catalogue()
    Programme.objects.filter(code__in=["cn-appliance-2026", "cn-car-scrap-2026", "cn-car-replace-2026"]).update(
        status="open"
    )


def errors(html: str) -> dict[str, str]:
    """Field id → error code, as the shared field template renders them."""
    found = {}
    for block in re.findall(r'<div class="field[^"]*">.*?</div>', html, flags=re.DOTALL):
        name = re.search(r'for="id_(\w+)"', block)
        code = re.search(r'data-code="(\w+)"', block)
        if name and code:
            found[name.group(1)] = code.group(1)
    return found


def test_the_car_page_offers_a_car_form_and_car_steps_not_a_json_box(loaded):
    html = Client().get(SCRAP).content.decode()
    assert "<textarea" not in html
    assert "JSON" not in html
    for label in (
        "旧车燃料类型",
        "旧车注册登记日期",
        "旧车登记在本人名下的日期",
        "新车类型",
        "新车价格（元）",
        "新车排量（升）",
    ):
        assert label in html
    assert "报废机动车回收证明" in html
    assert "门店" not in html
    assert "旧家电" not in html
    assert "按新车价格 12% 补贴，最高 20,000 元" in html


def test_the_replacement_page_asks_only_what_its_rules_check_and_says_transfer(loaded):
    html = Client().get(REPLACE).content.decode()
    assert "旧车燃料类型" not in html
    assert "旧车注册登记日期" not in html
    assert "旧车登记在本人名下的日期" in html
    assert "转让" in html
    assert "报废机动车回收证明" not in html


def test_the_car_calculator_shows_the_decision_with_its_reasons(loaded):
    response = Client().post(SCRAP, ELIGIBLE_SCRAP)
    html = response.content.decode()
    assert response.status_code == 200
    assert "可补贴 ¥18,000.00" in html
    assert 'data-code="registration_date"' in html
    assert 'data-code="catalogue"' in html
    stored = StoredDecision.objects.get()
    assert (stored.source, stored.amount_fen) == ("web", 1_800_000)
    assert stored.input["new_vehicle"] == {"energy": "nev", "price_fen": 15_000_000, "in_nev_catalogue": True}


def test_a_nev_scrapped_for_a_fuel_car_is_refused_with_the_reason(loaded):
    data = {**ELIGIBLE_SCRAP, "old_fuel": "nev", "new_energy": "fuel", "new_displacement_l": "1.5"}
    data.pop("new_in_nev_catalogue")
    html = Client().post(SCRAP, data).content.decode()
    assert "不符合补贴条件" in html
    assert "报废新能源乘用车后购买燃油乘用车，不予补贴" in html


def test_the_car_calculator_validates_field_by_field_and_stores_nothing(loaded):
    response = Client().post(
        SCRAP,
        {
            "old_fuel": "coal",
            "old_registered_on": "2013-02-30",
            "new_energy": "fuel",
            "new_price": "abc",
            "new_displacement_l": "",
        },
    )
    assert response.status_code == 422
    assert errors(response.content.decode()) == {
        "old_fuel": "invalid_choice",
        "old_registered_on": "invalid",
        "old_owned_since": "required",
        "new_price": "invalid_amount",
        "new_displacement_l": "required",
    }
    assert StoredDecision.objects.count() == 0


def test_a_nev_needs_the_catalogue_answer(loaded):
    data = {**ELIGIBLE_SCRAP}
    data.pop("new_in_nev_catalogue")
    response = Client().post(SCRAP, data)
    assert response.status_code == 422
    assert errors(response.content.decode()) == {"new_in_nev_catalogue": "required"}


def test_the_one_car_subsidy_rule_is_asked_and_applied(loaded):
    html = Client().post(SCRAP, {**ELIGIBLE_SCRAP, "already_subsidised": "on"}).content.decode()
    assert "不符合补贴条件" in html
    assert "每人限一次" in html


def test_an_uncovered_category_on_the_page_is_a_decision_not_an_error(loaded):
    response = Client().post(APPLIANCE, {"category": "dishwasher", "price": "3000", "energy_grade": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "不符合补贴条件" in html
    assert 'data-code="category_not_covered"' in html
    assert "洗碗机不属于本政策补贴品类" in html
    assert StoredDecision.objects.get().eligible is False


def test_the_appliance_calculator_decides_a_covered_item(loaded):
    html = Client().post(APPLIANCE, {"category": "fridge", "price": "4,000", "energy_grade": "1"}).content.decode()
    assert "可补贴 ¥600.00" in html


def test_a_category_outside_the_table_is_a_field_error(loaded):
    response = Client().post(APPLIANCE, {"category": "toaster", "price": "4000"})
    assert response.status_code == 422
    assert errors(response.content.decode()) == {"category": "invalid_choice"}
    assert StoredDecision.objects.count() == 0


def test_every_rule_family_has_its_own_steps():
    from huanxin.policy import queries
    from huanxin.policy.domain.families import FAMILIES

    for family in FAMILIES:
        assert queries.how_to_apply(Programme(code="x", family=family)), family
    car = queries.how_to_apply(Programme(code="cn-car-scrap-2026", family="car"))
    appliance = queries.how_to_apply(Programme(code="cn-appliance-2026", family="consumer_goods"))
    assert not set(car) & set(appliance)


def test_calculator_messages_are_chinese_whatever_the_browser_asks_for(loaded):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").post(REPLACE, {"new_displacement_l": "999"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "请选择新车类型" in html
    assert "请填写新车价格（元）" in html
    assert "排量应大于 0 且不超过 10 升" in html
    assert "This field" not in html
    assert "Ensure" not in html


def test_the_ebike_calculator_decides_the_policy_example(loaded):
    Programme.objects.filter(code="bj-ebike-2025").update(status="closed")
    response = Client().post(
        "/programmes/bj-ebike-2025/",
        {
            "old_registered_on": "2020-05-01",
            "old_deregistered_on": "2025-02-01",
            "old_battery": "lithium",
            "old_battery_health_assessed": "on",
            "new_in_catalogue": "yes",
            "new_price": "2000",
            "new_registered_on": "2025-03-01",
            "new_battery": "lead_acid",
            "same_owner": "yes",
        },
    )
    assert "可补贴 ¥650.00" in response.content.decode()
    assert "门店" not in response.content.decode()
