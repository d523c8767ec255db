import datetime

import pytest
from django.db.models import F
from django.utils import timezone

from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool, Programme
from huanxin.subsidies import services
from huanxin.subsidies.domain import codes
from huanxin.subsidies.models import ClaimRefusal, ExternalSubsidy, Qualification
from huanxin.subsidies.tests.conftest import FRIDGE_CAP

pytestmark = pytest.mark.django_db


def pool_totals(programme):
    pools = BudgetPool.objects.filter(programme=programme)
    return {
        "allocated": sum(p.allocated_fen for p in pools),
        "held": sum(p.held_fen for p in pools),
        "spent": sum(p.spent_fen for p in pools),
        "available": sum(p.available_fen for p in pools),
    }


def claim(user, category="fridge", **kwargs):
    return services.claim_qualification(actor=user, programme_code="cn-appliance-2026", category=category, **kwargs)


def test_a_claim_holds_the_category_maximum_and_writes_an_audit_row(scene):
    user = scene.resident()
    qualification = claim(user)
    assert qualification.status == "issued"
    assert qualification.held_fen == FRIDGE_CAP
    assert codes.is_valid(qualification.code)
    assert qualification.rule_version == "cn-appliance-2026@1"
    assert qualification.expires_at - qualification.issued_at == datetime.timedelta(days=30)
    assert pool_totals(scene.programme) == {
        "allocated": 10 * FRIDGE_CAP,
        "held": FRIDGE_CAP,
        "spent": 0,
        "available": 9 * FRIDGE_CAP,
    }
    assert AuditEntry.objects.filter(action="subsidies.qualification.claim", object_id=str(qualification.pk)).exists()


def test_second_claim_for_same_category_is_refused_and_nothing_moves(scene):
    user = scene.resident()
    claim(user)
    before = pool_totals(scene.programme)
    with pytest.raises(ValidationFailed) as caught:
        claim(user)
    assert caught.value.code == "already_holding"
    assert pool_totals(scene.programme) == before
    assert Qualification.objects.count() == 1
    assert ClaimRefusal.objects.get().code == "already_holding"


def test_a_redeemed_category_uses_up_the_quota(scene):
    user = scene.resident()
    qualification = claim(user)
    Qualification.objects.filter(pk=qualification.pk).update(status="redeemed")
    with pytest.raises(ValidationFailed) as caught:
        claim(user)
    assert caught.value.code == "rule_quota"
    assert any(r["code"] == "quota" and not r["passed"] for r in caught.value.reasons)


def test_another_category_is_a_separate_quota(scene):
    user = scene.resident()
    claim(user, "fridge")
    tv = claim(user, "tv")
    assert tv.held_fen == FRIDGE_CAP


def test_an_unverified_resident_cannot_claim(scene):
    from huanxin.accounts.models import Person

    user = scene.resident()
    Person.objects.filter(user=user).update(verified_at=None)
    with pytest.raises(ForbiddenError):
        claim(user)
    assert Qualification.objects.count() == 0


def test_a_category_outside_the_programme_is_a_field_error(scene):
    with pytest.raises(ValidationFailed) as caught:
        claim(scene.resident(), "phone")
    assert caught.value.errors[0].field == "category"


def test_a_closed_programme_refuses(scene):
    Programme.objects.filter(pk=scene.programme.pk).update(status="closed")
    with pytest.raises(ValidationFailed) as caught:
        claim(scene.resident())
    assert caught.value.code == "programme_not_open"


def test_budget_exhausted_after_the_last_hold_and_a_claim_falls_through_slices(scene):
    users = [scene.resident() for _ in range(11)]
    for user in users[:10]:
        claim(user)
    assert pool_totals(scene.programme)["available"] == 0
    assert set(Qualification.objects.values_list("pool_id", flat=True)) == set(
        BudgetPool.objects.filter(programme=scene.programme).values_list("pk", flat=True)
    )
    with pytest.raises(ValidationFailed) as caught:
        claim(users[10])
    assert caught.value.code == "budget_exhausted"
    assert Qualification.objects.count() == 10


def test_other_province_exclusion_applies_only_where_the_rule_has_it(scene):
    user = scene.resident()
    from huanxin.accounts.models import Person

    ExternalSubsidy.objects.create(
        person=Person.objects.get(user=user), year=timezone.localdate().year, category="fridge", province="河北"
    )
    # cn-appliance-2026 has no other-province rule: the claim goes through.
    assert claim(user).status == "issued"


def test_cancel_releases_the_hold_once(scene):
    user = scene.resident()
    qualification = claim(user)
    services.cancel_qualification(actor=user, qualification=qualification)
    assert pool_totals(scene.programme)["held"] == 0
    with pytest.raises(ConflictError):
        services.cancel_qualification(actor=user, qualification=Qualification.objects.get(pk=qualification.pk))
    assert pool_totals(scene.programme)["available"] == 10 * FRIDGE_CAP
    # The quota is free again.
    assert claim(user).status == "issued"


def test_someone_else_cannot_cancel(scene):
    qualification = claim(scene.resident())
    with pytest.raises(ForbiddenError):
        services.cancel_qualification(actor=scene.resident(), qualification=qualification)
    assert Qualification.objects.get(pk=qualification.pk).status == "issued"


