import pytest
from django.db import IntegrityError, transaction
from django.db.models import F

from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy import services
from huanxin.policy.models import BudgetPool, Programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def programme(db):
    return Programme.objects.create(
        code="test-programme", name="测试项目", family="consumer_goods", slices_per_district=1
    )


def test_allocations_must_add_up_to_the_total_and_a_refusal_changes_nothing(programme, personas):
    with pytest.raises(ValidationFailed) as caught:
        services.set_budget(
            actor=personas.finance, programme=programme, total_fen=1000, allocations={"110105": 600, "110108": 300}
        )
    assert caught.value.errors[0].code == "sum_mismatch"
    programme.refresh_from_db()
    assert programme.total_budget_fen == 0
    assert BudgetPool.objects.count() == 0
    assert not AuditEntry.objects.filter(action="policy.budget.set").exists()


def test_setting_and_changing_a_budget(programme, personas):
    services.set_budget(
        actor=personas.finance, programme=programme, total_fen=1000, allocations={"110105": 600, "110108": 400}
    )
    pools = {p.district_id: p for p in BudgetPool.objects.all()}
    assert (pools["110105"].allocated_fen, pools["110105"].available_fen) == (600, 600)
    BudgetPool.objects.filter(district_id="110105").update(available_fen=F("available_fen") - 500, held_fen=500)
    services.set_budget(
        actor=personas.finance, programme=programme, total_fen=1500, allocations={"110105": 1100, "110108": 400}
    )
    pool = BudgetPool.objects.get(district_id="110105")
    assert (pool.allocated_fen, pool.held_fen, pool.available_fen) == (1100, 500, 600)
    assert AuditEntry.objects.filter(action="policy.budget.set").count() == 2


def test_an_allocation_below_what_is_held_and_spent_is_refused(programme, personas):
    services.set_budget(actor=personas.finance, programme=programme, total_fen=1000, allocations={"110105": 1000})
    BudgetPool.objects.update(available_fen=200, held_fen=500, spent_fen=300)
    with pytest.raises(ValidationFailed) as caught:
        services.set_budget(actor=personas.finance, programme=programme, total_fen=700, allocations={"110105": 700})
    assert caught.value.errors[0].code == "below_committed"
    pool = BudgetPool.objects.get()
    assert (pool.allocated_fen, pool.available_fen) == (1000, 200)
    programme.refresh_from_db()
    assert programme.total_budget_fen == 1000


def test_the_database_enforces_the_pool_equation_and_non_negativity(programme):
    pool = BudgetPool.objects.create(programme=programme, district_id="110105", allocated_fen=100, available_fen=100)
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetPool.objects.filter(pk=pool.pk).update(available_fen=50)
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetPool.objects.filter(pk=pool.pk).update(available_fen=-10, held_fen=110)


def test_unknown_districts_and_negative_amounts_are_field_errors(programme, personas):
    with pytest.raises(ValidationFailed) as caught:
        services.set_budget(
            actor=personas.finance, programme=programme, total_fen=10, allocations={"999999": 10, "110105": -1}
        )
    assert {e.field for e in caught.value.errors} == {"allocations.999999", "allocations.110105"}


def test_only_finance_and_administrators_set_budgets(programme, personas):
    with pytest.raises(ForbiddenError):
        services.set_budget(actor=personas.reviewer, programme=programme, total_fen=0, allocations={})


def test_programme_status_moves_draft_open_closed_only(programme, personas):
    from huanxin.core.errors import ConflictError

    with pytest.raises(ConflictError):
        services.set_programme_status(actor=personas.reviewer, programme=programme, status="closed")
    services.set_programme_status(actor=personas.reviewer, programme=programme, status="open")
    services.set_programme_status(actor=personas.reviewer, programme=programme, status="closed")
    programme.refresh_from_db()
    assert programme.status == "closed"
    with pytest.raises(ValidationFailed):
        services.set_programme_status(actor=personas.reviewer, programme=programme, status="draft")


def test_a_district_budget_is_spread_over_slices_and_keeps_what_each_slice_committed(personas):
    from huanxin.policy.queries import pools_of

    programme = Programme.objects.create(code="sliced", name="分片项目", family="consumer_goods", slices_per_district=4)
    services.set_budget(actor=personas.finance, programme=programme, total_fen=1003, allocations={"110105": 1003})
    assert sorted(BudgetPool.objects.values_list("slice", "available_fen")) == [(0, 251), (1, 251), (2, 251), (3, 250)]
    BudgetPool.objects.filter(slice=0).update(available_fen=F("available_fen") - 200, held_fen=200)
    services.set_budget(actor=personas.finance, programme=programme, total_fen=2000, allocations={"110105": 2000})
    slices = {p.slice: p for p in BudgetPool.objects.all()}
    assert sum(p.allocated_fen for p in slices.values()) == 2000
    assert slices[0].held_fen == 200
    assert sum(p.available_fen for p in slices.values()) == 1800
    [district] = pools_of(programme)
    assert (district.allocated_fen, district.held_fen, district.available_fen, district.slices) == (2000, 200, 1800, 4)


@pytest.mark.parametrize(("total", "allocations"), [(True, {"110105": True}), (1, {"110105": True}), (1.0, {})])
def test_a_boolean_or_a_float_is_no_amount_of_fen(programme, personas, total, allocations):
    audits = AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.set_budget(actor=personas.finance, programme=programme, total_fen=total, allocations=allocations)
    assert "invalid_type" in {error.code for error in caught.value.errors}
    programme.refresh_from_db()
    assert (programme.total_budget_fen, BudgetPool.objects.count(), AuditEntry.objects.count()) == (0, 0, audits)
