import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from huanxin.accounts.models import Role
from huanxin.catalogue import services
from huanxin.catalogue.models import PriceFiling, ProductImport, ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes
from huanxin.conftest import client_for, make_member
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def fridge(db):
    return ProductModel.objects.create(
        brand="海尔", model_number="BCD-500", category="fridge", energy_grade=1, water_grade=2, name="海尔冰箱500升"
    )


def today():
    return timezone.localdate(timezone=services.BEIJING)


def test_the_public_catalogue_page_searches_in_chinese(fridge):
    ProductModel.objects.create(brand="格力", model_number="KFR-35GW", category="ac", energy_grade=3)
    html = Client().get("/catalogue/?q=海尔").content.decode()
    assert "<h1>产品目录</h1>" in html
    assert "找到 1 个型号" in html
    assert '<span class="mono">BCD-500</span>' in html
    assert "KFR-35GW" not in html
    assert '<span class="grade grade-1" title="能效1级">1级</span>' in html
    assert "导入产品目录" not in html
    assert "价格备案" not in html
    html = Client().get("/catalogue/?category=ac").content.decode()
    assert ("KFR-35GW" in html, '<span class="mono">BCD-500</span>' in html) == (True, False)


def test_the_catalogue_is_in_the_navigation_for_everyone(fridge):
    assert '<a href="/catalogue/">产品目录</a>' in Client().get("/").content.decode()


def test_the_list_page_offers_import_to_staff_and_filing_to_merchants(personas, fridge):
    assert "导入产品目录" in client_for(personas.reviewer).get("/catalogue/").content.decode()
    assert "价格备案" in client_for(personas.clerk).get("/catalogue/").content.decode()


def test_product_detail_shows_grades_and_the_merchant_s_own_price_history(personas, fridge):
    other_clerk = make_member(Role.MERCHANT_CLERK, personas.other_merchant)
    services.file_price(
        actor=personas.manager, merchant=personas.merchant, product=fridge, price_fen=399_900, effective_from=today()
    )
    services.file_price(
        actor=other_clerk, merchant=personas.other_merchant, product=fridge, price_fen=111_100, effective_from=today()
    )
    public = Client().get(f"/catalogue/products/{fridge.pk}/").content.decode()
    assert "能效等级" in public
    assert "水效等级" in public
    assert '<span class="grade grade-2" title="水效2级">2级</span>' in public
    assert "价格备案记录" not in public
    own = client_for(personas.clerk).get(f"/catalogue/products/{fridge.pk}/").content.decode()
    assert "价格备案记录" in own
    assert "¥3,999.00" in own
    assert "¥1,111.00" not in own
    assert f"/catalogue/prices/?product={fridge.pk}" in own
    assert Client().get("/catalogue/products/999999/").status_code == 404


def test_the_import_page_shows_the_report_with_the_refused_rows(personas):
    content = csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"], ["美的", "MD-1", "烤面包机", "1"]], bom=True)
    client = client_for(personas.admin)
    assert "上传并导入" in client.get("/catalogue/imports/").content.decode()
    response = client.post("/catalogue/imports/", {"file": SimpleUploadedFile("目录.csv", content)}, follow=True)
    html = response.content.decode()
    record = ProductImport.objects.get()
    assert response.redirect_chain == [(f"/catalogue/imports/{record.pk}/", 302)]
    # Some rows were refused: a warning, not a green success banner.
    assert '<p class="message warning" role="status">导入完成：新增 1 条，更新 0 条，未变 0 条，拒绝 1 行' in html
    assert "<h1>导入报告</h1>" in html
    assert '<td class="num">3</td><td>品类</td>' in html
    assert "品类“烤面包机”不在补贴品类目录中" in html
    assert 'data-code="unknown_category"' in html
    assert f"/catalogue/imports/{record.pk}/report.xlsx" in html


