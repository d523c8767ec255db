"""The certificate number, the five assemblies' rules and the GB/T 34014 battery code, without a database."""

import pytest

from huanxin.vehicles.domain.certificates import (
    AssemblyInput,
    BatteryCodeError,
    assemblies_problem,
    certificate_number,
    masked_vin,
    normalise_number,
    validate_battery_code,
)


def test_the_number_is_prefix_organisation_code_year_and_sequence():
    assert certificate_number(uscc="91110113MA01HX0E0P", year=2026, sequence=42) == "BFMA01HX0E02026000042"
    with pytest.raises(ValueError, match="sequence"):
        certificate_number(uscc="91110113MA01HX0E0P", year=2026, sequence=1_000_000)


def test_a_typed_number_is_normalised():
    assert normalise_number(" bfma01 hx0e0２０２６000042 ") == "BFMA01HX0E02026000042"


def test_the_public_vin_keeps_the_manufacturer_and_the_last_four():
    assert masked_vin("LSVAB23C5DM000101") == "LSV**********0101"


def test_five_distinct_assemblies_with_destinations_pass():
    items = [AssemblyInput(code, "smelting", "首钢") for code in ("frame", "engine", "axles", "gearbox", "steering")]
    assert assemblies_problem(items) is None


def test_an_empty_set_names_every_missing_assembly():
    problem = assemblies_problem([])
    assert problem is not None
    assert problem.code == "missing_assembly"
    assert "发动机、方向机、变速器、前后桥、车架" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03HPEA10000001P1B0000001", "03HPEA10000001P1B0000001"),
        ("03h pea1 0000001 p1b 0000001", "03HPEA10000001P1B0000001"),
        ("０３HPEA10000001P1B0000001", "03HPEA10000001P1B0000001"),
    ],
)
def test_a_battery_code_is_normalised(text, expected):
    assert validate_battery_code(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("03HPEA10000001P1B000001", "battery_code_length", "24 位"),
        ("03HPEA10000001P1B0000001X", "battery_code_length", "输入了 25 位"),
        ("03HPEA1000000_P1B0000001", "battery_code_characters", "第 14 位“_”"),
        ("03HPEA1000000中P1B0000001", "battery_code_characters", "第 14 位“中”"),
        ("03HZEA10000001P1B0000001", "battery_code_product_type", "第 4 位"),
        ("   ", "required", "请填写"),
    ],
)
def test_a_bad_battery_code_says_which_check_failed(text, code, says):
    with pytest.raises(BatteryCodeError) as caught:
        validate_battery_code(text)
    assert caught.value.code == code
    assert says in caught.value.message
