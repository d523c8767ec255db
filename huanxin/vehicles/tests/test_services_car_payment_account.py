"""A car subsidy the bank refused is paid again to the account the applicant corrects, through the same settlement
batches: once, to the new account, with nothing requested twice."""

from __future__ import annotations

import pytest

from huanxin.accounts.models import Role
from huanxin.conftest import client_for, make_member
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy.models import BudgetPool
from huanxin.settlement import services as settlement
from huanxin.settlement.models import BankFile, Payable, Payee
from huanxin.vehicles import application_services as car
from huanxin.vehicles.models import CarApplication, CarApplicationStep
from huanxin.vehicles.tests.car_factories import car_programme, file_application, new_car, scrapped_car

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = "6228480010203040506"


def results_file(rows):
    header = "行号,结果,金额（元）,银行流水号,失败原因\n"
    return (header + "".join(",".join(row) + "\n" for row in rows)).encode()


@pytest.fixture
def refused(personas):
    """An approved car subsidy whose payment the bank refused; the finance officers who batch it."""
    programme = car_programme()
    old = scrapped_car(personas.admin, personas.consumer_person, certificate="BF2026110009")
    application = file_application(
        personas.consumer,
        old_vin=old.vin,
        new_vin=new_car(personas.admin, personas.consumer_person),
        certificate="BF2026110009",
    )
    car.accept(actor=personas.district_reviewer, application=application)
    application = car.decide(
        actor=personas.district_reviewer, application=application, approve=True, reason_code="all_checks_passed"
    )
    checker = make_member(Role.FINANCE_OFFICER, personas.government)
    batch = settlement.prepare_batch(actor=personas.finance, programme=programme)
    settlement.approve_batch(actor=checker, batch=batch)
    [line] = batch.lines.all()
    settlement.import_bank_results(
        actor=personas.finance,
        batch=batch,
        file_name="r.csv",
        content=results_file([[line.line_id, "失败", f"{line.amount_fen / 100:.2f}", "B-1", "账号不存在"]]),
    )
    application.refresh_from_db()
    assert application.status == "payment_failed"
    return application, programme, checker


def state(application):
    payee = Payee.objects.get(pk=application.payee_id or 0)
    return (
        CarApplication.objects.get(pk=application.pk).status,
        payee.account_digest,
        payee.bank_name,
        Payable.objects.filter(source_kind="car-subsidy").count(),
        AuditEntry.objects.filter(action__endswith="account_corrected").count(),
        CarApplicationStep.objects.filter(application=application).count(),
    )


def test_the_corrected_account_is_paid_in_the_next_batch_once(personas, refused):
    application, programme, checker = refused
    spent = BudgetPool.objects.get(pk=application.pool_id or 0).spent_fen
    application = car.correct_account(
        actor=personas.consumer, application=application, bank_name="工商银行北京分行", account_number=NEW_ACCOUNT
    )
    assert application.status == "approved"
    assert Payee.objects.get(pk=application.payee_id or 0).account_masked.endswith("0506")
    step = CarApplicationStep.objects.filter(application=application).last()
    assert step is not None
    assert step.kind == "account_corrected"
    retry = settlement.prepare_batch(actor=checker, programme=programme)
    [line] = retry.lines.all()
    assert line.account_masked.endswith("0506")
    settlement.approve_batch(actor=personas.finance, batch=retry)
    csv_text = bytes(BankFile.objects.get(batch=retry, file_format="csv").content).decode("utf-8-sig")
    assert NEW_ACCOUNT in csv_text
    settlement.import_bank_results(
        actor=personas.finance,
        batch=retry,
        file_name="r2.csv",
        content=results_file([[line.line_id, "成功", f"{line.amount_fen / 100:.2f}", "B-2", ""]]),
    )
    application.refresh_from_db()
    assert (application.status, application.bank_reference) == ("paid", "B-2")
    # One payable, spent once: correcting the account requested nothing again.
    assert Payable.objects.filter(source_kind="car-subsidy", source_ref=str(application.pk)).count() == 1
    assert BudgetPool.objects.get(pk=application.pool_id or 0).spent_fen == spent


