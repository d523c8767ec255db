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
