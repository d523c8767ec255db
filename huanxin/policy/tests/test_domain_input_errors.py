"""Malformed input is an InputError naming the field, never a refusal and never a traceback."""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import pytest

from huanxin.policy.domain import InputError, evaluate, load_catalogue
from huanxin.policy.domain.inputs import parse_date

RULES = load_catalogue()
VALID = {"category": "fridge", "price_fen": 400_000, "energy_grade": 1}
# The names in code of a field path (old_vehicle.registered_on → old_vehicle, registered_on).
CODE_NAME = re.compile(r"[a-z][a-z_0-9]*")


def error_for(code: str, payload: Any) -> InputError:
    """Evaluate a payload that must be refused as malformed and return the error."""
    with pytest.raises(InputError) as error:
        evaluate(RULES[code], payload)
    return error.value


@pytest.mark.parametrize(
    ("change", "error_code", "field"),
    [
        ({"category": None}, "required", "category"),
        ({"category": 7}, "invalid_type", "category"),
        ({"category": "toaster"}, "unknown_category", "category"),
        ({"price_fen": None}, "required", "price_fen"),
        ({"price_fen": "400000"}, "invalid_type", "price_fen"),
        ({"price_fen": 4000.0}, "invalid_type", "price_fen"),
        ({"price_fen": True}, "invalid_type", "price_fen"),
        ({"price_fen": -1}, "negative", "price_fen"),
        ({"price_fen": 0}, "invalid_value", "price_fen"),
        ({"energy_grade": 0}, "invalid_value", "energy_grade"),
        ({"energy_grade": 6}, "invalid_value", "energy_grade"),
        ({"energy_grade": True}, "invalid_type", "energy_grade"),
        ({"energy_grade": "1"}, "invalid_type", "energy_grade"),
        ({"water_grade": 1.0}, "invalid_type", "water_grade"),
        ({"purchased_on": "2025-02-30"}, "invalid_date", "purchased_on"),
        ({"purchased_on": "20250101"}, "invalid_date", "purchased_on"),
        ({"purchased_on": "2025-W01-1"}, "invalid_date", "purchased_on"),
        ({"purchased_on": "２０２５-01-01"}, "invalid_date", "purchased_on"),
        ({"purchased_on": 20250101}, "invalid_type", "purchased_on"),
        ({"history": "fridge"}, "invalid_type", "history"),
        ({"history": [None]}, "invalid_type", "history[0]"),
        (
            {"history": [{"programme": "cn-appliance-2025", "category": "tv"}, {"category": "tv"}]},
            "required",
            "history[1].programme",
        ),
        (
            {"history": [{"programme": "cn-appliance-2025", "category": 3}]},
            "invalid_type",
            "history[0].category",
        ),
        ({"other_region_categories": "fridge"}, "invalid_type", "other_region_categories"),
        ({"other_region_categories": ["tv", None]}, "invalid_type", "other_region_categories[1]"),
    ],
)
def test_malformed_consumer_goods_input_names_the_field(change: dict[str, Any], error_code: str, field: str) -> None:
    error = error_for("cn-appliance-2025", {**VALID, **change})

    assert (error.code, error.field) == (error_code, field)
    # The message is for people: the field in Chinese, never its name in code (that is what ``field`` is for).
    assert not [name for name in CODE_NAME.findall(error.field) if name in error.message], error.message


def test_missing_price_is_required() -> None:
    error = error_for("cn-appliance-2025", {"category": "fridge"})

    assert error.to_dict() == {"error": {"code": "required", "field": "price_fen", "message": "缺少必填字段：成交价"}}


def test_a_mistyped_price_is_named_in_chinese() -> None:
    error = error_for("cn-appliance-2025", {**VALID, "price_fen": "4000"})

    assert (error.field, error.message) == ("price_fen", "成交价应为以分为单位的整数")


@pytest.mark.parametrize("code", sorted(RULES))
@pytest.mark.parametrize("payload", [None, [], "fridge", 42])
def test_input_that_is_not_an_object_is_refused_for_every_programme(code: str, payload: Any) -> None:
    error = error_for(code, payload)

    assert (error.code, error.field) == ("invalid_type", "")


@pytest.mark.parametrize("code", sorted(RULES))
def test_empty_object_is_a_missing_field_for_every_programme(code: str) -> None:
    error = error_for(code, {})

    assert error.code == "required"
    assert error.field
    assert not [name for name in CODE_NAME.findall(error.field) if name in error.message], error.message


def test_any_mapping_is_accepted_as_input() -> None:
    assert evaluate(RULES["cn-appliance-2025"], OrderedDict(VALID)).amount_fen == 80_000


def test_unknown_extra_fields_are_ignored() -> None:
    assert evaluate(RULES["cn-appliance-2025"], {**VALID, "merchant": "京东"}).amount_fen == 80_000


def test_input_error_is_a_value_error_with_a_readable_text() -> None:
    error = InputError("invalid_date", "old_vehicle.registered_on", "不是有效日期")

    assert isinstance(error, ValueError)
    # The text is what a person is shown: the message alone, without the field's name in code.
    assert str(error) == "不是有效日期"
    assert "invalid_date" in repr(error)


@pytest.mark.parametrize("text", ["2024-02-29", "2000-02-29", "2025-12-31"])
def test_real_dates_parse(text: str) -> None:
    assert parse_date(text, "d").isoformat() == text


@pytest.mark.parametrize("text", ["2025-02-29", "1900-02-29", "2025-04-31", "2025-00-10", "2025-1-01", " 2025-01-01"])
def test_impossible_or_loose_dates_are_refused(text: str) -> None:
    with pytest.raises(InputError) as error:
        parse_date(text, "d")
    assert error.value.code == "invalid_date"