def test_refusals_change_nothing(personas, refused):
    application, _, _ = refused
    before = state(application)
    with pytest.raises(ForbiddenError):
        car.correct_account(
            actor=personas.district_reviewer, application=application, bank_name="工商银行", account_number=NEW_ACCOUNT
        )
    with pytest.raises(ValidationFailed) as bad:
        car.correct_account(
            actor=personas.consumer, application=application, bank_name="工商银行", account_number="62-ABC"
        )
    assert bad.value.errors[0].field == "account_number"
    with pytest.raises(ValidationFailed) as same:
        car.correct_account(
            actor=personas.consumer,
            application=application,
            bank_name="工商银行",
            # The refused account again, typed with spaces as on a bank card.
            account_number=" ".join(_current_account(application)),
        )
    assert same.value.errors[0].code == "same_account"
    assert state(application) == before


def test_only_a_failed_payment_takes_a_new_account(personas, refused):
    application, _, _ = refused
    car.correct_account(
        actor=personas.consumer, application=application, bank_name="工商银行北京分行", account_number=NEW_ACCOUNT
    )
    before = state(application)
    with pytest.raises(ConflictError) as caught:
        car.correct_account(
            actor=personas.consumer, application=application, bank_name="工商银行", account_number="6222020200112233999"
        )
    assert caught.value.code == "car_application_state"
    assert state(application) == before


def test_the_applicant_corrects_the_account_on_the_application_page(personas, refused):
    application, _, _ = refused
    client = client_for(personas.consumer)
    page = client.get(f"/vehicles/applications/{application.pk}/").content.decode()
    assert "账号不存在" in page
    assert "更正收款账户" in page
    # A reviewer sees why the payment failed but has no form to change where the money goes.
    reviewer_page = client_for(personas.district_reviewer).get(f"/vehicles/applications/{application.pk}/")
    assert "账号不存在" in reviewer_page.content.decode()
    assert f"/vehicles/applications/{application.pk}/account/" not in reviewer_page.content.decode()
    bad = client.post(f"/vehicles/applications/{application.pk}/account/", {"bank_name": "", "account_number": ""})
    assert bad.status_code == 422
    assert CarApplication.objects.get(pk=application.pk).status == "payment_failed"
    done = client.post(
        f"/vehicles/applications/{application.pk}/account/",
        {"bank_name": "工商银行北京分行", "account_number": NEW_ACCOUNT},
    )
    assert done.status_code == 302
    assert CarApplication.objects.get(pk=application.pk).status == "approved"


def _current_account(application):
    from huanxin.core import crypto

    payee = Payee.objects.get(pk=application.payee_id or 0)
    return crypto.decrypt(payee.account_cipher, purpose="bank_account")


def test_a_correction_waits_while_the_retry_is_in_a_batch(personas, refused):
    application, programme, checker = refused
    # Finance batches the requeued payment before the applicant corrects the account: the line has the old one.
    settlement.prepare_batch(actor=checker, programme=programme)
    before = state(application)
    with pytest.raises(ConflictError) as caught:
        car.correct_account(
            actor=personas.consumer, application=application, bank_name="工商银行", account_number=NEW_ACCOUNT
        )
    assert caught.value.code == "payment_in_batch"
    assert state(application) == before


def test_the_account_refused_is_the_one_on_the_failed_line(personas, refused):
    application, programme, checker = refused
    car.correct_account(
        actor=personas.consumer, application=application, bank_name="工商银行北京分行", account_number=NEW_ACCOUNT
    )
    retry = settlement.prepare_batch(actor=checker, programme=programme)
    settlement.approve_batch(actor=personas.finance, batch=retry)
    [line] = retry.lines.all()
    settlement.import_bank_results(
        actor=personas.finance,
        batch=retry,
        file_name="r2.csv",
        content=results_file([[line.line_id, "失败", f"{line.amount_fen / 100:.2f}", "B-3", "账户已冻结"]]),
    )
    application.refresh_from_db()
    assert application.status == "payment_failed"
    with pytest.raises(ValidationFailed) as same:
        car.correct_account(
            actor=personas.consumer, application=application, bank_name="工商银行", account_number=NEW_ACCOUNT
        )
    assert same.value.errors[0].code == "same_account"
    third = car.correct_account(
        actor=personas.consumer, application=application, bank_name="建设银行", account_number="6217000011112222333"
    )
    assert third.status == "approved"
