import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from huanxin.conftest import api_client_for, client_for, token_client_for
from huanxin.settlement import services
from huanxin.settlement.models import BankFile, PaymentLine, SettlementPeriod
from huanxin.settlement.tests.conftest import DAY1, after, sell

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_day(scene):
    sell(scene, price_fen=400_000, on=DAY1, serial="SN-A1")
    sell(scene, price_fen=500_000, on=DAY1, serial="SN-A2")
    services.ensure_periods(programme=scene.programme, until=DAY1)
    services.close_period(period=SettlementPeriod.objects.get(), now=after(DAY1))
    return scene


def test_finance_prepares_over_the_api_and_a_colleague_approves_and_downloads(closed_day, second_finance):
    maker = api_client_for(closed_day.personas.finance)
    created = maker.post(
        "/api/v1/settlement/batches", data={"programme": "cn-appliance-2026"}, content_type="application/json"
    )
    assert created.status_code == 201
    number = created.json()["number"]
    assert created.json()["total_fen"] == 135_000
    own = maker.post(f"/api/v1/settlement/batches/{number}/approve")
    assert own.status_code == 403
    assert BankFile.objects.count() == 0
    checker = api_client_for(second_finance)
    assert checker.post(f"/api/v1/settlement/batches/{number}/approve").json()["status"] == "approved"
    csv_file = checker.get(f"/api/v1/settlement/batches/{number}/file.csv")
    assert csv_file.status_code == 200
    assert "6222021234567890123" in csv_file.content.decode("utf-8-sig")
    lines = checker.get(f"/api/v1/settlement/batches/{number}/lines").json()
    assert "6222021234567890123" not in str(lines)
    assert (
        api_client_for(closed_day.personas.auditor).get(f"/api/v1/settlement/batches/{number}/file.csv").status_code
        == 403
    )


