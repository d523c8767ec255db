"""Mandatory scrapping rules (机动车强制报废标准规定, 商务部等4部门令2012年第12号), without a database."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from huanxin.vehicles.domain import VEHICLE_TYPES, ScrapInputError, check_scrapping, full_years_between

# Every row of POLICY.md "Mandatory vehicle scrapping": type → (service life in years, guide mileage in km).
EXPECTED_LIMITS: dict[str, tuple[int | None, int | None]] = {
    "taxi_small": (8, 600_000),
    "taxi_medium": (10, 500_000),
    "taxi_large": (12, 600_000),
    "rental_passenger": (15, 600_000),
    "training_small": (10, 500_000),
    "training_medium": (12, 500_000),
    "training_large": (15, 600_000),
    "public_bus": (13, 400_000),
    "operating_small": (10, 600_000),
    "operating_medium": (15, 500_000),
    "operating_large": (15, 800_000),
    "school_bus": (15, 400_000),
    "private_small": (None, 600_000),
    "private_medium": (20, 500_000),
    "private_large": (20, 600_000),
    "truck_micro": (12, 500_000),
    "truck_light_medium": (15, 600_000),
    "truck_heavy": (15, 700_000),
    "truck_hazardous": (10, 400_000),
    "three_wheeled": (9, None),
    "low_speed_single": (9, None),
    "low_speed_multi": (12, 300_000),
    "special_cargo": (15, 500_000),
    "special_no_cargo": (30, 500_000),
    "semi_trailer_container": (20, None),
    "semi_trailer_hazardous": (10, None),
    "semi_trailer_other": (15, None),
    "full_trailer": (10, None),
    "motorcycle_three": (12, 100_000),
    "motorcycle_other": (13, 120_000),
    "wheeled_machinery": (None, 500_000),
}


def make_payload(**overrides: object) -> dict[str, Any]:
    """Build the input of a roadworthy small taxi registered 2016-05-01, checked 2020-01-15 (3 years old)."""
    payload: dict[str, Any] = {
        "vehicle_type": "taxi_small",
        "registered_on": "2016-05-01",
        "as_of": "2020-01-15",
        "mileage_km": 100_000,
        "missed_inspection_cycles": 0,
        "passes_safety": True,
        "passes_emission": True,
    }
    payload.update(overrides)
    return payload


def reason(result: dict[str, Any], code: str) -> dict[str, Any]:
    """Return the reason with ``code`` in a decision."""
    matches: list[dict[str, Any]] = [item for item in result["reasons"] if item["code"] == code]
    assert len(matches) == 1
    return matches[0]


def expect_error(payload: object, code: str, field: str) -> ScrapInputError:
    """Run the check on malformed input and assert the error's code and field."""
    with pytest.raises(ScrapInputError) as caught:
        check_scrapping(payload)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.field == field
    assert caught.value.message
    return caught.value


# --- The table -------------------------------------------------------------------------------------------


def test_table_covers_exactly_the_policy_vehicle_types() -> None:
    assert set(VEHICLE_TYPES) == set(EXPECTED_LIMITS)


@pytest.mark.parametrize(("vehicle_type", "expected"), sorted(EXPECTED_LIMITS.items()))
def test_each_type_reports_its_service_life_and_guide_mileage_in_km(
    vehicle_type: str, expected: tuple[int | None, int | None]
) -> None:
    result = check_scrapping(make_payload(vehicle_type=vehicle_type, mileage_km=0))

    assert (result["service_life_years"], result["guide_mileage_km"]) == expected


