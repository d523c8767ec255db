import datetime

import pytest

from huanxin.conftest import make_organisation
from huanxin.core.errors import ConflictError, ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.policy.models import Programme
from huanxin.settlement import services
from huanxin.settlement.domain.payables import period_bounds
from huanxin.settlement.models import BankFile, BankImport, Payable, PaymentBatch, PaymentLine, SettlementPeriod
from huanxin.settlement.tests.conftest import DAY1, DAY2, after, give_back, sell

pytestmark = pytest.mark.django_db


class Crash(Exception):
    pass


def crash_at(step_to_fail):
    def checkpoint(step):
        if step == step_to_fail or (step_to_fail.endswith(":") and step.startswith(step_to_fail)):
            raise Crash(step)

    return checkpoint


def periods(scene, until):
    services.ensure_periods(programme=scene.programme, until=until)
    return {p.starts_at: p for p in SettlementPeriod.objects.filter(programme=scene.programme)}


def period_of(scene, day):
    return SettlementPeriod.objects.get(programme=scene.programme, starts_at=period_bounds(day)[0])


def close_through(scene, day):
    for period in SettlementPeriod.objects.filter(
        programme=scene.programme, starts_at__lte=period_bounds(day)[0]
    ).order_by("starts_at"):
        services.close_period(period=period, now=after(day))


@pytest.fixture
def programme_from_day1(scene):
    Programme.objects.filter(pk=scene.programme.pk).update(starts_on=DAY1)
    scene.programme.refresh_from_db()
    return scene


def test_closing_a_period_freezes_each_merchants_payable_once(programme_from_day1):
    scene = programme_from_day1
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-S1")
    sell(scene, price_fen=300_000, on=DAY1, serial="SN-S2")
    sell(scene, price_fen=500_000, on=DAY2, serial="SN-S3")
    periods(scene, DAY2)
    assert services.close_period(period=period_of(scene, DAY1), now=after(DAY1)) is True
    assert services.close_period(period=period_of(scene, DAY1), now=after(DAY2)) is False
    [payable] = Payable.objects.filter(period=period_of(scene, DAY1))
    assert (payable.redemption_count, payable.redemptions_fen, payable.amount_fen) == (2, 105_000, 105_000)
    assert payable.status == "queued"
    assert Payable.objects.count() == 1
    assert AuditEntry.objects.filter(action="settlement.period.close").count() == 1


def test_a_period_cannot_close_before_it_ends_or_before_an_earlier_one(programme_from_day1):
    scene = programme_from_day1
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-S1")
    periods(scene, DAY2)
    with pytest.raises(ConflictError) as caught:
        services.close_period(period=period_of(scene, DAY2), now=after(DAY1))
    assert caught.value.code == "period_not_ended"
    with pytest.raises(ConflictError) as caught:
        services.close_period(period=period_of(scene, DAY2), now=after(DAY2))
    assert caught.value.code == "earlier_period_open"


def test_a_negative_balance_is_carried_forward_not_paid(programme_from_day1):
    scene = programme_from_day1
    first = sell(scene, price_fen=400_000, on=DAY1, serial="SN-S1")
    periods(scene, DAY2 + datetime.timedelta(days=1))
    close_through(scene, DAY1)
    give_back(scene, first, on=DAY2)  # 60,000 clawed back on day 2, nothing sold
    close_through(scene, DAY2)
    day2 = Payable.objects.get(period=period_of(scene, DAY2))
    assert (day2.clawbacks_fen, day2.amount_fen, day2.carried_out_fen, day2.status) == (60_000, 0, -60_000, "nothing")
    day3 = DAY2 + datetime.timedelta(days=1)
    sell(scene, price_fen=500_000, on=day3, serial="SN-S9")  # 75,000
    close_through(scene, day3)
    third = Payable.objects.get(period=period_of(scene, day3))
    assert (third.carried_in_fen, third.amount_fen, third.carried_out_fen) == (-60_000, 15_000, 0)
    assert Payable.objects.get(pk=day2.pk).carry_taken