def test_bank_results_upload_over_the_api_reports_each_row(closed_day, second_finance):
    batch = services.prepare_batch(actor=closed_day.personas.finance, programme=closed_day.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    line = batch.lines.get()
    content = f"行号,结果,金额（元）,银行流水号,失败原因\n{line.line_id},成功,1350.00,B1,\nNOPE,成功,1.00,,\n".encode()
    response = api_client_for(closed_day.personas.finance).post(
        f"/api/v1/settlement/batches/{batch.number}/results",
        {"file": SimpleUploadedFile("r.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 200
    assert (response.json()["accepted"], response.json()["refused"]) == (1, 1)
    assert PaymentLine.objects.get().status == "paid"


def test_merchant_statement_and_finance_pages(closed_day, second_finance):
    batch = services.prepare_batch(actor=closed_day.personas.finance, programme=closed_day.programme)
    statement = client_for(closed_day.personas.manager).get("/merchant/statement/").content.decode()
    assert "¥1,350.00" in statement
    assert "支付中" in statement
    finance = client_for(second_finance)
    assert "时限看板" in finance.get("/finance/").content.decode()
    page = finance.get(f"/finance/batches/{batch.number}/").content.decode()
    assert "复核通过" in page
    assert "6222***********0123" in page
    period = SettlementPeriod.objects.get()
    recon = finance.get(f"/finance/periods/{period.pk}/reconciliation/").content.decode()
    assert "未匹配项" in recon
    assert recon.count("¥600.00") == 1
    xlsx = finance.get(f"/finance/periods/{period.pk}/reconciliation/?format=xlsx")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    rows = list(book["对账明细"].iter_rows(values_only=True))
    assert rows[0][0] == "核销编号"
    assert len(rows) == 3
    assert client_for(closed_day.personas.clerk).get("/finance/").status_code == 403


def test_the_sla_board_flags_periods_past_thirty_working_days(closed_day):
    from huanxin.settlement import queries

    due = queries.period_deadlines(DAY1 + datetime.timedelta(days=10))
    assert [d.overdue for d in due] == [False]
    late = queries.period_deadlines(DAY1 + datetime.timedelta(days=60))
    assert [d.overdue for d in late] == [True]
    exposure = queries.prefunded_outstanding()
    assert exposure[0].outstanding_fen == 135_000


def test_the_finance_pages_offer_only_actions_that_can_succeed_now(closed_day, second_finance):
    import re

    from huanxin.settlement.tests.conftest import DAY2

    def actions(client, url):
        return re.findall(r'data-action="([a-z-]+)"', client.get(url).content.decode())

    maker = client_for(closed_day.personas.finance)
    auditor = client_for(closed_day.personas.auditor)
    # A closed period and an ended open one: finance officers may close it, auditors only read.
    services.ensure_periods(programme=closed_day.programme, until=DAY2)
    assert actions(maker, "/finance/periods/") == ["close-period"]
    assert actions(auditor, "/finance/periods/") == []
    assert actions(maker, "/finance/batches/") == ["prepare-batch"]
    assert actions(auditor, "/finance/batches/") == []
    batch = services.prepare_batch(actor=closed_day.personas.finance, programme=closed_day.programme)
    assert actions(maker, "/finance/batches/") == []
    assert actions(maker, f"/finance/batches/{batch.number}/") == []
    assert actions(client_for(second_finance), f"/finance/batches/{batch.number}/") == ["approve-batch"]
    services.approve_batch(actor=second_finance, batch=batch)
    assert actions(maker, f"/finance/batches/{batch.number}/") == ["download-file", "download-file", "import-results"]
    # The auditor reads the batch; payment files (full account numbers) are not offered to them.
    assert actions(auditor, f"/finance/batches/{batch.number}/") == []


def test_an_auditor_cannot_close_a_period_from_the_page(closed_day):
    from huanxin.settlement.tests.conftest import DAY2

    services.ensure_periods(programme=closed_day.programme, until=DAY2)
    period = SettlementPeriod.objects.get(status="open")
    response = client_for(closed_day.personas.auditor).post("/finance/periods/", {"period": period.pk}, follow=True)
    assert "只有财政人员可以结算" in response.content.decode()
    period.refresh_from_db()
    assert period.status == "open"


def test_reconciliation_states_unpaid_amounts_in_yuan(closed_day):
    period = SettlementPeriod.objects.get()
    page = client_for(closed_day.personas.finance).get(f"/finance/periods/{period.pk}/reconciliation/").content.decode()
    assert "应付 ¥1,350.00 尚未进入支付批次" in page
    assert "135000 分" not in page


def test_a_merchant_exports_its_statement_and_only_its_own(closed_day, second_finance):
    import csv

    from openpyxl import load_workbook

    from huanxin.accounts.models import Role
    from huanxin.conftest import make_member, make_organisation

    batch = services.prepare_batch(actor=closed_day.personas.finance, programme=closed_day.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    manager = client_for(closed_day.personas.manager)
    response = manager.get("/merchant/statement/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["清算周期", "项目", "核销笔数"]
    assert len(rows) == 2
    # 2 sales, 600 + 750 元 of subsidy, nothing clawed back or carried, 1,350 元 owed, in a batch.
    assert rows[1][1:10] == ["cn-appliance-2026", "2", "1350.00", "0", "0.00", "0.00", "0.00", "1350.00", "支付中"]
    assert f"批次 {batch.pk} 等待银行回盘" in rows[1][12]
    book = load_workbook(io.BytesIO(manager.get("/merchant/statement/", {"format": "xlsx"}).content), read_only=True)
    sheet_rows = list(book["结算单"].iter_rows(values_only=True))
    assert [["" if cell is None else cell for cell in row] for row in sheet_rows] == rows
    outsider = make_member(Role.MERCHANT_MANAGER, make_organisation())
    theirs = client_for(outsider).get(
        "/merchant/statement/", {"format": "csv", "merchant": closed_day.personas.merchant.pk}
    )
    assert theirs.content.decode("utf-8-sig").strip().count("\n") == 0
    assert client_for(closed_day.personas.reviewer).get("/merchant/statement/", {"format": "csv"}).status_code == 403


@pytest.mark.parametrize("file_format", ["pdf", "\x00", "XLSX "])
def test_an_unknown_statement_format_is_refused_not_answered_with_the_page(closed_day, file_format):
    response = client_for(closed_day.personas.manager).get("/merchant/statement/", {"format": file_format})
    # A NUL is refused at the boundary for every page (400), before the view reads the format.
    nul = "\x00" in file_format
    assert response.status_code == (400 if nul else 422)
    assert ("不能包含空字符" if nul else "导出格式应为 xlsx 或 csv") in response.content.decode()


def test_bank_files_and_finance_pages_are_never_cached(closed_day, second_finance):
    batch = services.prepare_batch(actor=closed_day.personas.finance, programme=closed_day.programme)
    services.approve_batch(actor=second_finance, batch=batch)
    page = client_for(second_finance)
    till = token_client_for(closed_day.personas.manager, closed_day.personas.merchant)
    responses = {
        "page": page.get(f"/finance/batches/{batch.number}/"),
        "board": page.get("/finance/"),
        "csv": page.get(f"/finance/batches/{batch.number}/file.csv"),
        "xlsx": page.get(f"/finance/batches/{batch.number}/file.xlsx"),
        "api csv": api_client_for(second_finance).get(f"/api/v1/settlement/batches/{batch.number}/file.csv"),
        "statement": client_for(closed_day.personas.manager).get("/merchant/statement/"),
        "token": till.get("/api/v1/settlement/payables"),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert "private" in response["Cache-Control"], name