@pytest.mark.parametrize(
    ("vehicle_type", "registered_on", "as_of", "must_scrap"),
    [
        ("taxi_small", "2012-03-10", "2020-03-10", True),  # 8 years
        ("taxi_small", "2012-03-10", "2020-03-09", False),
        ("public_bus", "2010-07-01", "2023-07-01", True),  # 13 years
        ("public_bus", "2010-07-01", "2023-06-30", False),
        ("school_bus", "2005-09-01", "2020-09-01", True),  # 15 years
        ("truck_hazardous", "2014-01-20", "2024-01-20", True),  # 10 years
        ("truck_hazardous", "2014-01-20", "2024-01-19", False),
        ("three_wheeled", "2015-06-06", "2024-06-06", True),  # 9 years
        ("low_speed_multi", "2012-06-06", "2024-06-05", False),  # 12 years, one day short
        ("special_no_cargo", "1994-02-01", "2024-02-01", True),  # 30 years
        ("special_no_cargo", "1994-02-01", "2024-01-31", False),
        ("semi_trailer_container", "2004-05-05", "2024-05-05", True),  # 20 years
        ("full_trailer", "2014-05-05", "2024-05-04", False),  # 10 years, one day short
        ("motorcycle_three", "2012-08-08", "2024-08-08", True),  # 12 years
        ("motorcycle_other", "2011-08-08", "2024-08-07", False),  # 13 years, one day short
        ("private_medium", "2004-04-04", "2024-04-04", True),  # 20 years
    ],
)
def test_service_life_spot_checks(vehicle_type: str, registered_on: str, as_of: str, must_scrap: bool) -> None:
    result = check_scrapping(
        make_payload(vehicle_type=vehicle_type, registered_on=registered_on, as_of=as_of, mileage_km=0)
    )

    assert result["must_scrap"] is must_scrap
    assert reason(result, "service_life")["passed"] is not must_scrap


# --- Service life ----------------------------------------------------------------------------------------


def test_reaching_the_anniversary_day_forces_scrapping() -> None:
    result = check_scrapping(make_payload(registered_on="2016-05-01", as_of="2024-05-01"))

    assert result["must_scrap"] is True
    service_life = reason(result, "service_life")
    assert service_life["passed"] is False
    assert "8年" in service_life["message"]


def test_the_day_before_the_anniversary_does_not_force_scrapping() -> None:
    result = check_scrapping(make_payload(registered_on="2016-05-01", as_of="2024-04-30"))

    assert result["must_scrap"] is False
    assert reason(result, "service_life")["passed"] is True
    assert all(item["passed"] for item in result["reasons"])


def test_registration_on_29_february_reaches_its_anniversary_on_1_march_of_a_common_year() -> None:
    on_28_february = check_scrapping(make_payload(registered_on="2016-02-29", as_of="2024-02-28"))
    on_29_february = check_scrapping(make_payload(registered_on="2016-02-29", as_of="2024-02-29"))
    common_year = check_scrapping(make_payload(vehicle_type="taxi_medium", registered_on="2012-02-29"))

    assert on_28_february["must_scrap"] is False
    assert on_29_february["must_scrap"] is True
    assert full_years_between(datetime.date(2012, 2, 29), datetime.date(2022, 2, 28)) == 9
    assert full_years_between(datetime.date(2012, 2, 29), datetime.date(2022, 3, 1)) == 10
    assert common_year["must_scrap"] is False  # 7 full years on 2020-01-15


def test_registration_and_check_on_the_same_day_is_zero_years_old() -> None:
    result = check_scrapping(make_payload(registered_on="2024-01-01", as_of="2024-01-01"))

    assert result["must_scrap"] is False
    assert "已使用0年" in reason(result, "service_life")["message"]


def test_private_small_car_has_no_service_life_however_old() -> None:
    result = check_scrapping(
        make_payload(vehicle_type="private_small", registered_on="1980-01-01", as_of="2024-06-01", mileage_km=0)
    )

    assert result["must_scrap"] is False
    assert result["service_life_years"] is None
    service_life = reason(result, "service_life")
    assert service_life["passed"] is True
    assert "无使用年限限制" in service_life["message"]


def test_wheeled_machinery_has_no_service_life_however_old() -> None:
    result = check_scrapping(
        make_payload(vehicle_type="wheeled_machinery", registered_on="1990-01-01", as_of="2024-06-01")
    )

    assert result["must_scrap"] is False
    assert result["service_life_years"] is None


