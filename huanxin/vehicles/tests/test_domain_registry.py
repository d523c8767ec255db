"""Pure rules of the registry: the life order of events, the derived state, the import rows, the scrapping
outlook and bj-truck-2024's coverage."""

import datetime

import pytest

from huanxin.conftest import valid_resident_id, valid_uscc
from huanxin.vehicles.domain import lifecycle, outlook, records, traffic
from huanxin.vehicles.domain.lifecycle import EventFacts, Owner
from huanxin.vehicles.tests.factories import HEADER, new_vin, registration

D = datetime.date
TODAY = D(2026, 12, 3)
DISTRICTS = {"110105": "110105", "朝阳区": "110105", "朝阳": "110105", "海淀区": "110108"}
ALICE = Owner("person", "王小明", "d1", "110105********0001")
BOB = Owner("organisation", "京运物流", "d2", "9111********0001")


def test_the_state_follows_the_events_in_the_order_they_happened():
    events = [
        EventFacts("inspection", D(2020, 5, 1), details={"passed": True, "mileage_km": 90_000}),
        EventFacts("transfer", D(2018, 1, 1), owner=BOB, district_code="110108", use="operating"),
        EventFacts("registration", D(2012, 5, 1), owner=ALICE, district_code="110105", use="non_operating"),
    ]
    state = lifecycle.derive_state(events)
    assert state.status == "registered"
    assert state.registered_on == D(2012, 5, 1)
    assert (state.owner, state.owner_since) == (BOB, D(2018, 1, 1))
    assert (state.district_code, state.use) == ("110108", "operating")
    assert (state.last_inspection_on, state.mileage_km) == (D(2020, 5, 1), 90_000)


def test_scrapping_then_deregistration_end_the_life():
    state = lifecycle.derive_state(
        [
            EventFacts("registration", D(2012, 5, 1), owner=ALICE, district_code="110105", use="non_operating"),
            EventFacts("deregistration", D(2024, 1, 2)),
            EventFacts("scrapping", D(2024, 1, 2)),
        ]
    )
    assert (state.status, state.scrapped_on, state.deregistered_on) == ("deregistered", D(2024, 1, 2), D(2024, 1, 2))


@pytest.mark.parametrize(
    ("history", "kind", "day", "code"),
    [
        ([], "transfer", D(2020, 1, 1), lifecycle.NOT_REGISTERED),
        ([], "deregistration", D(2020, 1, 1), lifecycle.NOT_REGISTERED),
        (["registration"], "registration", D(2020, 1, 1), lifecycle.ALREADY_REGISTERED),
        (["registration"], "inspection", D(2011, 1, 1), lifecycle.BEFORE_LAST_EVENT),
        (["registration", "scrapping"], "transfer", D(2025, 1, 1), lifecycle.ALREADY_SCRAPPED),
        (["registration", "deregistration"], "inspection", D(2025, 1, 1), lifecycle.ALREADY_DEREGISTERED),
        (["registration"], "inspection", D(2012, 5, 1), None),
        (["registration", "scrapping"], "deregistration", D(2025, 1, 1), None),
        ([], "registration", D(2012, 5, 1), None),
    ],
)
def test_what_may_follow_what(history, kind, day, code):
    days = {"registration": D(2012, 5, 1), "scrapping": D(2024, 1, 1), "deregistration": D(2024, 1, 2)}
    state = lifecycle.derive_state(
        [EventFacts(k, days[k], owner=ALICE if k == "registration" else None, district_code="110105") for k in history]
    )
    refusal = lifecycle.refusal_for(state, kind, day)
    assert (refusal[0] if refusal else None) == code


# ---------------------------------------------------------------- import rows


def check(row, **kwargs):
    columns = traffic.map_header(HEADER)
    values = {name: row[index] for name, index in columns.items()}
    return traffic.check_row(2, values, districts=DISTRICTS, today=kwargs.get("today", TODAY))