def test_a_carry_waits_through_quiet_periods_and_is_taken_once(programme_from_day1):
    scene = programme_from_day1
    first = sell(scene, price_fen=400_000, on=DAY1, serial="SN-S1")
    day4 = DAY1 + datetime.timedelta(days=3)
    periods(scene, day4)
    close_through(scene, DAY1)
    give_back(scene, first, on=DAY2)
    close_through(scene, DAY1 + datetime.timedelta(days=2))  # day 3: nothing happened, no payable
    assert not Payable.objects.filter(period=period_of(scene, DAY1 + datetime.timedelta(days=2))).exists()
    sell(scene, price_fen=300_000, on=day4, serial="SN-S4")  # 45,000 against the 60,000 carried
    close_through(scene, day4)
    fourth = Payable.objects.get(period=period_of(scene, day4))
    assert (fourth.carried_in_fen, fourth.amount_fen, fourth.carried_out_fen) == (-60_000, 0, -15_000)
    open_carries = Payable.objects.filter(carried_out_fen__lt=0, carry_taken=False)
    assert list(open_carries.values_list("pk", flat=True)) == [fourth.pk]


@pytest.mark.parametrize("step", ["aggregated_sales", "aggregated_clawbacks", "payables_created"])
def test_a_crash_while_closing_leaves_the_period_open_and_a_rerun_gives_the_same_payables(programme_from_day1, step):
    scene = programme_from_day1
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-S1")
    periods(scene, DAY1)
    with pytest.raises(Crash):
        services.close_period(period=period_of(scene, DAY1), now=after(DAY1), checkpoint=crash_at(step))
    assert period_of(scene, DAY1).status == "open"
    assert Payable.objects.count() == 0
    services.close_period(period=period_of(scene, DAY1), now=after(DAY1))
    assert list(Payable.objects.values_list("amount_fen", flat=True)) == [60_000]


def paid_scene(scene, count=3):
    Programme.objects.filter(pk=scene.programme.pk).update(starts_on=DAY1)
    scene.programme.refresh_from_db()
    for index in range(count):
        day = DAY1 + datetime.timedelta(days=index)
        sell(scene, price_fen=400_000 + index * 10_000, on=day, serial=f"SN-P{index}")
    last = DAY1 + datetime.timedelta(days=count - 1)
    periods(scene, last)
    close_through(scene, last)


def test_maker_prepares_checker_approves_and_the_preparer_cannot_approve(scene, second_finance):
    paid_scene(scene)
    maker = scene.personas.finance
    batch = services.prepare_batch(actor=maker, programme=scene.programme)
    assert (batch.status, batch.line_count, batch.total_fen) == ("prepared", 3, 60_000 + 61_500 + 63_000)
    with pytest.raises(ForbiddenError) as caught:
        services.approve_batch(actor=maker, batch=batch)
    assert caught.value.code == "four_eyes"
    batch.refresh_from_db()
    assert batch.status == "prepared"
    assert BankFile.objects.count() == 0
    approved = services.approve_batch(actor=second_finance, batch=batch)
    assert approved.status == "approved"
    csv_text = bytes(BankFile.objects.get(batch=batch, file_format="csv").content).decode("utf-8-sig")
    assert "6222021234567890123" in csv_text
    assert "600.00" in csv_text
    assert all(line.account_masked == "6222***********0123" for line in batch.lines.all())


def test_only_finance_officers_prepare(scene):
    paid_scene(scene, count=1)
    with pytest.raises(ForbiddenError):
        services.prepare_batch(actor=scene.personas.reviewer, programme=scene.programme)
    assert PaymentBatch.objects.count() == 0


