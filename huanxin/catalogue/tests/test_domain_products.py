import re

import pytest

from huanxin.catalogue.domain.products import (
    ImportFileError,
    ProductKey,
    ProductRow,
    RowError,
    check_row,
    check_rows,
    map_header,
    normalise_brand,
    normalise_model_number,
    parse_grade,
    product_key,
)

COLUMNS = {
    "brand": 0,
    "model_number": 1,
    "category": 2,
    "energy_grade": 3,
    "water_grade": 4,
    "label_number": 5,
    "name": 6,
}


def row(brand="海尔", model="BCD-500", category="fridge", energy="1", water="", label="", name=""):
    return {
        "brand": brand,
        "model_number": model,
        "category": category,
        "energy_grade": energy,
        "water_grade": water,
        "label_number": label,
        "name": name,
    }


def test_the_natural_key_is_trimmed_collapsed_and_the_model_upper_cased():
    assert normalise_brand("  美的   Midea ") == "美的 Midea"
    assert normalise_model_number(" kfr-35gw /  n8 ") == "KFR-35GW / N8"
    # Full-width letters, digits and dashes typed with a Chinese input method are the same model.
    assert normalise_model_number("ＢＣＤ－５００") == "BCD-500"
    assert normalise_model_number("bcd\u3000500") == "BCD 500"
    assert product_key(" Haier ", "bcd-500") == ProductKey("Haier", "BCD-500")


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("1", 1),
        ("5", 5),
        ("2级", 2),
        ("一级", 1),
        ("三级能效", 3),
        ("1.0", 1),
        ("１", 1),
        ("", None),
        ("无", None),
        ("-", None),
    ],
)
def test_grades_are_one_to_five_or_blank(text, grade):
    assert parse_grade(text) == grade


@pytest.mark.parametrize("text", ["0", "6", "1.5", "A", "一级半", "12"])
def test_anything_else_is_not_a_grade(text):
    with pytest.raises(ValueError, match=re.escape(text)):
        parse_grade(text)


def test_a_good_row_becomes_a_normalised_product_row():
    result = check_row(
        2, row(brand=" 海尔 ", model="bcd-500wlhtd", category="冰箱", energy="1级", water="", name=" 冰箱  500升 ")
    )
    assert result == ProductRow(
        row_number=2,
        brand="海尔",
        model_number="BCD-500WLHTD",
        category="fridge",
        energy_grade=1,
        water_grade=None,
        label_number="",
        name="冰箱 500升",
    )


@pytest.mark.parametrize(
    ("values", "column", "code", "message"),
    [
        (row(brand=" "), "brand", "missing_brand", "品牌不能为空"),
        (row(model=""), "model_number", "missing_model_number", "型号不能为空"),
        (row(category=""), "category", "missing_category", "品类不能为空"),
        (
            row(category="汽车配件"),
            "category",
            "unknown_category",
            "品类“汽车配件”不在补贴品类目录中，请填写品类代码或中文名称",
        ),
        (row(energy="6"), "energy_grade", "invalid_energy_grade", "能效等级应为1至5级，没有则留空"),
        (row(water="0"), "water_grade", "invalid_water_grade", "水效等级应为1至5级，没有则留空"),
        (row(brand="品" * 61), "brand", "too_long", "品牌不能超过60个字符"),
        (row(model="M" * 61), "model_number", "too_long", "型号不能超过60个字符"),
        (row(label="L" * 41), "label_number", "too_long", "能效标识编号不能超过40个字符"),
        (row(name="名" * 121), "name", "too_long", "名称不能超过120个字符"),
    ],
)
def test_each_refusal_has_its_column_code_and_chinese_reason(values, column, code, message):
    result = check_row(7, values)
    assert isinstance(result, list)
    assert [(e.row, e.column, e.code, e.message) for e in result] == [(7, column, code, message)]


def test_a_row_with_several_problems_lists_them_all():
    result = check_row(3, row(brand="", category="toaster", energy="9"))
    assert [e.code for e in result] == ["missing_brand", "unknown_category", "invalid_energy_grade"]
    assert result[1].value == "toaster"
    assert result[2].value == "9"


def test_headers_in_chinese_or_english_in_any_order_and_unknown_columns_ignored():
    assert map_header(["备注", "型号", "品牌", "品类", "能效等级"]) == {
        "model_number": 1,
        "brand": 2,
        "category": 3,
        "energy_grade": 4,
    }
    assert map_header(["Brand", "MODEL", "Category", "Energy Grade", "water-grade", "label_number", "name"]) == COLUMNS
    assert map_header(["*品牌", "型号*", "品类"]) == {"brand": 0, "model_number": 1, "category": 2}


def test_a_header_without_the_required_columns_is_refused():
    with pytest.raises(ImportFileError) as caught:
        map_header(["品牌", "名称"])
    assert caught.value.code == "missing_columns"
    assert caught.value.message.startswith("表头缺少必需的列：型号、品类")


def test_a_header_naming_a_column_twice_is_refused():
    with pytest.raises(ImportFileError) as caught:
        map_header(["品牌", "型号", "model", "品类"])
    assert (caught.value.code, caught.value.message) == ("duplicate_column", "表头中“型号”列出现了不止一次")


def test_a_key_repeated_in_the_same_file_is_refused_after_its_first_row():
    rows = [
        (2, ["海尔", "BCD-500", "fridge", "1", "", "", ""]),
        (3, ["", "", "", "", "", "", ""]),
        (4, ["海尔", " bcd-500 ", "fridge", "2", "", "", ""]),
        (5, ["美的", "BCD-500", "fridge", "2", "", "", ""]),
    ]
    result = check_rows(rows, COLUMNS)
    assert [r.row_number for r in result.valid] == [2, 5]
    assert result.errors == [
        RowError(
            4,
            "model_number",
            "duplicate_in_file",
            "品牌和型号与第 2 行重复，同一文件中每个型号只能出现一次",
            "海尔 BCD-500",
        )
    ]
    assert (result.total_rows, result.refused_rows) == (3, 1)


def test_short_rows_are_padded_and_refused_rows_counted_once():
    result = check_rows([(2, ["海尔"]), (3, ["", "X1", "tv", "7"])], COLUMNS)
    assert result.valid == []
    assert [(e.row, e.code) for e in result.errors] == [
        (2, "missing_model_number"),
        (2, "missing_category"),
        (3, "missing_brand"),
        (3, "invalid_energy_grade"),
    ]
    assert (result.total_rows, result.refused_rows) == (2, 2)


def test_row_errors_round_trip_through_json():
    error = RowError(9, "category", "unknown_category", "品类未知", "toaster")
    assert RowError.from_dict(error.as_dict()) == error
    assert error.column_label == "品类"