def test_a_good_registration_row_is_normalised():
    vin = new_vin()
    owner = valid_resident_id()
    row = check(registration(vin.lower(), owner_id=owner.lower(), district="朝阳", emission="国Ⅳ"))
    assert isinstance(row, traffic.EventRow)
    assert (row.kind, row.vin, row.occurred_on) == ("registration", vin, D(2012, 5, 1))
    assert (row.vehicle_type, row.use, row.fuel, row.displacement_ml) == (
        "private_small",
        "non_operating",
        "gasoline",
        1598,
    )
    assert (row.emission_standard, row.owner_kind, row.owner_id_number, row.district_code) == (
        "guo4", "person", owner, "110105"
    )  # fmt: skip


def test_a_battery_electric_car_needs_no_displacement_or_emission_stage():
    row = check(registration(new_vin(), owner_id=valid_resident_id(), fuel="纯电动", displacement="", emission=""))
    assert isinstance(row, traffic.EventRow)
    assert (row.fuel, row.displacement_ml, row.emission_standard) == ("bev", 0, "")
    assert records.is_nev(row.fuel)


@pytest.mark.parametrize(
    ("changes", "column", "code"),
    [
        ({"vin": "LSV"}, "vin", "vin_length"),
        ({"on": "2012-13-01"}, "occurred_on", "invalid_date"),
        ({"on": "2027-01-01"}, "occurred_on", "date_in_future"),
        ({"on": "1949-12-31"}, "occurred_on", "date_out_of_range"),
        ({"type": "spaceship"}, "vehicle_type", "unknown_vehicle_type"),
        ({"use": "自用"}, "use", "unknown_use"),
        ({"fuel": "煤"}, "fuel", "unknown_fuel"),
        ({"displacement": ""}, "displacement_ml", "missing_displacement_ml"),
        ({"displacement": "1.6L"}, "displacement_ml", "invalid_displacement_ml"),
        ({"displacement": "160000"}, "displacement_ml", "displacement_out_of_range"),
        ({"emission": ""}, "emission_standard", "missing_emission_standard"),
        ({"emission": "欧六"}, "emission_standard", "unknown_emission_standard"),
        ({"owner_kind": ""}, "owner_kind", "missing_owner_kind"),
        ({"owner_name": ""}, "owner_name", "missing_owner_name"),
        ({"owner_name": "=HYPERLINK(1)"}, "owner_name", "formula_like"),
        ({"owner_id": "110105199001011234"}, "owner_id_number", "owner_id_invalid_checksum"),
        ({"district": "浦东新区"}, "district", "unknown_district"),
        ({"kind": "报废"}, "kind", "kind_not_importable"),
        ({"kind": "上牌"}, "kind", "unknown_kind"),
    ],
)
def test_each_bad_cell_is_named_with_its_field_and_code(changes, column, code):
    changes.setdefault("owner_id", valid_resident_id())
    errors = check(registration(changes.pop("vin", new_vin()), **changes))
    assert isinstance(errors, list)
    assert [(e.row, e.column, e.code) for e in errors] == [(2, column, code)]


def test_an_organisation_owner_is_checked_as_a_credit_code():
    code = valid_uscc()
    row = check(registration(new_vin(), owner_kind="单位", owner_name="某公司", owner_id=code))
    assert isinstance(row, traffic.EventRow)
    assert row.owner_id_number == code
    # A resident ID is no credit code (this one fails the GB 32100 check; a few resident IDs happen to pass it).
    refused = check(registration(new_vin(), owner_kind="单位", owner_name="某公司", owner_id="110105199003070017"))
    assert [e.column for e in refused] == ["owner_id_number"]


def test_a_header_without_the_required_columns_is_refused():
    with pytest.raises(traffic.ImportFileError) as caught:
        traffic.map_header(["车辆识别代号", "所有人"])
    assert caught.value.code == "missing_columns"
    with pytest.raises(traffic.ImportFileError) as caught:
        traffic.map_header(["业务类型", "VIN", "车架号", "业务日期"])
    assert caught.value.code == "duplicate_column"


@pytest.mark.parametrize("text", ["2024-03-01", "2024/3/1", "2024.3.1", "2024年3月1日", "20240301", " 2024-03-01 "])
def test_dates_are_read_as_people_write_them(text):
    assert traffic.parse_date(text) == D(2024, 3, 1)