def test_a_crash_at_every_step_of_batch_assembly_then_a_rerun_gives_the_same_batch(scene, monkeypatch):
    monkeypatch.setattr(services, "ASSEMBLY_CHUNK", 2)
    paid_scene(scene, count=5)
    payables = list(Payable.objects.filter(status="queued").order_by("pk").values_list("pk", "amount_fen"))
    steps = ["batch_started"] + [f"chunk_committed:{pk}" for pk, _ in payables[1::2]]
    for step in steps:
        with pytest.raises(Crash):
            services.prepare_batch(actor=scene.personas.finance, programme=scene.programme, checkpoint=crash_at(step))
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    assert batch.status == "prepared"
    assert PaymentBatch.objects.count() == 1
    lines = list(batch.lines.order_by("payable_id").values_list("payable_id", "amount_fen"))
    assert lines == payables
    assert (batch.line_count, batch.total_fen) == (5, sum(amount for _, amount in payables))
    assert Payable.objects.filter(status="in_batch").count() == 5


def test_a_payable_without_an_enrolment_gets_no_line_and_stays_queued(scene):
    paid_scene(scene, count=1)
    stranger = make_organisation()
    orphan = Payable.objects.create(
        period=SettlementPeriod.objects.get(programme=scene.programme),
        recipient=stranger,
        redemption_count=1,
        redemptions_fen=9_900,
        amount_fen=9_900,
    )
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    [line] = batch.lines.all()
    assert line.line_id == f"{batch.number}-{line.payable_id:010d}"
    assert (line.payee_name, line.purpose, line.status) == (scene.enrolment.account_name, services.PURPOSE, "pending")
    assert (batch.line_count, batch.total_fen) == (1, line.amount_fen)
    orphan.refresh_from_db()
    assert orphan.status == "queued"
    assert not PaymentLine.objects.filter(payable=orphan).exists()


def bank_file(rows):
    header = "行号,结果,金额（元）,银行流水号,失败原因\n"
    return (header + "".join(",".join(row) + "\n" for row in rows)).encode()


def test_bank_results_are_checked_line_by_line_and_failures_return_to_the_queue(scene, second_finance):
    paid_scene(scene)
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    lines = list(batch.lines.order_by("line_id"))
    content = bank_file(
        [
            [lines[0].line_id, "成功", "600.00", "BANK-1", ""],
            [lines[1].line_id, "失败", "615.00", "BANK-2", "账户已销户"],
            [lines[2].line_id, "成功", "999.00", "BANK-3", ""],
            [lines[0].line_id, "成功", "600.00", "BANK-1", ""],
            ["PB00000000-X", "成功", "1.00", "", ""],
        ]
    )
    outcome = services.import_bank_results(
        actor=scene.personas.finance, batch=batch, file_name="result.csv", content=content
    )
    codes = [v["code"] for v in outcome.verdicts]
    assert codes == ["accepted", "accepted", "amount_mismatch", "duplicate_line", "unknown_line"]
    statuses = dict(PaymentLine.objects.values_list("line_id", "status"))
    assert statuses == {lines[0].line_id: "paid", lines[1].line_id: "failed", lines[2].line_id: "pending"}
    assert Payable.objects.get(pk=lines[0].payable_id).status == "paid"
    assert Payable.objects.get(pk=lines[1].payable_id).status == "queued"
    again = services.import_bank_results(
        actor=scene.personas.finance, batch=batch, file_name="result.csv", content=content
    )
    assert [v["code"] for v in again.verdicts][:2] == ["already_recorded", "already_recorded"]
    assert PaymentLine.objects.filter(status="paid").count() == 1
    # The failed payable goes into the next batch.
    services.import_bank_results(
        actor=scene.personas.finance,
        batch=batch,
        file_name="r2.csv",
        content=bank_file([[lines[2].line_id, "成功", "630.00", "BANK-3", ""]]),
    )
    batch.refresh_from_db()
    assert batch.status == "settled"
    retry = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    assert list(retry.lines.values_list("payable_id", flat=True)) == [lines[1].payable_id]


