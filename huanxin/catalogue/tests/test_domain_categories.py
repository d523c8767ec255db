import pytest

from huanxin.catalogue.domain.categories import CATEGORIES, category_name, category_short_name, resolve_category


def test_the_category_table_is_policy_md_s_twenty_two_codes():
    assert set(CATEGORIES) == {
        "fridge", "washer", "tv", "ac", "computer", "water_heater", "gas_stove", "range_hood", "water_purifier",
        "dishwasher", "rice_cooker", "phone", "tablet", "smartwatch", "smart_glasses", "smart_toilet", "smart_lock",
        "robot_vacuum", "food_waste_disposer", "ebike", "car", "microwave",
    }  # fmt: skip
    assert CATEGORIES["robot_vacuum"] == "扫地机器人（含洗地机、扫拖一体机）"
    assert CATEGORIES["tablet"] == "平板（含学习机）"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("fridge", "fridge"),
        ("FRIDGE", "fridge"),
        (" ac ", "ac"),
        ("冰箱", "fridge"),
        ("平板（含学习机）", "tablet"),
        ("平板(含学习机)", "tablet"),
        ("平板", "tablet"),
        ("智能手表/手环", "smartwatch"),
        ("手环", "smartwatch"),
        ("扫地机器人", "robot_vacuum"),
        ("家用 灶具", "gas_stove"),
    ],
)
def test_a_category_may_be_typed_as_code_or_chinese_name(typed, code):
    assert resolve_category(typed) == code


@pytest.mark.parametrize("typed", ["", "fridges", "电冰箱柜", "汽车配件", "smart glasses"])
def test_an_unknown_category_resolves_to_none(typed):
    assert resolve_category(typed) is None


def test_category_name_falls_back_to_the_code():
    assert category_name("dishwasher") == "洗碗机"
    assert category_name("retired_code") == "retired_code"


def test_the_short_name_drops_the_note_in_brackets():
    assert category_short_name("robot_vacuum") == "扫地机器人"
    assert category_short_name("smartwatch") == "智能手表/手环"
