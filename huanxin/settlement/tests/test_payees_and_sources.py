"""Settlement pays any payee from any source: persons and organisations, each source paid once, the bank's
answer handed back to the source through its registered callbacks, merchants exactly as before."""

from __future__ import annotations

import io

import pytest

from huanxin.conftest import api_client_for, client_for, make_organisation
from huanxin.core.errors import ConflictError, ValidationFailed
from huanxin.core.models import AuditEntry
from huanxin.settlement import services, sources
from huanxin.settlement.models import BankFile, BankImport, Payable, Payee, PaymentLine, SettlementPeriod
from huanxin.settlement.services.payables import request_payment
from huanxin.settlement.services.payees import register_payee
from huanxin.settlement.tests.conftest import DAY1, after, sell

pytestmark = pytest.mark.django_db

# A source of this test module, standing for the car subsidies: it records what the bank answered.
HEARD: list[sources.PaymentResult] = []


class Refuse(Exception):
    pass


def _heard(result: sources.PaymentResult) -> None:
    if result.source_ref == "explode":
        raise Refuse(result.source_ref)
    HEARD.append(result)


TEST_GRANT = "test-grant"
sources.register(TEST_GRANT, label="测试补贴", purpose="测试补贴款", on_paid=_heard, on_failed=_heard)


@pytest.fixture(autouse=True)
def _clear_heard():
    HEARD.clear()


def person_payee(scene, *, reference="person:test-1", account="6217000011112222333", name="李明"):
    resident = scene.personas.consumer
    return register_payee(
        reference=reference,
        kind=Payee.Kind.PERSON,
        name=name,
        account_name=name,
        bank_name="建设银行北京分行",
        account_number=account,
        person=resident.person,
        actor=scene.personas.finance,
    )


def company_payee(scene, *, reference="organisation:test-1"):
    company = make_organisation(name="北京拆解有限公司")
    return register_payee(
        reference=reference,
        kind=Payee.Kind.ORGANISATION,
        name=company.name,
        account_name=company.name,
        bank_name="工商银行北京分行",
        account_number="0200 0011 2233 4455 66",
        organisation=company,
        actor=scene.personas.finance,
    )


def ask(scene, payee, ref, amount_fen=2_000_000):
    return request_payment(
        payee=payee,
        programme=scene.programme,
        source_kind=TEST_GRANT,
        source_ref=ref,
        amount_fen=amount_fen,
        actor=scene.personas.finance,
    )


def results_file(rows):
    header = "行号,结果,金额（元）,银行流水号,失败原因\n"
    return (header + "".join(",".join(row) + "\n" for row in rows)).encode()


# ---------------------------------------------------------------- payees


def test_a_person_payee_keeps_the_account_sealed_and_registering_again_updates_it(scene):
    payee = person_payee(scene)
    assert (payee.kind, payee.account_masked) == ("person", "6217***********2333")
    assert "6217000011112222333" not in payee.account_cipher
    assert payee.account_digest
    assert payee.person_id is not None
    created = AuditEntry.objects.filter(action="settlement.payee.create").count()
    # The same details change nothing and write no audit row.
    assert person_payee(scene).pk == payee.pk
    assert AuditEntry.objects.filter(action="settlement.payee.create").count() == created == 1
    assert not AuditEntry.objects.filter(action="settlement.payee.update").exists()
    # A corrected account updates the payee (audited with masks only), it never adds a second one.
    changed = person_payee(scene, account="6217000099998888777")
    assert changed.pk == payee.pk
    assert changed.account_masked == "6217***********8777"
    assert Payee.objects.count() == 1
    [update] = AuditEntry.objects.filter(action="settlement.payee.update")
    assert "6217000099998888777" not in str(update.after)
    assert "6217***********8777" in str(update.after)


def test_a_full_width_account_number_is_stored_as_ascii_digits(scene):
    # Typed on a phone's full-width keyboard: the same account as its ASCII digits, the form the bank reads.
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in "6217000011112222333")
    payee = person_payee(scene, account=full_width)
    assert payee.account_masked == "6217***********2333"
    assert person_payee(scene, account="6217000011112222333").pk == payee.pk
    assert not AuditEntry.objects.filter(action="settlement.payee.update").exists()


