"""VIN validation (GB 16735 / ISO 3779): each failed check has its own code."""

import pytest

from huanxin.vehicles.domain.vin import (
    VIN_CHARACTERS_WRONG,
    VIN_CHECK_DIGIT_WRONG,
    VIN_LENGTH_WRONG,
    VIN_REQUIRED,
    VinError,
    validate_vin,
    vin_check_digit,
)
from huanxin.vehicles.tests.factories import vin_with_check_digit

# Real-world shapes with correct check digits: the ISO 3779 textbook example (check digit X), and VINs of the
# form Chinese manufacturers use (LSV SAIC-Volkswagen, LFV FAW-Volkswagen, LGB Dongfeng Nissan, LRW Tesla
# Shanghai), their check digits computed by hand from the GB 16735 weights.
VALID = [
    "1M8GDM9AXKP042788",
    "LSVAU033612345678",
    "LFV2A21K8A3000001",
    "WBA3A5C53CF256551",
]


@pytest.mark.parametrize("vin", VALID)
def test_valid_vins_are_accepted_as_they_are(vin):
    assert validate_vin(vin) == vin


def test_the_check_digit_of_the_iso_example_is_x():
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


def test_lower_case_spaces_and_dashes_are_normalised():
    assert validate_vin(" lfv2a21k8-a3000001 ") == "LFV2A21K8A3000001"


@pytest.mark.parametrize("vin", ["", "   ", "-"])
def test_an_empty_vin_is_required(vin):
    with pytest.raises(VinError) as caught:
        validate_vin(vin)
    assert caught.value.code == VIN_REQUIRED


@pytest.mark.parametrize("vin", ["LFV2A21K8A300000", "LFV2A21K8A30000011", "L"])
def test_a_vin_not_of_17_characters_fails_the_length_check(vin):
    with pytest.raises(VinError) as caught:
        validate_vin(vin)
    assert caught.value.code == VIN_LENGTH_WRONG
    assert caught.value.message == "车辆识别代号（VIN）应为17位"


@pytest.mark.parametrize("letter", ["I", "O", "Q"])
def test_i_o_and_q_fail_the_character_check(letter):
    vin = "LFV2A21K8A300000" + letter
    with pytest.raises(VinError) as caught:
        validate_vin(vin)
    assert caught.value.code == VIN_CHARACTERS_WRONG
    assert "I、O、Q" in caught.value.message


@pytest.mark.parametrize("vin", ["LFV2A21K8A30000*1", "LFV2A21K8A3000０01", "LFV2A21K8A30000_1", "LFV2A21K8A30000汉1"])
def test_other_characters_fail_the_character_check(vin):
    with pytest.raises(VinError) as caught:
        validate_vin(vin)
    assert caught.value.code == VIN_CHARACTERS_WRONG


def test_every_wrong_check_digit_fails_the_check_digit_check():
    good = "LFV2A21K8A3000001"
    for digit in "0123456789X":
        if digit == good[8]:
            continue
        with pytest.raises(VinError) as caught:
            validate_vin(good[:8] + digit + good[9:])
        assert caught.value.code == VIN_CHECK_DIGIT_WRONG
        assert caught.value.message == "车辆识别代号（VIN）第9位校验位不正确"


def test_a_single_mistyped_character_is_caught_by_the_check_digit():
    good = "LFV2A21K8A3000001"
    for position in (0, 3, 7, 9, 16):  # position 9 (index 8) is the check digit itself; index 8 has weight 0
        replacement = "7" if good[position] != "7" else "8"
        mistyped = good[:position] + replacement + good[position + 1 :]
        with pytest.raises(VinError) as caught:
            validate_vin(mistyped)
        assert caught.value.code == VIN_CHECK_DIGIT_WRONG


def test_the_factory_makes_valid_vins():
    assert validate_vin(vin_with_check_digit("LRW3E7EA" + "NC123456")) == vin_with_check_digit("LRW3E7EANC123456")