def test_paid_lines_add_up_to_redemptions_minus_clawbacks(scene, second_finance):
    from huanxin.settlement.tests.conftest import give_back

    Programme.objects.filter(pk=scene.programme.pk).update(starts_on=DAY1)
    scene.programme.refresh_from_db()
    sales = [sell(scene, price_fen=400_000 + i * 1_000, on=DAY1, serial=f"SN-T{i}") for i in range(4)]
    give_back(scene, sales[0], on=DAY1)
    periods(scene, DAY1)
    close_through(scene, DAY1)
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    rows = [
        [line.line_id, "成功", f"{line.amount_fen // 100}.{line.amount_fen % 100:02d}", f"B{line.pk}", ""]
        for line in batch.lines.all()
    ]
    services.import_bank_results(actor=scene.personas.finance, batch=batch, file_name="ok.csv", content=bank_file(rows))
    paid = sum(PaymentLine.objects.filter(status="paid").values_list("amount_fen", flat=True))
    assert paid == sum(s.subsidy_fen for s in sales) - sales[0].subsidy_fen


def test_periods_start_at_the_first_sale_and_a_programme_without_sales_gets_none(scene):
    assert services.ensure_periods(programme=scene.programme, until=DAY2) == 0
    sell(scene, price_fen=400_000, on=DAY2, serial="SN-F1")
    assert services.ensure_periods(programme=scene.programme, until=DAY2 + datetime.timedelta(days=2)) == 3
    assert services.ensure_periods(programme=scene.programme, until=DAY2 + datetime.timedelta(days=2)) == 0
    first = SettlementPeriod.objects.filter(programme=scene.programme).order_by("starts_at").first()
    assert first.starts_at == period_bounds(DAY2)[0]


def test_names_that_look_like_formulas_stay_text_in_the_spreadsheets(scene, second_finance):
    import io

    from openpyxl import load_workbook

    from huanxin.settlement.exports import reconciliation_xlsx
    from huanxin.subsidies.models import Enrolment

    formula = '=HYPERLINK("http://example.invalid","点此领款")'
    Enrolment.objects.filter(pk=scene.enrolment.pk).update(account_name=formula)
    scene.personas.merchant.name = formula
    scene.personas.merchant.save()
    paid_scene(scene, count=1)
    batch = services.approve_batch(
        actor=second_finance, batch=services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    )
    bank_file = bytes(BankFile.objects.get(batch=batch, file_format="xlsx").content)
    report = reconciliation_xlsx(SettlementPeriod.objects.get(programme=scene.programme))
    for content in (bank_file, report):
        cells = [cell for row in load_workbook(io.BytesIO(content)).worksheets[0].iter_rows() for cell in row]
        [payee] = [cell for cell in cells if cell.value == formula]
        assert payee.data_type == "s"
        assert not [cell for cell in cells if cell.data_type == "f"]
    # The CSV for the bank has no cell types: the name goes as it is (the bank matches it exactly), no apostrophe.
    bank_csv = bytes(BankFile.objects.get(batch=batch, file_format="csv").content).decode("utf-8-sig")
    assert f'"{formula.replace(chr(34), chr(34) * 2)}"' in bank_csv
    assert "'=" not in bank_csv


def test_only_a_finance_officer_or_the_job_closes_a_period_and_a_refusal_changes_nothing(programme_from_day1):
    scene = programme_from_day1
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-C1")
    periods(scene, DAY1)
    period = period_of(scene, DAY1)
    with pytest.raises(ForbiddenError) as caught:
        services.close_period(period=period, actor=scene.personas.auditor, now=after(DAY1))
    assert caught.value.code == "finance_required"
    period.refresh_from_db()
    assert period.status == "open"
    assert not Payable.objects.exists()
    assert not AuditEntry.objects.filter(action="settlement.period.close").exists()
    assert services.can_close(period=period, actor=scene.personas.finance, now=after(DAY1))
    assert not services.can_close(period=period, actor=scene.personas.auditor, now=after(DAY1))
    # Before the period ends (plus the grace) nobody is offered closing it.
    assert not services.can_close(period=period, actor=scene.personas.finance, now=period_bounds(DAY1)[1])
    assert services.close_period(period=period, actor=scene.personas.finance, now=after(DAY1)) is True
    assert not services.can_close(period=period_of(scene, DAY1), actor=scene.personas.finance, now=after(DAY1))


