"""Standards raised after the fact: a published rule version effective in the past lists the applications it owes
more, a second person approves, the top-ups are paid once; a lowering version claws nothing back."""

import pytest

from huanxin.core.errors import ConflictError, ForbiddenError
from huanxin.policy import services as policy
from huanxin.policy.models import BudgetPool, Programme
from huanxin.settlement.models import Payable
from huanxin.vehicles import application_services as car
from huanxin.vehicles import topups
from huanxin.vehicles.models import CarTopUp, CarTopUpRun
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car

pytestmark = pytest.mark.django_db


def _version(personas, number, rate_bp, cap_fen):
    text = policy.CATALOGUE_DIR.joinpath("cn-car-scrap-2026.toml").read_text(encoding="utf-8")
    text = text.replace("version = 1", f"version = {number}", 1)
    text = text.replace("rate_bp = 1200", f"rate_bp = {rate_bp}", 1).replace(
        "cap_fen = 2000000", f"cap_fen = {cap_fen}", 1
    )
    programme = Programme.objects.get(code="cn-car-scrap-2026")
    version = policy.prepare_rule_set(actor=personas.reviewer, programme=programme, content=text)
    return policy.decide_rule_set(actor=personas.admin, version=version, approve=True)


def test_a_raised_standard_tops_up_once_after_a_second_person_approves(personas):
    car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF-TOP-1")
    application = file_application(
        personas.consumer,
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF-TOP-1",
    )
    car.accept(actor=personas.district_reviewer, application=application)
    application = car.decide(
        actor=personas.district_reviewer, application=application, approve=True, reason_code="all_checks_passed"
    )
    assert application.amount_fen == 1_800_000
    raised = _version(personas, 2, 1500, 2500000)  # 15 % of 150,000 = 22,500 元
    owed = topups.owed_under(raised)
    assert [(o.application.pk, o.delta_fen) for o in owed] == [(application.pk, 450_000)]
    with pytest.raises(ForbiddenError):
        topups.prepare_top_ups(actor=personas.district_reviewer, version=raised)
    run = topups.prepare_top_ups(actor=personas.reviewer, version=raised)
    assert not Payable.objects.filter(source_kind="car-topup").exists()
    with pytest.raises(ForbiddenError):
        topups.approve_top_ups(actor=personas.reviewer, run=run)  # the preparer
    spent_before = sum(BudgetPool.objects.values_list("spent_fen", flat=True))
    topups.approve_top_ups(actor=personas.admin, run=run)
    payable = Payable.objects.get(source_kind="car-topup")
    assert payable.amount_fen == 450_000
    assert sum(BudgetPool.objects.values_list("spent_fen", flat=True)) == spent_before + 450_000
    # Run twice: pays once.
    with pytest.raises(ConflictError):
        topups.approve_top_ups(actor=personas.admin, run=run)
    with pytest.raises(ConflictError):
        topups.prepare_top_ups(actor=personas.reviewer, version=raised)
    assert topups.owed_under(raised) == []
    assert Payable.objects.filter(source_kind="car-topup").count() == 1
    # A later version that lowers the standard owes nothing and claws nothing back.
    lowered = _version(personas, 3, 1000, 1500000)
    assert topups.owed_under(lowered) == []
    assert CarTopUp.objects.count() == 1
    assert CarTopUpRun.objects.get().status == "approved"