# --- Guide mileage ---------------------------------------------------------------------------------------


def test_guide_mileage_reached_suggests_but_never_forces_scrapping() -> None:
    result = check_scrapping(make_payload(vehicle_type="private_small", mileage_km=600_000))

    assert result["guide_mileage_reached"] is True
    assert result["must_scrap"] is False
    guide = reason(result, "guide_mileage")
    assert guide["passed"] is False
    assert "不强制" in guide["message"]


def test_guide_mileage_far_exceeded_on_a_young_taxi_still_does_not_force_scrapping() -> None:
    result = check_scrapping(make_payload(mileage_km=2_000_000))

    assert result["guide_mileage_reached"] is True
    assert result["must_scrap"] is False


def test_one_km_below_guide_mileage_is_not_reached() -> None:
    result = check_scrapping(make_payload(vehicle_type="truck_heavy", mileage_km=699_999))

    assert result["guide_mileage_reached"] is False
    assert reason(result, "guide_mileage")["passed"] is True


def test_type_without_guide_mileage_never_reaches_it() -> None:
    result = check_scrapping(make_payload(vehicle_type="full_trailer", mileage_km=5_000_000))

    assert result["guide_mileage_km"] is None
    assert result["guide_mileage_reached"] is False
    assert result["must_scrap"] is False


def test_guide_mileage_is_reported_alongside_a_forcing_reason() -> None:
    result = check_scrapping(make_payload(as_of="2024-05-01", mileage_km=600_000))

    assert result["must_scrap"] is True
    assert result["guide_mileage_reached"] is True


# --- Safety, emission, inspection ------------------------------------------------------------------------


def test_failing_safety_after_repair_forces_scrapping() -> None:
    result = check_scrapping(make_payload(passes_safety=False))

    assert result["must_scrap"] is True
    assert reason(result, "safety")["passed"] is False
    assert reason(result, "service_life")["passed"] is True


def test_failing_emission_after_repair_forces_scrapping() -> None:
    result = check_scrapping(make_payload(vehicle_type="private_small", passes_emission=False))

    assert result["must_scrap"] is True
    assert reason(result, "emission")["passed"] is False


def test_three_missed_inspection_cycles_force_scrapping() -> None:
    result = check_scrapping(make_payload(vehicle_type="private_small", missed_inspection_cycles=3))

    assert result["must_scrap"] is True
    inspection = reason(result, "inspection")
    assert inspection["passed"] is False
    assert "3个检验周期" in inspection["message"]


def test_two_missed_inspection_cycles_do_not_force_scrapping() -> None:
    result = check_scrapping(make_payload(vehicle_type="private_small", missed_inspection_cycles=2))

    assert result["must_scrap"] is False
    assert reason(result, "inspection")["passed"] is True


def test_more_than_three_missed_cycles_also_force_scrapping() -> None:
    result = check_scrapping(make_payload(missed_inspection_cycles=5))

    assert result["must_scrap"] is True


# --- Shape of the decision -------------------------------------------------------------------------------


def test_decision_lists_every_criterion_in_order_with_chinese_messages() -> None:
    result = check_scrapping(make_payload())

    assert set(result) == {
        "must_scrap",
        "service_life_years",
        "guide_mileage_km",
        "guide_mileage_reached",
        "reasons",
    }
    assert [item["code"] for item in result["reasons"]] == [
        "service_life",
        "guide_mileage",
        "safety",
        "emission",
        "inspection",
    ]
    for item in result["reasons"]:
        assert set(item) == {"code", "passed", "message"}
        assert isinstance(item["passed"], bool)
        assert any("\u4e00" <= char <= "\u9fff" for char in item["message"])


def test_roadworthy_young_taxi_passes_every_criterion() -> None:
    result = check_scrapping(make_payload())

    assert result == {
        "must_scrap": False,
        "service_life_years": 8,
        "guide_mileage_km": 600_000,
        "guide_mileage_reached": False,
        "reasons": result["reasons"],
    }
    assert all(item["passed"] for item in result["reasons"])