def test_the_report_downloads_as_xlsx_with_values_kept_as_text(personas):
    content = csv_bytes([CHINESE_HEADER, ["海尔", "A-1", '=HYPERLINK("http://x")', "1"]])
    report = services.import_products(actor=personas.admin, file_name="a.csv", content=content)
    response = client_for(personas.reviewer).get(f"/catalogue/imports/{report.import_id}/report.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    rows = list(workbook["拒绝的行"].iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "原因代码", "原因", "原值")
    assert rows[1][:3] == (2, "品类", "unknown_category")
    assert rows[1][4] == '=HYPERLINK("http://x")'
    assert workbook["拒绝的行"]["E2"].data_type == "s"
    summary = dict(workbook["汇总"].iter_rows(values_only=True))
    assert (summary["文件名"], summary["新增"], summary["拒绝"]) == ("a.csv", 0, 1)


def test_an_unreadable_upload_is_shown_on_the_file_field_and_stores_nothing(personas):
    response = client_for(personas.admin).post(
        "/catalogue/imports/", {"file": SimpleUploadedFile("a.csv", csv_bytes([["品牌", "名称"], ["海尔", "x"]]))}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'data-code="missing_columns"' in html
    assert "表头缺少必需的列：型号、品类" in html
    assert ProductImport.objects.count() == 0


@pytest.mark.parametrize("persona", ["clerk", "manager", "consumer", "auditor"])
def test_the_import_page_is_for_administrators_and_reviewers(personas, persona):
    client = client_for(getattr(personas, persona))
    assert client.get("/catalogue/imports/").status_code == 403
    response = client.post(
        "/catalogue/imports/", {"file": SimpleUploadedFile("a.csv", csv_bytes([CHINESE_HEADER, ["海", "M", "tv"]]))}
    )
    assert response.status_code == 403
    assert ProductModel.objects.count() == 0


def test_import_reports_are_not_shown_to_merchants(personas):
    report = services.import_products(
        actor=personas.admin, file_name="a.csv", content=csv_bytes([CHINESE_HEADER, ["海尔", "M", "tv"]])
    )
    assert client_for(personas.clerk).get(f"/catalogue/imports/{report.import_id}/").status_code == 404
    assert client_for(personas.clerk).get(f"/catalogue/imports/{report.import_id}/report.xlsx").status_code == 404
    assert client_for(personas.auditor).get(f"/catalogue/imports/{report.import_id}/").status_code == 200


def test_a_clerk_finds_a_product_and_files_a_price_in_yuan(personas, fridge):
    client = client_for(personas.clerk)
    page = client.get("/catalogue/prices/?q=bcd").content.decode()
    assert "<h1>价格备案</h1>" in page
    assert f'name="product" value="{fridge.pk}"' in page
    assert "朝阳家电" in page
    picker = client.get("/catalogue/prices/products/?q=海尔").content.decode()
    assert f'value="{fridge.pk}"' in picker
    response = client.post(
        "/catalogue/prices/",
        {
            "merchant": personas.merchant.pk,
            "product": fridge.pk,
            "price": "3,999.5",
            "effective_from": today().isoformat(),
            "note": "",
        },
        follow=True,
    )
    filing = PriceFiling.objects.get()
    assert (filing.price_fen, filing.merchant, filing.filed_by) == (399_950, personas.merchant, personas.clerk)
    html = response.content.decode()
    assert f"已备案：海尔 BCD-500 自 {today():%Y-%m-%d} 起 ¥3,999.50" in html
    assert '<td class="num">¥3,999.50</td>' in html


@pytest.mark.parametrize(
    ("price", "days", "field_code"),
    [("3999.999", 0, "invalid_amount"), ("0", 0, "invalid_price"), ("100", -1, "effective_in_past")],
)
def test_a_refused_filing_shows_the_reason_and_stores_nothing(personas, fridge, price, days, field_code):
    response = client_for(personas.manager).post(
        "/catalogue/prices/",
        {
            "merchant": personas.merchant.pk,
            "product": fridge.pk,
            "price": price,
            "effective_from": (today() + datetime.timedelta(days=days)).isoformat(),
        },
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'data-code="{field_code}"' in html
    # The chosen product stays chosen so the merchant only fixes what was wrong.
    assert f'value="{fridge.pk}" checked' in html
    assert PriceFiling.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_a_price_the_service_refuses_is_shown_on_the_price_field(personas, fridge):
    # The service calls the field price_fen; the page must put its refusal next to "price".
    response = client_for(personas.manager).post(
        "/catalogue/prices/",
        {
            "merchant": personas.merchant.pk,
            "product": fridge.pk,
            "price": "1,000,000,001",
            "effective_from": today().isoformat(),
        },
    )
    assert response.status_code == 422
    errors = response.context["form"].errors.as_data()
    assert [error.code for error in errors["price"]] == ["price_too_large"]
    assert "__all__" not in errors
    assert PriceFiling.objects.count() == 0


def test_a_filing_without_a_product_asks_for_one(personas, fridge):
    response = client_for(personas.manager).post(
        "/catalogue/prices/", {"merchant": personas.merchant.pk, "price": "100", "effective_from": today().isoformat()}
    )
    assert response.status_code == 422
    assert "请先搜索并选择产品型号" in response.content.decode()


def test_a_merchant_cannot_file_for_another_merchant_through_the_form(personas, fridge):
    response = client_for(personas.clerk).post(
        "/catalogue/prices/",
        {"merchant": personas.other_merchant.pk, "product": fridge.pk, "price": "1", "effective_from": today()},
    )
    assert response.status_code == 422
    assert 'data-code="invalid_choice"' in response.content.decode()
    assert PriceFiling.objects.count() == 0


@pytest.mark.parametrize("persona", ["reviewer", "consumer", "admin"])
def test_the_price_page_is_for_merchant_members(personas, persona):
    assert client_for(getattr(personas, persona)).get("/catalogue/prices/").status_code == 403
    assert client_for(getattr(personas, persona)).get("/catalogue/prices/products/?q=a").status_code == 403


def test_the_list_page_query_count_does_not_grow_with_products(django_assert_max_num_queries, db):
    ProductModel.objects.bulk_create(
        ProductModel(brand="品牌", model_number=f"M{i}", category="tv", energy_grade=1) for i in range(60)
    )
    with django_assert_max_num_queries(6):
        assert Client().get("/catalogue/").status_code == 200


def test_the_price_rules_page_shows_every_category_and_administrators_change_them(personas):
    from huanxin.catalogue.models import CategoryPriceRule
    from huanxin.core.models import AuditEntry

    assert client_for(personas.clerk).get("/catalogue/price-rules/").status_code == 403
    reviewer = client_for(personas.reviewer).get("/catalogue/price-rules/").content.decode()
    assert "¥80,000.00" in reviewer
    assert 'name="ceiling"' not in reviewer  # reviewers read the rules; administrators change them
    assert (
        client_for(personas.reviewer)
        .post("/catalogue/price-rules/", {"category": "fridge", "ceiling": "1", "above_filed_price": "hold"})
        .status_code
        == 403
    )
    admin = client_for(personas.admin)
    refused = admin.post("/catalogue/price-rules/", {"category": "fridge", "ceiling": "0", "above_filed_price": "hold"})
    assert refused.status_code == 422
    assert 'data-code="invalid_amount"' in refused.content.decode()
    response = admin.post(
        "/catalogue/price-rules/", {"category": "fridge", "ceiling": "30,000", "above_filed_price": "hold"}
    )
    assert response.status_code == 302
    rule = CategoryPriceRule.objects.get(category="fridge")
    assert (rule.ceiling_fen, rule.above_filed_price) == (3_000_000, "hold")
    assert AuditEntry.objects.filter(action="catalogue.price_rule.set").count() == 1