def test_expiry_releases_holds_and_is_resumable(scene):
    users = [scene.resident() for _ in range(3)]
    for user in users:
        claim(user)
    later = timezone.now() + datetime.timedelta(days=31)
    assert services.expire_due(now=later, batch=2) == 2
    assert services.expire_due(now=later, batch=2) == 1
    assert services.expire_due(now=later) == 0
    assert pool_totals(scene.programme)["held"] == 0
    assert Qualification.objects.filter(status="expired").count() == 3
    assert AuditEntry.objects.filter(action="subsidies.qualification.expire").count() == 3


def test_nothing_expires_before_its_time(scene):
    claim(scene.resident())
    assert services.expire_due(now=timezone.now() + datetime.timedelta(days=29)) == 0


def test_rounds_refuse_before_opening_and_when_full(scene):
    now = timezone.now()
    services.create_round(
        actor=scene.personas.reviewer,
        programme=scene.programme,
        name="第一批",
        opens_at=now + datetime.timedelta(hours=1),
        closes_at=None,
        limits={"fridge": 3},
    )
    with pytest.raises(ValidationFailed) as caught:
        claim(scene.resident())
    assert caught.value.code == "round_not_open"
    assert "尚未开始" in caught.value.detail
    opened = now + datetime.timedelta(hours=2)
    for _ in range(3):
        claim(scene.resident(), now=opened)
    with pytest.raises(ValidationFailed) as caught:
        claim(scene.resident(), now=opened)
    assert caught.value.code == "round_full"
    assert pool_totals(scene.programme)["held"] == 3 * FRIDGE_CAP


def test_a_district_reviewer_cannot_schedule_a_round_of_a_city_wide_programme(scene):
    from huanxin.subsidies.models import ClaimRound

    audit_before = AuditEntry.objects.count()
    with pytest.raises(ForbiddenError) as caught:
        services.create_round(
            actor=scene.personas.district_reviewer,
            programme=scene.programme,
            name="朝阳批次",
            opens_at=timezone.now(),
            closes_at=None,
            limits={"fridge": 3},
        )
    assert caught.value.code == "round_forbidden"
    assert ClaimRound.objects.count() == 0
    assert AuditEntry.objects.count() == audit_before


def test_a_rounds_slices_are_read_once_and_a_newly_created_round_is_counted_at_once(scene):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    now = timezone.now()
    first = services.create_round(
        actor=scene.personas.reviewer,
        programme=scene.programme,
        name="第一批",
        opens_at=now - datetime.timedelta(hours=1),
        closes_at=now + datetime.timedelta(hours=1),
        limits={"fridge": 5},
    )
    claim(scene.resident(), now=now)
    resident = scene.resident()
    with CaptureQueriesContext(connection) as captured:
        second = claim(resident, now=now)
    assert not [q["sql"] for q in captured if q["sql"].startswith("SELECT") and "subsidies_roundslice" in q["sql"]]
    assert second.round_id == first.pk
    later = services.create_round(
        actor=scene.personas.reviewer,
        programme=scene.programme,
        name="第二批",
        opens_at=now + datetime.timedelta(hours=1),
        closes_at=None,
        limits={"fridge": 1},
    )
    third = claim(scene.resident(), now=now + datetime.timedelta(hours=2))
    assert third.round_id == later.pk
    assert third.round_slice_id in set(later.slices.filter(category="fridge").values_list("pk", flat=True))
    with pytest.raises(ValidationFailed) as caught:
        claim(scene.resident(), now=now + datetime.timedelta(hours=2))
    assert caught.value.code == "round_full"


def test_air_conditioners_use_numbered_quota_slots(personas):
    from huanxin.subsidies.tests.conftest import build_scene

    scene = build_scene(personas)
    # Give cn-appliance-2026's rule a quota of 3 for ACs by using the 2025 programme instead.
    Programme.objects.filter(code="cn-appliance-2025").update(
        status="open", starts_on=None, ends_on=None, slices_per_district=1
    )
    from huanxin.policy import services as policy_services

    programme = Programme.objects.get(code="cn-appliance-2025")
    policy_services.set_budget(
        actor=personas.admin, programme=programme, total_fen=10_000_000, allocations={"110105": 10_000_000}
    )
    user = scene.resident()
    slots = []
    for _ in range(3):
        q = services.claim_qualification(actor=user, programme_code="cn-appliance-2025", category="ac")
        slots.append(q.slot)
        Qualification.objects.filter(pk=q.pk).update(status="redeemed")
    assert slots == [0, 1, 2]
    with pytest.raises(ValidationFailed) as caught:
        services.claim_qualification(actor=user, programme_code="cn-appliance-2025", category="ac")
    assert caught.value.code == "rule_quota"


def test_the_database_refuses_a_second_live_qualification(scene):
    from django.db import IntegrityError, transaction

    user = scene.resident()
    q = claim(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        Qualification.objects.create(
            code=codes.new_code(),
            person=q.person,
            programme=q.programme,
            category="fridge",
            district_id="110105",
            pool_id=q.pool_id,
            slot=1,
            held_fen=1,
            rule_version=q.rule_version,
            expires_at=q.expires_at,
        )


def test_the_pool_equation_cannot_be_broken_by_a_stray_update(scene):
    from django.db import IntegrityError, transaction

    pool = BudgetPool.objects.filter(programme=scene.programme).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetPool.objects.filter(pk=pool.pk).update(held_fen=F("held_fen") + 1)
