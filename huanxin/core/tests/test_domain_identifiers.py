import pytest

from huanxin.core.domain.identifiers import (
    IdentifierError,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
    validate_vin,
    vin_check_digit,
)
from huanxin.core.domain.masking import mask_bank_account, mask_mobile, mask_name, mask_resident_id


def test_valid_resident_id_is_normalised_to_upper_case_x():
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "invalid_checksum"),
        ("1101051949123100", "invalid_length"),
        ("11010519491231002A", "invalid_format"),
        ("", "required"),
    ],
)
def test_invalid_resident_ids_are_refused_with_a_stable_code_and_chinese_message(value, code):
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(value)
    assert caught.value.code == code
    assert "身份证" in caught.value.message


def test_resident_id_with_an_impossible_birth_date_is_refused():
    # 1949-13-31 does not exist; the check digit is made valid so only the date is wrong.
    from stdnum.cn import ric

    body = "11010519491331002"
    value = next(body + d for d in "0123456789X" if ric.calc_check_digit(body) == d)
    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(value)
    assert caught.value.code in {"invalid_component", "invalid_checksum"}


def test_unified_social_credit_code_checksum():
    assert validate_uscc("91110000600037341l") == "91110000600037341L"
    with pytest.raises(IdentifierError) as caught:
        validate_uscc("91110000600037341M")
    assert caught.value.code == "invalid_checksum"
    assert "统一社会信用代码" in caught.value.message


@pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "11111111111111111", "JHMCM56557C404453", "1HGCM82633A004352"])
def test_valid_vins(vin):
    assert vin_check_digit(vin) == vin[8]
    assert validate_vin(vin.lower()) == vin


@pytest.mark.parametrize(
    ("vin", "code"),
    [
        ("1M8GDM9AXKP04278", "invalid_length"),
        ("1M8GDM9AXKP0427O8"[:17], "invalid_format"),
        ("1M8GDM9A1KP042788", "invalid_checksum"),
        ("IM8GDM9AXKP042788", "invalid_format"),
        ("1M8GDM9AXKP04278Q", "invalid_format"),
    ],
)
def test_invalid_vins_are_refused(vin, code):
    with pytest.raises(IdentifierError) as caught:
        validate_vin(vin)
    assert caught.value.code == code
    assert "VIN" in caught.value.message


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "+86 138-0013-8000",
        "008613800138000",
        "19912345678",
        "8613800138000",
        "86 138 0013 8000",
        "+86-13800138000",
        "0086 138 0013 8000",
        "１３８００１３８０００",
        "＋８６ １３８００１３８０００",
    ],
)
def test_valid_mobile_numbers_are_normalised(value):
    assert validate_mobile(value) in {"13800138000", "19912345678"}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("12800138000", "invalid_format"),
        ("1380013800", "invalid_length"),
        ("1380013800a", "invalid_format"),
        ("", "required"),
    ],
)
def test_invalid_mobile_numbers_are_refused(value, code):
    with pytest.raises(IdentifierError) as caught:
        validate_mobile(value)
    assert caught.value.code == code


def test_masks_show_only_what_a_person_needs_to_recognise_their_own():
    assert mask_resident_id("11010519491231002X") == "110105********002X"
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_bank_account("6222021234567890123") == "6222***********0123"
    assert mask_name("张三丰") == "张**"
    assert mask_name("张") == "张"


def _resident_id_born(birth: str) -> str:
    from stdnum.cn import ric

    body = f"110105{birth}123"
    return next(body + d for d in "0123456789X" if ric.is_valid(body + d))


@pytest.mark.parametrize("birth", ["18991231", "20261204", "20301231"])
def test_resident_id_born_before_1900_or_after_today_is_refused(birth):
    import datetime

    with pytest.raises(IdentifierError) as caught:
        validate_resident_id(_resident_id_born(birth), today=datetime.date(2026, 12, 3))
    assert caught.value.code == "invalid_birth_date"
    assert "出生日期" in caught.value.message


@pytest.mark.parametrize("birth", ["19000101", "20261203"])
def test_resident_id_born_on_the_limits_is_accepted(birth):
    import datetime

    value = _resident_id_born(birth)
    assert validate_resident_id(value, today=datetime.date(2026, 12, 3)) == value


def test_age_counts_full_years_and_the_birthday_itself():
    import datetime

    from huanxin.core.domain.identifiers import age_on

    born = datetime.date(2008, 12, 3)
    assert age_on(born, datetime.date(2026, 12, 2)) == 17
    assert age_on(born, datetime.date(2026, 12, 3)) == 18
    leap = datetime.date(2008, 2, 29)
    assert age_on(leap, datetime.date(2026, 2, 28)) == 17
    assert age_on(leap, datetime.date(2026, 3, 1)) == 18


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("王小明", "王小明"),
        ("欧阳", "欧阳"),
        (" 王 小明 ", "王小明"),
        ("买买提·艾力", "买买提·艾力"),
        ("买买提•艾力", "买买提·艾力"),
        ("阿卜杜热合曼・买买提", "阿卜杜热合曼·买买提"),
        ("𠮷野家", "𠮷野家"),
    ],
)
def test_plausible_names_are_accepted_and_middle_dots_normalised(value, expected):
    from huanxin.core.domain.identifiers import validate_resident_name

    assert validate_resident_name(value) == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "required"),
        ("王", "invalid_name_length"),
        ("王" * 21, "invalid_name_length"),
        ("张三李四王五赵六钱七孙八周九吴十郑冯陈褚卫", "invalid_name_length"),
        ("Zhang San", "invalid_name_characters"),
        ("张三3", "invalid_name_characters"),
        ("·买买提", "invalid_name_characters"),
        ("买买提·", "invalid_name_characters"),
        ("买买提··艾力", "invalid_name_characters"),
        ("张三<b>", "invalid_name_characters"),
    ],
)
def test_implausible_names_are_refused_with_a_stable_code(value, code):
    from huanxin.core.domain.identifiers import validate_resident_name

    with pytest.raises(IdentifierError) as caught:
        validate_resident_name(value)
    assert caught.value.code == code
    assert "姓名" in caught.value.message
