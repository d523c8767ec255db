"""The legal clocks of a car application on the platform calendar: weekends and statutory holidays skipped,
adjusted working days counted, 补正 pausing the running clock, a year without its holiday table reported."""

import datetime

from huanxin.core.domain.workdays import default_calendar
from huanxin.vehicles.domain.applications import (
    ClockLimits,
    Pause,
    claimed_type,
    compute_clock,
    sniff_file_type,
)

D = datetime.date


def clock(submitted, *, accepted=None, decided=None, approved=None, pauses=(), today=None, limits=None):
    return compute_clock(
        calendar=default_calendar(),
        limits=limits or ClockLimits(),
        submitted_on=submitted,
        accepted_on=accepted,
        decided_on=decided,
        paid_on=None,
        approved=approved,
        pauses=list(pauses),
        today=today or submitted,
    )


def test_accept_clock_skips_the_weekend():
    # Thursday 2026-03-05 + 3 working days: Fri 6, Mon 9, Tue 10.
    assert clock(D(2026, 3, 5)).stages[0].due_on == D(2026, 3, 10)


def test_accept_clock_skips_the_spring_festival_and_counts_the_adjusted_saturday():
    # Friday 2026-02-13: Saturday 14 is an adjusted working day, 15–23 are the holiday, then Tue 24, Wed 25.
    assert clock(D(2026, 2, 13)).stages[0].due_on == D(2026, 2, 25)


def test_decide_clock_is_fifteen_working_days_and_a_programme_setting():
    result = clock(D(2026, 2, 27), accepted=D(2026, 3, 2))
    assert result.stages[1].due_on == D(2026, 3, 23)
    shorter = clock(D(2026, 2, 27), accepted=D(2026, 3, 2), limits=ClockLimits(3, 10, 30))
    assert shorter.stages[1].due_on == D(2026, 3, 16)


def test_supplement_pauses_the_clock_for_its_working_days():
    # 补正 asked on Wed 4 March, material given Wed 11 March: 5 working days (5, 6, 9, 10, 11) paused.
    pause = Pause("decide", D(2026, 3, 4), D(2026, 3, 11))
    result = clock(D(2026, 2, 27), accepted=D(2026, 3, 2), pauses=[pause], today=D(2026, 3, 12))
    assert result.stages[1].due_on == D(2026, 3, 30)
    assert result.stages[1].paused_days == 5
    assert not result.stages[1].paused


def test_an_open_supplement_keeps_moving_the_deadline_and_shows_the_clock_paused():
    pause = Pause("decide", D(2026, 3, 4), None)
    result = clock(D(2026, 2, 27), accepted=D(2026, 3, 2), pauses=[pause], today=D(2026, 3, 6))
    assert result.stages[1].paused
    assert result.stages[1].due_on == D(2026, 3, 25)  # two working days (5, 6) paused so far


def test_pay_clock_and_expected_payment_day():
    result = clock(D(2026, 2, 27), accepted=D(2026, 3, 2), decided=D(2026, 3, 16), approved=True)
    assert result.stages[2].due_on == result.expected_payment_on
    assert result.expected_payment_on == default_calendar().add_working_days(D(2026, 3, 16), 30)
    refused = clock(D(2026, 2, 27), accepted=D(2026, 3, 2), decided=D(2026, 3, 16), approved=False)
    assert refused.expected_payment_on is None
    pending = clock(D(2026, 3, 5))
    assert pending.expected_payment_on is not None
    assert pending.expected_payment_on > pending.stages[0].due_on


def test_a_year_without_its_holiday_table_is_reported_not_silently_counted():
    assert 2031 not in default_calendar().years
    result = clock(D(2031, 3, 5))
    assert 2031 in result.uncovered_years
    late = clock(D(2026, 12, 1))
    assert 2027 in late.uncovered_years or 2027 in default_calendar().years
    assert clock(D(2026, 3, 5)).uncovered_years == ()


def test_file_type_is_read_from_the_bytes():
    assert sniff_file_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_file_type(b"\x89PNG\r\n\x1a\nrest") == "image/png"
    assert sniff_file_type(b"%PDF-1.4") == "application/pdf"
    assert sniff_file_type(b"<html>") is None
    assert sniff_file_type(b"GIF89a") is None
    assert claimed_type("a.PDF", "") == "application/pdf"
    assert claimed_type("a.bin", "image/png; charset=x") == "image/png"
    assert claimed_type("a.bin", "application/octet-stream") is None