@pytest.mark.parametrize(
    ("field", "overrides", "code"),
    [
        ("account_name", {"account_name": "=HYPERLINK(1)"}, "formula_like"),
        ("name", {"name": "@SUM(A1)"}, "formula_like"),
        ("account_number", {"account_number": "12ab"}, "invalid_bank_account"),
        ("bank_name", {"bank_name": " "}, "required"),
        ("kind", {"kind": "robot"}, "invalid_choice"),
        ("reference", {"reference": ""}, "invalid_reference"),
        ("reference", {"reference": "merchant:1:5"}, "reserved_reference"),
        ("account_number", {"account_number": "٦٢١٧٠٠٠٠١١١١٢٢٢٢"}, "invalid_bank_account"),  # Arabic-Indic digits
    ],
)
def test_a_bad_payee_is_refused_on_its_field_and_nothing_is_written(scene, field, overrides, code):
    details = {
        "reference": "person:bad",
        "kind": "person",
        "name": "王芳",
        "account_name": "王芳",
        "bank_name": "中国银行",
        "account_number": "6217000011112222333",
    } | overrides
    with pytest.raises(ValidationFailed) as caught:
        register_payee(actor=scene.personas.finance, **details)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (field, code)
    assert not Payee.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="settlement.payee").exists()


def test_a_person_payee_cannot_name_an_organisation(scene):
    with pytest.raises(ValidationFailed) as caught:
        register_payee(
            reference="person:x",
            kind="person",
            name="王芳",
            account_name="王芳",
            bank_name="中国银行",
            account_number="6217000011112222333",
            organisation=scene.personas.merchant,
            actor=scene.personas.finance,
        )
    assert caught.value.errors[0].code == "invalid_payee"
    assert not Payee.objects.exists()


# ---------------------------------------------------------------- payment requests


def test_a_source_is_paid_once_a_second_request_returns_the_first(scene):
    payee = person_payee(scene)
    first = ask(scene, payee, "application-1")
    assert (first.status, first.amount_fen, first.payee_id, first.period_id) == ("queued", 2_000_000, payee.pk, None)
    again = ask(scene, payee, "application-1")
    assert again.pk == first.pk
    assert Payable.objects.filter(source_kind=TEST_GRANT).count() == 1
    assert AuditEntry.objects.filter(action="settlement.payable.request").count() == 1
    # Asking for the same source with another amount is a caller's bug: refused, nothing changes.
    with pytest.raises(ConflictError) as caught:
        ask(scene, payee, "application-1", amount_fen=1)
    assert caught.value.code == "source_already_requested"
    assert Payable.objects.get(pk=first.pk).amount_fen == 2_000_000


def test_the_database_refuses_a_second_payable_for_one_source(scene):
    from django.db import IntegrityError, transaction

    payee = person_payee(scene)
    ask(scene, payee, "application-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payable.objects.create(
            programme=scene.programme,
            source_kind=TEST_GRANT,
            source_ref="application-1",
            payee=payee,
            amount_fen=5,
        )


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"source_kind": "no-such-source"}, "source_kind", "unknown_source"),
        ({"source_kind": "consumer-subsidy"}, "source_kind", "source_not_requestable"),
        ({"source_ref": ""}, "source_ref", "invalid_source_ref"),
        ({"amount_fen": 0}, "amount_fen", "invalid_amount"),
        ({"amount_fen": True}, "amount_fen", "invalid_amount"),
        ({"amount_fen": 2**63}, "amount_fen", "amount_out_of_range"),
    ],
)
def test_a_bad_payment_request_is_refused_and_writes_nothing(scene, overrides, field, code):
    payee = person_payee(scene)
    request = {"source_kind": TEST_GRANT, "source_ref": "application-9", "amount_fen": 100} | overrides
    with pytest.raises(ValidationFailed) as caught:
        request_payment(payee=payee, programme=scene.programme, actor=scene.personas.finance, **request)
    assert (caught.value.errors[0].field, caught.value.errors[0].code) == (field, code)
    assert not Payable.objects.exists()
    assert not AuditEntry.objects.filter(action="settlement.payable.request").exists()


def test_registering_a_source_twice_differently_is_a_mistake():
    assert sources.register(TEST_GRANT, label="测试补贴", purpose="测试补贴款", on_paid=_heard, on_failed=_heard)
    with pytest.raises(ValueError, match="already registered"):
        sources.register(TEST_GRANT, label="别的", purpose="测试补贴款")
    with pytest.raises(ValueError, match="lowercase"):
        sources.register("Car Subsidy", label="x", purpose="x")
    assert sources.label("consumer-subsidy") == "消费品以旧换新（商户垫资清算）"
    assert sources.label("unregistered-kind") == "unregistered-kind"


# ---------------------------------------------------------------- batches, bank files, results


