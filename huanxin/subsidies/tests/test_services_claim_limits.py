"""A claim's limits: validity within the programme, the registered district's budget, the minimum age."""

import datetime
import importlib
import json
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from huanxin.accounts.models import Person, Role
from huanxin.conftest import api_client_for, make_member, make_person, valid_resident_id
from huanxin.core.errors import ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy import services as policy_services
from huanxin.policy.models import BudgetPool, Programme
from huanxin.subsidies import services
from huanxin.subsidies.models import ClaimRefusal, Qualification
from huanxin.subsidies.tests.conftest import FRIDGE_CAP

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HAIDIAN, CHAOYANG, YANQING = "110108", "110105", "110119"


def budgets(programme):
    """Every slice's (district, held, spent, available), the whole state a refused claim must leave alone."""
    return sorted(
        BudgetPool.objects.filter(programme=programme).values_list(
            "district_id", "slice", "held_fen", "spent_fen", "available_fen"
        )
    )


def claim(user, category="fridge", **kwargs):
    return services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category=category, **kwargs)


def resident_born(birth: str, district: str = CHAOYANG):
    user = make_member(Role.CONSUMER)
    person = make_person(user=user, district=district)
    person.set_resident_id(valid_resident_id(birth=birth))
    person.save()
    return user


# ---------------------------------------------------------------- validity ends with the programme


def test_a_qualification_claimed_near_the_programme_end_expires_at_the_end_of_its_last_day(scene):
    Programme.objects.filter(pk=scene.programme.pk).update(ends_on=datetime.date(2026, 12, 31))
    now = datetime.datetime(2026, 12, 3, 9, 30, tzinfo=SHANGHAI)
    qualification = claim(scene.resident(), now=now)
    # 30 days would reach 2027-01-02 09:30; the programme's money stops at the end of 2026-12-31.
    assert qualification.expires_at == datetime.datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)
    stored = Qualification.objects.get(pk=qualification.pk)
    assert stored.expires_at == datetime.datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)


