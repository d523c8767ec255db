import csv
import datetime
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from huanxin.accounts.models import Role
from huanxin.conftest import client_for, make_member, make_organisation
from huanxin.subsidies import services
from huanxin.subsidies.models import Redemption

pytestmark = pytest.mark.django_db

SERIALS = iter(f"SN-HIST-{n:03d}" for n in range(1000))


def sell(scene, *, on: datetime.date, price_fen: int = 400_000) -> Redemption:
    qualification = services.claim_qualification(
        actor=scene.resident(), programme_code="cn-appliance-2026", category="fridge"
    )
    redemption = services.redeem(
        actor=scene.personas.clerk,
        merchant=scene.personas.merchant,
        store_id=scene.store.pk,
        code=qualification.code,
        product_id=scene.fridge.pk,
        serial=next(SERIALS),
        price_fen=price_fen,
    ).redemption
    # Noon Beijing time on the given day; 23:59 would test the day boundary below.
    moment = datetime.datetime.combine(on, datetime.time(12), timezone.get_default_timezone())
    Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=moment)
    redemption.refresh_from_db()
    return redemption


@pytest.fixture
def history(scene):
    today = timezone.localdate()
    days = [today - datetime.timedelta(days=n) for n in (0, 3, 10, 40)]
    sales = {day: sell(scene, on=day) for day in days}
    # A sale at 23:30 Beijing time belongs to that Beijing day, not to the next UTC one.
    late = sell(scene, on=today - datetime.timedelta(days=5))
    Redemption.objects.filter(pk=late.pk).update(
        redeemed_at=datetime.datetime.combine(
            today - datetime.timedelta(days=5), datetime.time(23, 30), timezone.get_default_timezone()
        )
    )
    return today, sales, late


def test_the_history_lists_the_sales_of_the_chosen_days_only(scene, history):
    today, sales, late = history
    client = client_for(scene.personas.clerk)
    start, end = today - datetime.timedelta(days=5), today - datetime.timedelta(days=3)
    page = client.get("/merchant/sales/", {"start": start.isoformat(), "end": end.isoformat()})
    assert page.status_code == 200
    shown = [r.pk for r in page.context["page"]]
    assert shown == [sales[today - datetime.timedelta(days=3)].pk, late.pk]
    # Without dates: the last 30 days.
    default = client.get("/merchant/sales/")
    assert default.context["count"] == 4
    assert sales[today - datetime.timedelta(days=40)].pk not in [r.pk for r in default.context["page"]]
    # The date boxes show that range rather than standing empty.
    html = default.content.decode()
    assert f'value="{(today - datetime.timedelta(days=29)).isoformat()}"' in html
    assert f'value="{today.isoformat()}"' in html


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"start": "2026-13-01"}, "start", "invalid"),
        ({"end": "yesterday"}, "end", "invalid"),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "end", "end_before_start"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "end", "range_too_long"),
        ({"status": "lost"}, "status", "invalid_choice"),
    ],
)
def test_bad_filters_are_field_errors_and_nothing_is_listed_or_exported(scene, history, query, field, code):
    client = client_for(scene.personas.clerk)
    page = client.get("/merchant/sales/", query)
    assert page.status_code == 422
    assert code in [e.code for e in page.context["form"].errors.as_data()[field]]
    assert "page" not in page.context
    export = client.get("/merchant/sales/export.csv", query)
    assert export.status_code == 422
    assert "Content-Disposition" not in export


def test_the_export_holds_exactly_the_filtered_rows(scene, history):
    today, sales, _ = history
    returned = sales[today - datetime.timedelta(days=3)]
    services.record_return(
        actor=scene.personas.clerk, redemption=returned, kind="partial", new_price_fen=300_000, reason="差价"
    )
    client = client_for(scene.personas.clerk)
    query = {"start": (today - datetime.timedelta(days=10)).isoformat(), "end": today.isoformat()}
    expected = [r.pk for r in client.get("/merchant/sales/", query).context["page"]]
    assert len(expected) == 4
    response = client.get("/merchant/sales/export.csv", query)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "核销编号"
    assert [int(row[0]) for row in rows[1:]] == expected
    line = next(row for row in rows if row[0] == str(returned.pk))
    # price, subsidy, clawed back, customer paid, refunded to the customer
    assert line[7:12] == ["4000.00", "600.00", "150.00", "3400.00", "850.00"]
    workbook = load_workbook(io.BytesIO(client.get("/merchant/sales/export.xlsx", query).content))
    sheet_rows = list(workbook.active.iter_rows(values_only=True))
    assert [int(row[0]) for row in sheet_rows[1:]] == expected
    only_partial = client.get("/merchant/sales/export.csv", {**query, "status": "partial"})
    assert [row[0] for row in csv.reader(io.StringIO(only_partial.content.decode("utf-8-sig")))][1:] == [
        str(returned.pk)
    ]


def test_a_merchant_sees_and_exports_only_its_own_sales(scene, history):
    other = make_organisation()
    outsider = make_member(Role.MERCHANT_CLERK, other)
    client = client_for(outsider)
    # Asking for another merchant's id falls back to the clerk's own merchant.
    page = client.get("/merchant/sales/", {"merchant": scene.personas.merchant.pk})
    assert page.context["merchant"] == other
    assert page.context["count"] == 0
    export = client.get("/merchant/sales/export.csv", {"merchant": scene.personas.merchant.pk})
    assert export.content.decode("utf-8-sig").strip().count("\n") == 0
    assert client_for(scene.resident()).get("/merchant/sales/").status_code == 403
    assert client_for(scene.personas.reviewer).get("/merchant/sales/export.xlsx").status_code == 403


def test_the_history_page_costs_the_same_queries_for_many_sales(scene, django_assert_max_num_queries):
    today = timezone.localdate()
    client = client_for(scene.personas.clerk)
    sell(scene, on=today)
    with django_assert_max_num_queries(12) as few:
        client.get("/merchant/sales/")
    for _ in range(8):
        sell(scene, on=today)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/merchant/sales/")
    assert page.context["count"] == 9