def test_a_batch_is_offered_only_while_payables_wait_for_one(scene, second_finance):
    from huanxin.core.errors import ValidationFailed

    paid_scene(scene, count=1)
    maker = scene.personas.finance
    assert services.prepare_refusal(actor=maker, programme=scene.programme) is None
    assert services.prepare_refusal(actor=scene.personas.auditor, programme=scene.programme).code == "finance_required"
    services.prepare_batch(actor=maker, programme=scene.programme)
    assert services.prepare_refusal(actor=maker, programme=scene.programme).code == "nothing_to_pay"
    with pytest.raises(ValidationFailed) as caught:
        services.prepare_batch(actor=second_finance, programme=scene.programme)
    assert caught.value.code == "nothing_to_pay"
    assert PaymentBatch.objects.count() == 1


def test_queued_payables_of_merchants_without_an_enrolment_offer_no_batch(scene):
    from huanxin.core.errors import ValidationFailed

    paid_scene(scene, count=1)
    services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    Payable.objects.create(
        period=SettlementPeriod.objects.get(programme=scene.programme),
        recipient=make_organisation(),
        redemption_count=1,
        redemptions_fen=9_900,
        amount_fen=9_900,
    )
    assert services.prepare_refusal(actor=scene.personas.finance, programme=scene.programme).code == "nothing_to_pay"
    with pytest.raises(ValidationFailed):
        services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    assert PaymentBatch.objects.count() == 1


def test_approval_and_bank_results_are_offered_only_when_they_can_succeed(scene, second_finance):
    paid_scene(scene, count=1)
    maker = scene.personas.finance
    batch = services.prepare_batch(actor=maker, programme=scene.programme)
    assert services.approve_refusal(actor=maker, batch=batch).code == "four_eyes"
    assert services.approve_refusal(actor=scene.personas.auditor, batch=batch).code == "finance_required"
    assert services.approve_refusal(actor=second_finance, batch=batch) is None
    assert services.import_refusal(actor=maker, batch=batch).code == "batch_not_approved"
    services.approve_batch(actor=second_finance, batch=batch)
    batch.refresh_from_db()
    assert services.approve_refusal(actor=second_finance, batch=batch).code == "batch_not_prepared"
    assert services.import_refusal(actor=maker, batch=batch) is None
    [line] = batch.lines.all()
    amount = f"{line.amount_fen // 100}.{line.amount_fen % 100:02d}"
    content = bank_file([[line.line_id, "成功", amount, "B1", ""]])
    services.import_bank_results(actor=maker, batch=batch, file_name="r.csv", content=content)
    batch.refresh_from_db()
    assert batch.status == "settled"
    # Every line has its result: a further file could only be refused row by row, so it is refused whole.
    assert services.import_refusal(actor=maker, batch=batch).code == "batch_settled"
    with pytest.raises(ConflictError):
        services.import_bank_results(actor=maker, batch=batch, file_name="r.csv", content=content)
    assert BankImport.objects.count() == 1


@pytest.mark.parametrize(
    "content",
    ["行号,结果\n".encode("utf-16"), b"\xff\xfe\x41", b"a,b\n\x00\n"],
)
def test_a_bank_file_in_utf16_or_with_a_nul_is_refused_on_file_and_changes_nothing(scene, second_finance, content):
    paid_scene(scene)
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    statuses, audits = dict(PaymentLine.objects.values_list("line_id", "status")), AuditEntry.objects.count()
    with pytest.raises(ValidationFailed) as caught:
        services.import_bank_results(actor=scene.personas.finance, batch=batch, file_name="r.csv", content=content)
    assert caught.value.errors[0].field == "file"
    assert dict(PaymentLine.objects.values_list("line_id", "status")) == statuses
    assert AuditEntry.objects.count() == audits
