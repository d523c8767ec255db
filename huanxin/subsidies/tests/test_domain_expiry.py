import datetime
from zoneinfo import ZoneInfo

from huanxin.subsidies.domain.claims import qualification_expiry

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int, minute: int) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_a_qualification_lasts_its_validity_when_the_programme_runs_longer():
    issued = at(2026, 6, 1, 10, 0)
    expiry = qualification_expiry(
        issued_at=issued, valid_days=30, programme_ends_on=datetime.date(2026, 12, 31), zone=SHANGHAI
    )
    assert expiry == at(2026, 7, 1, 10, 0)


def test_a_qualification_ends_with_the_last_day_of_its_programme():
    # Claimed on 2026-12-03 with 30 days' validity: without the programme's end it would run to 2027-01-02.
    issued = at(2026, 12, 3, 9, 30)
    expiry = qualification_expiry(
        issued_at=issued, valid_days=30, programme_ends_on=datetime.date(2026, 12, 31), zone=SHANGHAI
    )
    assert expiry == at(2027, 1, 1, 0, 0)
    assert expiry.astimezone(datetime.UTC) == datetime.datetime(2026, 12, 31, 16, 0, tzinfo=datetime.UTC)


def test_a_programme_without_an_end_leaves_the_validity_alone():
    issued = at(2026, 12, 3, 9, 30)
    expiry = qualification_expiry(issued_at=issued, valid_days=30, programme_ends_on=None, zone=SHANGHAI)
    assert expiry == at(2027, 1, 2, 9, 30)