def test_the_api_shows_the_expiry_that_stops_at_the_programme_end(scene):
    ends_on = timezone.localdate() + datetime.timedelta(days=3)
    Programme.objects.filter(pk=scene.programme.pk).update(ends_on=ends_on)
    response = api_client_for(scene.resident()).post(
        "/api/v1/subsidies/qualifications",
        data=json.dumps({"programme": "cn-appliance-2026", "category": "fridge"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    expires_at = datetime.datetime.fromisoformat(response.json()["expires_at"])
    assert expires_at == datetime.datetime.combine(
        ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=SHANGHAI
    )


def test_the_expiry_job_expires_a_qualification_whose_programme_has_ended(scene):
    qualification = claim(scene.resident())
    # The programme's end was brought forward after the claim: its money can no longer be spent.
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    Programme.objects.filter(pk=scene.programme.pk).update(starts_on=yesterday, ends_on=yesterday)
    assert services.expire_due() == 1
    assert Qualification.objects.get(pk=qualification.pk).status == "expired"
    assert sum(BudgetPool.objects.filter(programme=scene.programme).values_list("held_fen", flat=True)) == 0
    assert AuditEntry.objects.filter(action="subsidies.qualification.expire", object_id=str(qualification.pk)).exists()


def test_the_expiry_job_leaves_a_running_programme_alone(scene):
    qualification = claim(scene.resident())
    Programme.objects.filter(pk=scene.programme.pk).update(ends_on=timezone.localdate())
    assert services.expire_due() == 0
    assert Qualification.objects.get(pk=qualification.pk).status == "issued"


def test_the_migration_brings_an_outliving_expiry_back_to_the_programme_end(scene):
    from django.apps import apps

    qualification = claim(scene.resident())
    ends_on = timezone.localdate() + datetime.timedelta(days=2)
    Programme.objects.filter(pk=scene.programme.pk).update(ends_on=ends_on)
    untouched = claim(scene.resident(), "tv")
    end = datetime.datetime.combine(ends_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=SHANGHAI)
    Qualification.objects.filter(pk=untouched.pk).update(status="cancelled")
    importlib.import_module("huanxin.subsidies.migrations.0003_qualification_expiry_within_programme").clamp(apps, None)
    assert Qualification.objects.get(pk=qualification.pk).expires_at == end
    assert Qualification.objects.get(pk=untouched.pk).expires_at == untouched.expires_at
    entry = AuditEntry.objects.get(action="subsidies.qualification.clamp_expiry")
    assert entry.object_id == str(qualification.pk)
    assert entry.after["expires_at"] == end.isoformat()


# ---------------------------------------------------------------- the registered district's budget


@pytest.fixture
def yanqing_budget(scene):
    policy_services.set_budget(
        actor=scene.personas.admin,
        programme=scene.programme,
        total_fen=20 * FRIDGE_CAP,
        allocations={CHAOYANG: 10 * FRIDGE_CAP, YANQING: 10 * FRIDGE_CAP},
    )
    services.clear_caches()
    return scene


def test_a_claim_is_charged_to_the_registered_district(yanqing_budget):
    qualification = claim(yanqing_budget.resident(CHAOYANG))
    assert qualification.district_id == CHAOYANG
    assert BudgetPool.objects.get(pk=qualification.pool_id).district_id == CHAOYANG
    assert sum(BudgetPool.objects.filter(district_id=YANQING).values_list("held_fen", flat=True)) == 0


def test_the_claim_service_takes_no_district(yanqing_budget):
    with pytest.raises(TypeError):
        claim(yanqing_budget.resident(HAIDIAN), district=YANQING)
    assert Qualification.objects.count() == 0


def test_a_haidian_resident_cannot_claim_against_yanqing_through_the_api(yanqing_budget):
    before = budgets(yanqing_budget.programme)
    audit_rows = AuditEntry.objects.count()
    client = api_client_for(yanqing_budget.resident(HAIDIAN))
    response = client.post(
        "/api/v1/subsidies/qualifications",
        data=json.dumps({"programme": "cn-appliance-2026", "category": "fridge", "district": YANQING}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "district",
            "code": "district_mismatch",
            "message": "补贴资格计入您的登记居住区预算，不能另选申领区；如已搬迁请先变更登记居住区",
        }
    ]
    assert Qualification.objects.count() == 0
    assert budgets(yanqing_budget.programme) == before
    assert AuditEntry.objects.count() == audit_rows


def test_the_api_accepts_the_registered_district_when_an_old_client_sends_it(yanqing_budget):
    client = api_client_for(yanqing_budget.resident(CHAOYANG))
    response = client.post(
        "/api/v1/subsidies/qualifications",
        data=json.dumps({"programme": "cn-appliance-2026", "category": "fridge", "district": CHAOYANG}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["district"] == CHAOYANG


def test_a_resident_of_a_district_without_budget_is_refused_even_if_another_district_has_one(yanqing_budget):
    before = budgets(yanqing_budget.programme)
    with pytest.raises(ValidationFailed) as caught:
        claim(yanqing_budget.resident(HAIDIAN))
    assert caught.value.code == "no_budget"
    assert Qualification.objects.count() == 0
    assert budgets(yanqing_budget.programme) == before


def test_a_claim_follows_a_changed_registered_district(yanqing_budget):
    from huanxin.accounts import services as account_services

    user = yanqing_budget.resident(CHAOYANG)
    account_services.change_registered_district(actor=user, district=YANQING)
    assert claim(user).district_id == YANQING


def test_a_verified_profile_without_a_district_cannot_claim(scene):
    from huanxin.core.errors import ForbiddenError

    user = scene.resident()
    Person.objects.filter(user=user).update(district=None)
    before = budgets(scene.programme)
    with pytest.raises(ForbiddenError) as caught:
        claim(user)
    assert caught.value.code == "district_required"
    assert Qualification.objects.count() == 0
    assert budgets(scene.programme) == before


# ---------------------------------------------------------------- the minimum age


def test_a_child_verified_before_the_age_rule_cannot_claim_and_nothing_moves(scene):
    user = resident_born("20150601")
    before = budgets(scene.programme)
    with pytest.raises(ValidationFailed) as caught:
        claim(user)
    assert caught.value.code == "under_minimum_age"
    assert caught.value.detail == "申领补贴须年满18周岁（按身份证出生日期计算）"
    assert Qualification.objects.count() == 0
    assert budgets(scene.programme) == before
    assert ClaimRefusal.objects.get().code == "under_minimum_age"


def test_the_age_is_taken_on_the_claim_date(scene):
    user = resident_born("20081204")
    eve = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI)
    with pytest.raises(ValidationFailed) as caught:
        claim(user, now=eve)
    assert caught.value.code == "under_minimum_age"
    assert Qualification.objects.count() == 0
    birthday = datetime.datetime(2026, 12, 4, 0, 0, 1, tzinfo=SHANGHAI)
    assert claim(user, now=birthday).status == "issued"


def test_the_minimum_age_is_the_city_setting(scene, settings):
    settings.HUANXIN_MIN_CLAIM_AGE = 16
    user = resident_born("20090101")
    assert claim(user, now=datetime.datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI)).status == "issued"
    settings.HUANXIN_MIN_CLAIM_AGE = 20
    with pytest.raises(ValidationFailed) as caught:
        claim(resident_born("20070101"), now=datetime.datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI))
    assert caught.value.detail == "申领补贴须年满20周岁（按身份证出生日期计算）"
