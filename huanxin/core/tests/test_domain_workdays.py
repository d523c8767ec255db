import datetime

import pytest

from huanxin.core.domain.workdays import CALENDAR_DIR, WorkCalendar, load_calendar, parse_calendar_file

D = datetime.date


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return load_calendar()


def test_the_shipped_calendar_covers_2024_to_2026(calendar):
    assert {2024, 2025, 2026} <= calendar.years


@pytest.mark.parametrize(
    "day",
    [D(2024, 2, 12), D(2024, 10, 1), D(2025, 1, 28), D(2025, 2, 4), D(2025, 5, 5), D(2025, 10, 8), D(2026, 2, 23)],
)
def test_statutory_holidays_are_not_working_days(calendar, day):
    assert not calendar.is_working_day(day)


@pytest.mark.parametrize("day", [D(2024, 2, 4), D(2024, 2, 18), D(2025, 1, 26), D(2025, 9, 28), D(2025, 10, 11)])
def test_adjusted_weekend_working_days_are_working_days(calendar, day):
    assert day.weekday() >= 5
    assert calendar.is_working_day(day)


def test_three_working_days_after_the_eve_of_national_day_2025(calendar):
    # Tuesday 2025-09-30; 10-01 to 10-08 off; Saturday 10-11 is a working day.
    assert calendar.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    assert calendar.add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)


def test_working_days_count_backwards_and_between(calendar):
    assert calendar.add_working_days(D(2025, 10, 9), -1) == D(2025, 9, 30)
    assert calendar.working_days_between(D(2025, 9, 30), D(2025, 10, 11)) == 3
    assert calendar.working_days_between(D(2025, 10, 11), D(2025, 9, 30)) == 0


def test_a_year_without_a_file_falls_back_to_weekdays_and_says_so(calendar):
    assert not calendar.covers(D(2030, 1, 1))
    assert calendar.add_working_days(D(2030, 1, 4), 1) == D(2030, 1, 7)  # Friday → Monday


def test_every_shipped_file_is_consistent():
    for path in CALENDAR_DIR.glob("*.toml"):
        year, holidays, workdays = parse_calendar_file(path.read_text(encoding="utf-8"))
        assert path.stem == str(year)
        assert holidays
        assert all(day.weekday() >= 5 for day in workdays)


def test_a_day_both_off_and_working_is_refused():
    text = 'year = 2024\n[[holidays]]\nname="x"\ndays=["2024-02-04"]\n[[workdays]]\ndate="2024-02-04"\nname="y"\n'
    with pytest.raises(ValueError, match="both off and working"):
        parse_calendar_file(text)
