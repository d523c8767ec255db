"""The catalogue files: every programme of POLICY.md is present, cited, valid; bad files are refused."""

from __future__ import annotations

import contextlib
import re
import tomllib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from huanxin.policy.domain import CATALOGUE_DIR, CatalogueError, RuleSet, load_catalogue, load_rule_set

PROGRAMMES = {
    "cn-appliance-2024": "consumer_goods",
    "cn-appliance-2025": "consumer_goods",
    "cn-appliance-2026": "consumer_goods",
    "cn-digital-2025": "consumer_goods",
    "cn-digital-2026": "consumer_goods",
    "bj-smarthome-2025": "consumer_goods",
    "bj-ebike-2025": "ebike",
    "cn-car-scrap-2024": "car",
    "cn-car-scrap-2025": "car",
    "cn-car-scrap-2026": "car",
    "cn-car-replace-2026": "car",
    "bj-truck-2024": "truck",
    "weee-fund-2021": "dismantling_fund",
    "cn-renewal-loan-2024": "loan_interest",
    "cn-reverse-invoice-2024": "reverse_invoice",
}

# POLICY.md's category table.
CATEGORY_NAMES = {
    "fridge": "冰箱",
    "washer": "洗衣机",
    "tv": "电视",
    "ac": "空调",
    "computer": "电脑",
    "water_heater": "热水器",
    "gas_stove": "家用灶具",
    "range_hood": "吸油烟机",
    "water_purifier": "净水器",
    "dishwasher": "洗碗机",
    "rice_cooker": "电饭煲",
    "microwave": "微波炉",
    "phone": "手机",
    "tablet": "平板（含学习机）",
    "smartwatch": "智能手表/手环",
    "smart_glasses": "智能眼镜",
    "smart_toilet": "智能马桶",
    "smart_lock": "智能门锁",
    "robot_vacuum": "扫地机器人（含洗地机、扫拖一体机）",
    "food_waste_disposer": "厨余垃圾处理器",
}

CATALOGUE = load_catalogue()

MINIMAL = """
code = "xx-appliance-2030"
version = 3
name = "测试家电补贴"
family = "consumer_goods"
source = "测试文件（测〔2030〕1号）"
effective_from = 2030-01-01
description = "测试用。"

[rules]
rate_bp = 1000
cap_fen = 100000

[categories.fridge]
name = "冰箱"
"""


def test_every_programme_of_policy_has_exactly_one_catalogue_file() -> None:
    assert {code: rule_set.family for code, rule_set in CATALOGUE.items()} == PROGRAMMES
    assert sorted(path.stem for path in CATALOGUE_DIR.glob("*.toml")) == sorted(PROGRAMMES)


@pytest.mark.parametrize("code", sorted(PROGRAMMES))
def test_catalogue_file_cites_its_source_and_describes_itself_in_chinese(code: str) -> None:
    rule_set = CATALOGUE[code]

    assert rule_set.rule_version == f"{code}@{rule_set.version}"
    assert re.search(r"[\u4e00-\u9fff]", rule_set.name)
    assert re.search(r"[\u4e00-\u9fff]", rule_set.description)
    assert re.search(r"[\u4e00-\u9fff]", rule_set.source)
    assert isinstance(rule_set.effective_from, date)
    assert re.fullmatch(r"[0-9a-f]{64}", rule_set.digest)


@pytest.mark.parametrize(
    ("code", "cited"),
    [
        ("cn-appliance-2026", "发改环资〔2025〕1745号"),
        ("cn-digital-2025", "发改环资〔2025〕13号"),
        ("cn-car-scrap-2024", "商消费函〔2024〕75号"),
        ("cn-car-scrap-2024", "商消费函〔2024〕392号"),
        ("cn-car-scrap-2025", "商办消费函〔2025〕8号"),
        ("cn-car-scrap-2026", "2026年汽车以旧换新补贴实施细则"),
        ("weee-fund-2021", "财税〔2021〕10号"),
        ("cn-reverse-invoice-2024", "国家税务总局公告2024年第5号"),
    ],
)
def test_catalogue_cites_the_document_number_given_in_policy(code: str, cited: str) -> None:
    assert cited in CATALOGUE[code].source


def test_category_names_follow_the_policy_category_table() -> None:
    for rule_set in CATALOGUE.values():
        if rule_set.family != "consumer_goods":
            continue
        for category, name in rule_set.category_names.items():
            assert CATEGORY_NAMES[category] == name, (rule_set.code, category)


def test_digest_ignores_comments_and_layout_but_not_values() -> None:
    plain = load_rule_set(MINIMAL)
    commented = load_rule_set("# a comment\n" + MINIMAL.replace("rate_bp = 1000", "rate_bp   =   1000  # 10 %"))
    changed = load_rule_set(MINIMAL.replace("rate_bp = 1000", "rate_bp = 1001"))

    assert plain.digest == commented.digest
    assert plain.digest != changed.digest