def test_the_canonical_text_differs_when_any_value_differs():
    owner = valid_resident_id()
    base = check(registration("LFV2A21K8A3000001", owner_id=owner))
    other = check(registration("LFV2A21K8A3000001", owner_id=owner, displacement="1599"))
    assert isinstance(base, traffic.EventRow)
    assert isinstance(other, traffic.EventRow)
    assert base.identity == other.identity
    assert base.canonical() != other.canonical()


# ---------------------------------------------------------------- the scrapping outlook


TAXI_REGISTERED = D(2016, 1, 10)
AS_OF = D(2024, 6, 1)


def look(vehicle_type="taxi_small", registered_on=TAXI_REGISTERED, as_of=AS_OF, **kwargs):
    return outlook.outlook(
        vehicle_type=vehicle_type,
        use=kwargs.get("use", "operating"),
        emission_standard=kwargs.get("emission_standard", "guo5"),
        registered_on=registered_on,
        mileage_km=kwargs.get("mileage_km"),
        as_of=as_of,
    )


def test_a_taxi_past_its_eight_years_must_be_scrapped():
    found = look()
    assert (found.must_scrap, found.due_within_horizon, found.listed) == (True, False, True)
    assert found.service_life_ends_on == D(2024, 1, 10)


def test_a_taxi_reaching_eight_years_within_the_year_is_due():
    found = look(registered_on=D(2016, 6, 2))
    assert (found.must_scrap, found.due_within_horizon) == (False, True)
    # The anniversary itself completes the service life.
    assert look(registered_on=D(2016, 6, 1), as_of=D(2024, 6, 1)).must_scrap is True
    assert look(registered_on=D(2016, 6, 2), as_of=D(2023, 6, 2)).due_within_horizon is True
    assert look(registered_on=D(2016, 6, 3), as_of=D(2023, 6, 2)).listed is False


def test_a_private_car_has_no_service_life_and_is_never_listed_by_age():
    found = look("private_small", registered_on=D(1995, 1, 1), use="non_operating", mileage_km=700_000)
    assert (found.must_scrap, found.listed, found.service_life_ends_on) == (False, False, None)
    assert found.guide_mileage_reached is True  # advised, never forced


def test_a_29_february_registration_reaches_its_anniversary_on_1_march():
    assert outlook.service_life_ends_on("taxi_small", D(2016, 2, 29)) == D(2024, 2, 29)
    assert outlook.service_life_ends_on("taxi_medium", D(2016, 2, 29)) == D(2026, 3, 1)
    assert outlook.latest_registration_due("taxi_small", D(2025, 2, 28)) == D(2017, 2, 28)
    assert outlook.latest_registration_due("taxi_small", D(2024, 2, 29)) == D(2016, 2, 29)
    assert outlook.latest_registration_due("taxi_medium", D(2024, 2, 29)) == D(2014, 2, 28)


@pytest.mark.parametrize(
    ("vehicle_type", "use", "emission", "covered"),
    [
        ("truck_heavy", "operating", "guo4", True),
        ("truck_heavy", "operating", "guo5", False),
        ("truck_heavy", "non_operating", "guo4", False),
        ("truck_light_medium", "operating", "guo4", False),
    ],
)
def test_bj_truck_2024_covers_operating_heavy_trucks_of_stage_guo4(vehicle_type, use, emission, covered):
    assert records.covered_by_bj_truck_2024(vehicle_type=vehicle_type, use=use, emission_standard=emission) is covered
    found = look(vehicle_type, registered_on=D(2020, 1, 1), use=use, emission_standard=emission)
    assert found.bj_truck_2024 is covered
    assert found.listed is covered


@pytest.mark.parametrize(
    ("fuel", "policy"),
    [("gasoline", "gasoline"), ("hybrid", "gasoline"), ("diesel", "diesel"), ("bev", "nev"), ("phev", "nev"),
     ("erev", "nev"), ("fcev", "nev"), ("natural_gas", "other"), ("other", "other")],
)  # fmt: skip
def test_the_fuel_as_the_car_rules_read_it(fuel, policy):
    assert records.policy_fuel(fuel) == policy