@pytest.fixture
def mixed_batch(scene, second_finance):
    """A merchant's closed day, a resident's and a company's grant, all in one approved batch."""
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-P1")
    services.ensure_periods(programme=scene.programme, until=DAY1)
    services.close_period(period=SettlementPeriod.objects.get(), now=after(DAY1))
    person = ask(scene, person_payee(scene), "application-1", amount_fen=2_000_000)
    company = ask(scene, company_payee(scene), "application-2", amount_fen=1_500_000)
    batch = services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    lines = {line.payable_id: line for line in batch.lines.all()}
    merchant = Payable.objects.get(source_kind="consumer-subsidy")
    return batch, lines[merchant.pk], lines[person.pk], lines[company.pk]


def test_persons_organisations_and_merchants_are_paid_in_one_maker_checker_batch(scene, mixed_batch):
    batch, merchant, person, company = mixed_batch
    assert (batch.line_count, batch.total_fen) == (3, merchant.amount_fen + 2_000_000 + 1_500_000)
    assert (merchant.payee_name, merchant.purpose) == (scene.enrolment.account_name, services.PURPOSE)
    assert (person.payee_name, person.purpose, person.account_masked) == ("李明", "测试补贴款", "6217***********2333")
    assert (company.payee_name, company.account_masked) == ("北京拆解有限公司", "0200**********5566")
    assert Payable.objects.filter(status="in_batch").count() == 3
    # The bank's file carries every account in full; the CSV keeps names exactly as stored.
    csv_text = bytes(BankFile.objects.get(batch=batch, file_format="csv").content).decode("utf-8-sig")
    assert "6217000011112222333" in csv_text
    assert "020000112233445566" in csv_text
    assert f"{person.line_id},李明,建设银行北京分行,6217000011112222333,20000.00,测试补贴款" in csv_text


def test_the_bank_answer_goes_back_to_the_source_and_a_failure_is_paid_in_the_next_batch(
    scene, mixed_batch, second_finance
):
    batch, merchant, person, company = mixed_batch
    outcome = services.import_bank_results(
        actor=scene.personas.finance,
        batch=batch,
        file_name="r.csv",
        content=results_file(
            [
                [merchant.line_id, "成功", "600.00", "B-1", ""],
                [person.line_id, "成功", "20000.00", "B-2", ""],
                [company.line_id, "失败", "15000.00", "B-3", "户名不符"],
            ]
        ),
    )
    assert outcome.record.accepted == 3
    # Only the source that registered callbacks hears back; the merchant's period needs no word.
    heard = sorted((r.source_ref, r.paid, r.requeued, r.bank_reference, r.failure_reason, r.amount_fen) for r in HEARD)
    assert heard == [
        ("application-1", True, False, "B-2", "", 2_000_000),
        ("application-2", False, True, "B-3", "户名不符", 1_500_000),
    ]
    assert Payable.objects.get(pk=person.payable_id).status == "paid"
    assert Payable.objects.get(pk=company.payable_id).status == "queued"
    # The company corrects its account; the next batch pays the failed payable to the corrected one.
    register_payee(
        reference="organisation:test-1",
        kind="organisation",
        name="北京拆解有限公司",
        account_name="北京拆解有限公司",
        bank_name="工商银行北京分行",
        account_number="0200001122334455999",
        organisation=Payee.objects.get(reference="organisation:test-1").organisation,
        actor=scene.personas.finance,
    )
    retry = services.prepare_batch(actor=second_finance, programme=scene.programme)
    [line] = retry.lines.all()
    assert (line.payable_id, line.account_masked) == (company.payable_id, "0200***********5999")
    assert PaymentLine.objects.get(pk=company.pk).account_masked == "0200**********5566"


def test_a_source_callback_that_fails_records_nothing_of_the_import(scene, mixed_batch, second_finance):
    batch, merchant, person, _company = mixed_batch
    Payable.objects.filter(pk=person.payable_id).update(source_ref="explode")
    content = results_file(
        [[merchant.line_id, "成功", "600.00", "B-1", ""], [person.line_id, "成功", "20000.00", "B-2", ""]]
    )
    with pytest.raises(Refuse):
        services.import_bank_results(actor=scene.personas.finance, batch=batch, file_name="r.csv", content=content)
    assert set(PaymentLine.objects.values_list("status", flat=True)) == {"pending"}
    assert not BankImport.objects.exists()
    assert Payable.objects.filter(status="in_batch").count() == 3