def test_new_programme_of_a_known_family_needs_only_a_catalogue_file() -> None:
    rule_set = load_rule_set(MINIMAL)

    decision = rule_set.evaluate({"category": "fridge", "price_fen": 300_000})

    assert rule_set.rule_version == "xx-appliance-2030@3"
    assert decision.to_dict()["rule_version"] == "xx-appliance-2030@3"
    assert decision.amount_fen == 30_000


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("rate_bp = 1000", "rate_bp = 1000\ncap_fne = 5"), "unknown key"),
        (('family = "consumer_goods"', 'family = "lottery"'), "unknown family"),
        (('source = "测试文件（测〔2030〕1号）"\n', ""), "source"),
        (("version = 3", "version = 0"), "version"),
        (("version = 3", 'version = "3"'), "version"),
        (("effective_from = 2030-01-01", 'effective_from = "2030-01-01"'), "effective_from"),
        (("effective_from = 2030-01-01", "effective_from = 2030-01-01T08:00:00"), "effective_from"),
        (('code = "xx-appliance-2030"', 'code = "XX Appliance"'), "code"),
        (("cap_fen = 100000", "cap_fen = -1"), "cap_fen"),
        (("cap_fen = 100000", "cap_fen = true"), "cap_fen"),
        (("cap_fen = 100000", "cap_fen = 1000.5"), "cap_fen"),
        (('[categories.fridge]\nname = "冰箱"', ""), "categories"),
        (("rate_bp = 1000", "rate_bp = 1000\nbonus_rate_bp = 500"), "bonus"),
        (("rate_bp = 1000", "rate_bp = 1000\nrequired_grade = 6"), "grades run 1 to 5"),
        (("rate_bp = 1000", "rate_bp = 1000 ="), "not valid TOML"),
    ],
)
def test_invalid_catalogue_file_is_refused_with_a_value_error(change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in MINIMAL

    with pytest.raises(ValueError, match=message):
        load_rule_set(MINIMAL.replace(old, new))


def test_catalogue_error_is_a_value_error() -> None:
    assert issubclass(CatalogueError, ValueError)


def test_catalogue_file_must_be_named_after_its_code(tmp_path: Path) -> None:
    (tmp_path / "wrong-name.toml").write_text(MINIMAL, encoding="utf-8")

    with pytest.raises(ValueError, match="file name must be the programme code"):
        load_catalogue(tmp_path)


def test_catalogue_directory_loads_extra_programmes(tmp_path: Path) -> None:
    (tmp_path / "xx-appliance-2030.toml").write_text(MINIMAL, encoding="utf-8")

    assert list(load_catalogue(tmp_path)) == ["xx-appliance-2030"]


def test_car_catalogue_needs_a_cut_off_for_every_fuel() -> None:
    text = (CATALOGUE_DIR / "cn-car-scrap-2024.toml").read_text(encoding="utf-8")

    with pytest.raises(ValueError, match="each fuel"):
        load_rule_set(text.replace(", nev = 2018-04-30", ""))


def test_e_bike_bonus_condition_must_name_a_contract_field() -> None:
    text = (CATALOGUE_DIR / "bj-ebike-2025.toml").read_text(encoding="utf-8")

    with pytest.raises(ValueError, match="unknown input field"):
        load_rule_set(text.replace('"old_bike.battery_health_assessed"', '"old_bike.colour"'))


def test_rule_set_repr_names_code_version_and_digest() -> None:
    rule_set: RuleSet = CATALOGUE["cn-appliance-2025"]

    assert repr(rule_set).startswith("RuleSet('cn-appliance-2025@1', family='consumer_goods', digest='")


def _locations(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every location inside a parsed TOML document, as a path of keys and indexes."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _locations(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _locations(child, (*prefix, index))
    return found


def _replaced(value: object, path: tuple[object, ...], new: object) -> object:
    """A copy of a parsed document with one location replaced."""
    if not path:
        return new
    head, *rest = path
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], tuple(rest), new)}
    assert isinstance(value, list)
    assert isinstance(head, int)
    return [_replaced(child, tuple(rest), new) if index == head else child for index, child in enumerate(value)]


toml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=10**7)
    | st.floats(allow_nan=False)
    | st.dates()
    | st.sampled_from(["nev", "fuel", "guo4", "lithium", "tv", "", "2025-01-01"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["name", "x"]), children, max_size=2)
    ),
    max_leaves=4,
)


@settings(max_examples=300)
@given(st.sampled_from(sorted(PROGRAMMES)), st.data())
def test_any_corrupted_catalogue_value_is_refused_with_a_value_error_or_still_loads(
    code: str, data: st.DataObject
) -> None:
    document = tomllib.loads((CATALOGUE_DIR / f"{code}.toml").read_text(encoding="utf-8"))
    path = data.draw(st.sampled_from(_locations(document)))
    corrupted = _replaced(document, path, data.draw(toml_values))
    assert isinstance(corrupted, dict)

    with contextlib.suppress(ValueError):  # refused cleanly; anything else (TypeError, KeyError) fails
        RuleSet(corrupted)
