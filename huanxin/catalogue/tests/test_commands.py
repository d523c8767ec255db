import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook

from huanxin.catalogue.models import ProductImport, ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes

pytestmark = pytest.mark.django_db


def test_the_command_imports_through_the_same_service_and_saves_the_report(personas, tmp_path):
    source = tmp_path / "目录.csv"
    source.write_bytes(csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"], ["海尔", "X", "烤箱"]]))
    report = tmp_path / "report.xlsx"
    out = io.StringIO()
    call_command(
        "import_products", str(source), "--actor", personas.admin.username, "--report", str(report), stdout=out
    )
    record = ProductImport.objects.get()
    assert out.getvalue().splitlines() == [
        f"导入 #{record.pk}：数据行 2，新增 1，更新 0，未变 0，拒绝 1",
        "  第 3 行 品类：品类“烤箱”不在补贴品类目录中，请填写品类代码或中文名称（unknown_category）",
        f"报告已保存：{report}",
    ]
    assert list(ProductModel.objects.values_list("model_number", flat=True)) == ["BCD-500"]
    assert load_workbook(report)["拒绝的行"]["C2"].value == "unknown_category"


def test_the_command_refuses_an_actor_who_may_not_import(personas, tmp_path):
    source = tmp_path / "目录.csv"
    source.write_bytes(csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"]]))
    with pytest.raises(CommandError, match="只有系统管理员和审核人员可以导入产品目录"):
        call_command("import_products", str(source), "--actor", personas.clerk.username)
    assert ProductModel.objects.count() == 0