def test_date_objects_are_accepted_as_well_as_iso_strings() -> None:
    from_strings = check_scrapping(make_payload(as_of="2024-05-01"))
    from_dates = check_scrapping(make_payload(registered_on=datetime.date(2016, 5, 1), as_of=datetime.date(2024, 5, 1)))

    assert from_dates == from_strings


def test_extra_fields_are_ignored() -> None:
    result = check_scrapping(make_payload(vin="LSVAU2180N2123456"))

    assert result["must_scrap"] is False


# --- Malformed input -------------------------------------------------------------------------------------


def test_unknown_vehicle_type_is_refused() -> None:
    error = expect_error(make_payload(vehicle_type="spaceship"), "unknown_vehicle_type", "vehicle_type")

    assert error.to_dict() == {
        "error": {"code": "unknown_vehicle_type", "field": "vehicle_type", "message": error.message}
    }
    assert "spaceship" in error.message


@pytest.mark.parametrize(
    "field",
    [
        "vehicle_type",
        "registered_on",
        "as_of",
        "mileage_km",
        "missed_inspection_cycles",
        "passes_safety",
        "passes_emission",
    ],
)
def test_missing_field_is_refused(field: str) -> None:
    payload = make_payload()
    del payload[field]

    expect_error(payload, "missing_field", field)


@pytest.mark.parametrize("field", ["registered_on", "as_of"])
@pytest.mark.parametrize("value", ["2023-02-29", "2024-13-01", "2024-04-31", "0000-01-01"])
def test_impossible_date_is_refused(field: str, value: str) -> None:
    payload = make_payload(registered_on="2000-01-01", as_of="2024-06-01")
    payload[field] = value

    expect_error(payload, "invalid_date", field)


@pytest.mark.parametrize(
    "value",
    ["2024/05/01", "20240501", "2024-5-1", "", "2024-05-01T00:00:00", "\uff12\uff10\uff12\uff14-05-01"],
)
def test_badly_formatted_date_is_refused(value: str) -> None:
    expect_error(make_payload(registered_on=value), "invalid_date", "registered_on")


def test_datetime_is_not_taken_for_a_date() -> None:
    expect_error(make_payload(as_of=datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)), "invalid_type", "as_of")


def test_as_of_before_registration_is_refused() -> None:
    expect_error(make_payload(registered_on="2020-01-02", as_of="2020-01-01"), "date_order", "as_of")


@pytest.mark.parametrize("field", ["mileage_km", "missed_inspection_cycles"])
def test_negative_count_is_refused(field: str) -> None:
    expect_error(make_payload(**{field: -1}), "negative_value", field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("vehicle_type", 3),
        ("vehicle_type", None),
        ("registered_on", 20160501),
        ("as_of", None),
        ("mileage_km", True),
        ("mileage_km", False),
        ("mileage_km", 1000.0),
        ("mileage_km", "1000"),
        ("mileage_km", None),
        ("missed_inspection_cycles", True),
        ("missed_inspection_cycles", 1.5),
        ("missed_inspection_cycles", "3"),
        ("passes_safety", 1),
        ("passes_safety", "true"),
        ("passes_safety", None),
        ("passes_emission", 0),
        ("passes_emission", "false"),
    ],
)
def test_wrong_type_is_refused(field: str, value: object) -> None:
    expect_error(make_payload(**{field: value}), "invalid_type", field)


@pytest.mark.parametrize("payload", [None, [], "taxi_small", 42])
def test_non_object_input_is_refused(payload: object) -> None:
    error = expect_error(payload, "invalid_type", "")

    assert error.to_dict()["error"]["code"] == "invalid_type"


def test_input_error_is_a_value_error_carrying_its_message() -> None:
    error = ScrapInputError("missing_field", "as_of", "缺少必填字段 as_of")

    assert isinstance(error, ValueError)
    assert str(error) == "缺少必填字段 as_of"
    assert error.to_dict() == {"error": {"code": "missing_field", "field": "as_of", "message": "缺少必填字段 as_of"}}