def test_failed_and_unbatched_payments_of_other_sources_show_as_unmatched(scene, mixed_batch):
    from huanxin.settlement.queries import source_unmatched

    batch, _merchant, _person, company = mixed_batch
    services.import_bank_results(
        actor=scene.personas.finance,
        batch=batch,
        file_name="r.csv",
        content=results_file([[company.line_id, "失败", "15000.00", "B-3", "户名不符"]]),
    )
    late = ask(scene, Payee.objects.get(reference="person:test-1"), "application-3", amount_fen=300)
    problems = {(u.kind, u.reference): u.detail for u in source_unmatched()}
    assert problems == {
        ("line", company.line_id): "支付失败：户名不符",
        ("payable", str(late.pk)): "李明 应付 ¥3.00 尚未进入支付批次",
    }
    assert [u.reference for u in source_unmatched(source_kind="consumer-subsidy")] == []


# ---------------------------------------------------------------- API and pages


def test_the_api_lists_payables_with_payee_and_source_and_payees_masked(scene, mixed_batch):
    batch, _merchant, _person, _company = mixed_batch
    client = api_client_for(scene.personas.finance)
    payables = client.get("/api/v1/settlement/payables").json()
    by_source = {p["source_kind"]: p for p in payables if p["source_kind"] != TEST_GRANT}
    grants = sorted((p for p in payables if p["source_kind"] == TEST_GRANT), key=lambda p: p["source_ref"])
    assert [g["source_ref"] for g in grants] == ["application-1", "application-2"]
    assert grants[0]["payee"]["kind"] == "person"
    assert grants[0]["payee"]["account_masked"] == "6217***********2333"
    assert grants[0]["source"] == "测试补贴"
    assert grants[0]["period_id"] is None
    assert grants[0]["recipient"] is None
    consumer = by_source["consumer-subsidy"]
    assert consumer["recipient_id"] == scene.personas.merchant.pk
    assert consumer["payee"]["kind"] == "organisation"
    assert consumer["payee"]["reference"] == f"merchant:{scene.programme.pk}:{scene.personas.merchant.pk}"
    only_persons = client.get("/api/v1/settlement/payables", {"payee_kind": "person"}).json()
    assert [p["source_ref"] for p in only_persons] == ["application-1"]
    payees = client.get("/api/v1/settlement/payees").json()
    assert {p["kind"] for p in payees} == {"person", "organisation"}
    assert "6217000011112222333" not in str(payees)
    lines = client.get(f"/api/v1/settlement/batches/{batch.number}/lines").json()
    assert sorted((x["source_kind"], x["payee_kind"]) for x in lines) == [
        ("consumer-subsidy", "organisation"),
        (TEST_GRANT, "organisation"),
        (TEST_GRANT, "person"),
    ]
    # A merchant's manager sees only its own; payees are for finance readers.
    merchant_client = api_client_for(scene.personas.manager)
    mine = merchant_client.get("/api/v1/settlement/payables").json()
    assert [p["source_kind"] for p in mine] == ["consumer-subsidy"]
    assert merchant_client.get("/api/v1/settlement/payees").status_code == 403
    assert merchant_client.get("/api/v1/settlement/unmatched").status_code == 403


def test_the_finance_pages_show_payee_kind_and_masked_account(scene, mixed_batch):
    batch, _merchant, _person, _company = mixed_batch
    client = client_for(scene.personas.finance)
    page = client.get(f"/finance/batches/{batch.number}/").content.decode()
    assert "个人" in page
    assert "6217***********2333" in page
    assert "6217000011112222333" not in page
    payables = client.get("/finance/payables/").content.decode()
    assert "测试补贴" in payables
    assert "6217***********2333" in payables
    assert "个人" in payables
    assert "6217000011112222333" not in payables
    persons = client.get("/finance/payables/", {"payee_kind": "person"}).content.decode()
    assert "北京拆解有限公司" not in persons
    assert client_for(scene.personas.manager).get("/finance/payables/").status_code == 403


def test_a_spreadsheet_keeps_a_formula_like_stored_name_as_text(scene, second_finance):
    """A payee name stored before the entry rule (here written straight to the row) stays text in the XLSX."""
    from openpyxl import load_workbook

    payee = person_payee(scene)
    formula = "=1+1"
    Payee.objects.filter(pk=payee.pk).update(account_name=formula)
    payee.refresh_from_db()
    ask(scene, payee, "application-1")
    batch = services.approve_batch(
        actor=second_finance, batch=services.prepare_batch(actor=scene.personas.finance, programme=scene.programme)
    )
    content = bytes(BankFile.objects.get(batch=batch, file_format="xlsx").content)
    cells = [cell for row in load_workbook(io.BytesIO(content)).worksheets[0].iter_rows() for cell in row]
    assert [cell.data_type for cell in cells if cell.value == formula] == ["s"]
