"""The demo leaves each finance role something to do at once, and the periodic jobs leave it there."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from huanxin.accounts.models import User
from huanxin.conftest import client_for
from huanxin.core.jobs import run_due
from huanxin.settlement.models import BankFile, Payable, PaymentBatch, SettlementPeriod

# The demo registers its residents with real one-time codes, sent on commit: a transactional test.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo() -> None:
    call_command("catalogue", "load", verbosity=0)
    call_command("demo", stdout=io.StringIO())


def actions(page: str) -> list[str]:
    return re.findall(r'data-action="([a-z-]+)"', page)


def test_the_demo_leaves_a_waiting_batch_for_the_checker_and_uncovered_payables_for_the_maker(demo):
    waiting = PaymentBatch.objects.get()
    assert (waiting.status, waiting.prepared_by.username, waiting.approved_by) == ("prepared", "finance", None)
    assert waiting.line_count > 0
    uncovered = Payable.objects.filter(status="queued")
    assert uncovered.exists()
    assert not uncovered.filter(lines__isnull=False).exists()
    assert SettlementPeriod.objects.filter(status="closed").count() == 2
    assert BankFile.objects.count() == 0

    # The periodic jobs `make run` starts do not do the people's work for them.
    run_due()
    waiting.refresh_from_db()
    assert waiting.status == "prepared"
    assert PaymentBatch.objects.count() == 1
    assert Payable.objects.filter(status="queued").count() == uncovered.count()


def test_in_the_demo_the_maker_prepares_and_cannot_approve_and_the_checker_approves(demo):
    maker = client_for(User.objects.get(username="finance"))
    checker = client_for(User.objects.get(username="finance2"))
    waiting = PaymentBatch.objects.get()

    # The maker: a batch to prepare, no approve button on the batch they made.
    assert "prepare-batch" in actions(maker.get("/finance/batches/").content.decode())
    own = maker.get(f"/finance/batches/{waiting.number}/").content.decode()
    assert "approve-batch" not in actions(own)
    assert "须由另一名财政人员复核" in own
    refused = maker.post(f"/finance/batches/{waiting.number}/approve/", follow=True)
    assert "制单人不能复核自己生成的批次" in refused.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "prepared"
    assert BankFile.objects.count() == 0

    # The checker: the waiting batch offers approval.
    page = checker.get(f"/finance/batches/{waiting.number}/").content.decode()
    assert actions(page) == ["approve-batch"]
    checker.post(f"/finance/batches/{waiting.number}/approve/")
    waiting.refresh_from_db()
    assert (waiting.status, waiting.approved_by.username) == ("approved", "finance2")

    # The maker prepares the uncovered payables; afterwards nothing is left to prepare.
    programme = Payable.objects.filter(status="queued").first().period.programme
    response = maker.post("/finance/batches/", {"programme": programme.code})
    assert response.status_code == 302
    assert PaymentBatch.objects.filter(status="prepared", prepared_by__username="finance").count() == 1
    assert not Payable.objects.filter(status="queued").exists()
    assert "prepare-batch" not in actions(maker.get("/finance/batches/").content.decode())


def test_the_demo_periods_page_offers_no_close_that_would_be_refused(demo):
    page = client_for(User.objects.get(username="finance")).get("/finance/periods/").content.decode()
    # Every period is either closed already or today's (not ended): nothing to close.
    assert SettlementPeriod.objects.filter(status="open").exists()
    assert "close-period" not in actions(page)


def test_the_demo_runs_twice_without_a_second_batch(demo):
    call_command("demo", stdout=io.StringIO())
    assert PaymentBatch.objects.count() == 1


def test_the_demo_leaves_a_held_sale_in_the_district_reviewers_queue(demo):
    from huanxin.subsidies.models import RedemptionHold

    hold = RedemptionHold.objects.get()
    assert (hold.status, hold.redemption.serial, hold.redemption.withheld) == ("held", "DEMO-SN-0004", True)
    queue = client_for(User.objects.get(username="reviewer_cy")).get("/subsidies/holds/").content.decode()
    assert "DEMO-SN-0004" in queue
    # The periodic jobs leave the decision to a reviewer.
    run_due()
    hold.refresh_from_db()
    assert hold.status == "held"
