import datetime

import pytest

from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.policy import queries, services
from huanxin.policy.models import Measure, ProgressReport, ResponsibleUnit

pytestmark = pytest.mark.django_db


@pytest.fixture
def commerce(personas):
    unit = ResponsibleUnit.objects.get(short_name="市商务局")
    unit.organisation = personas.government
    unit.save()
    return unit


def test_plan_has_23_measures_in_six_areas_with_one_lead_each():
    assert Measure.objects.count() == 23
    assert len(set(Measure.objects.values_list("area", flat=True))) == 6
    for measure in Measure.objects.all():
        assert measure.unit_links.filter(is_lead=True).count() == 1
    assert Measure.objects.get(number=16).unit_links.get(is_lead=True).unit.short_name == "市商务局"


def test_a_member_of_the_responsible_unit_reports(commerce, personas):
    measure = Measure.objects.get(number=16)
    code = measure.targets[0]["code"]
    report = services.submit_progress_report(
        actor=personas.reviewer,
        measure=measure,
        unit=commerce,
        period="2026-10",
        narrative="本月全市家电以旧换新进展顺利，按期清算。",
        indicators={code: 1200},
    )
    assert report.indicators == {code: 1200}


def test_someone_outside_the_unit_cannot_report_and_nothing_is_stored(commerce, personas):
    measure = Measure.objects.get(number=16)
    for actor in (personas.district_reviewer, personas.clerk, personas.consumer):
        with pytest.raises(ForbiddenError):
            services.submit_progress_report(
                actor=actor,
                measure=measure,
                unit=commerce,
                period="2026-10",
                narrative="这是一段足够长的进展说明文字。",
                indicators={},
            )
    assert ProgressReport.objects.count() == 0


def test_a_unit_cannot_report_on_a_measure_it_is_not_responsible_for(commerce, personas):
    with pytest.raises(ForbiddenError) as caught:
        services.submit_progress_report(
            actor=personas.reviewer,
            measure=Measure.objects.get(number=1),
            unit=commerce,
            period="2026-10",
            narrative="这是一段足够长的进展说明文字。",
            indicators={},
        )
    assert caught.value.code == "not_responsible"


def test_a_second_report_for_the_same_period_is_a_conflict(commerce, personas):
    measure = Measure.objects.get(number=16)
    kwargs = {
        "actor": personas.reviewer,
        "measure": measure,
        "unit": commerce,
        "period": "2026-10",
        "narrative": "这是一段足够长的进展说明文字。",
        "indicators": {},
    }
    services.submit_progress_report(**kwargs)
    with pytest.raises(ConflictError):
        services.submit_progress_report(**kwargs)
    assert ProgressReport.objects.count() == 1


def test_bad_fields_are_reported_together(commerce, personas):
    with pytest.raises(ValidationFailed) as caught:
        services.submit_progress_report(
            actor=personas.reviewer,
            measure=Measure.objects.get(number=16),
            unit=commerce,
            period="2026-13",
            narrative="短",
            indicators={"nope": 1},
        )
    assert {e.field for e in caught.value.errors} == {"period", "narrative", "indicators.nope"}


def test_reporting_period_and_due_date_follow_the_working_day_calendar():
    period = queries.reporting_period(datetime.date(2025, 10, 20))
    # September 2025 is reported in October; 10-01..10-08 are holidays, 10-11 (Saturday) is a working day,
    # so the 10th working day after 09-30 is 10-21.
    assert period.label == "2025-09"
    assert period.due_on == datetime.date(2025, 10, 21)


def test_measures_without_a_report_are_overdue_after_the_due_date(commerce, personas):
    measure = Measure.objects.get(number=16)
    services.submit_progress_report(
        actor=personas.reviewer,
        measure=measure,
        unit=commerce,
        period="2025-09",
        narrative="这是一段足够长的进展说明文字。",
        indicators={},
    )
    on_due_day = {s.measure.number: s.state for s in queries.measure_statuses(datetime.date(2025, 10, 21))}
    after = {s.measure.number: s.state for s in queries.measure_statuses(datetime.date(2025, 10, 22))}
    assert on_due_day[16] == after[16] == "reported"
    assert on_due_day[1] == "due"
    assert after[1] == "overdue"
