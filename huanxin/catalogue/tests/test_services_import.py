import pytest

from huanxin.catalogue import services
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES
from huanxin.catalogue.models import ProductImport, ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, ENGLISH_HEADER, csv_bytes, xlsx_bytes
from huanxin.core.errors import ForbiddenError, ValidationFailed
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db

GOOD = [
    ["海尔", "BCD-500WLHTD", "冰箱", "1", "", "CEL-2023-0001", "海尔冰箱 500升"],
    ["格力", "kfr-35gw/nhaa1bg", "ac", "2", "", "", ""],
    ["小米", "Xiaomi 14", "手机", "", "", "", "小米14"],
]


def products():
    return sorted(
        ProductModel.objects.values_list(
            "brand", "model_number", "category", "energy_grade", "water_grade", "label_number", "name"
        )
    )


STORED_GOOD = [
    ("小米", "XIAOMI 14", "phone", None, None, "", "小米14"),
    ("格力", "KFR-35GW/NHAA1BG", "ac", 2, None, "", ""),
    ("海尔", "BCD-500WLHTD", "fridge", 1, None, "CEL-2023-0001", "海尔冰箱 500升"),
]


def run(actor, content, name="产品.csv"):
    return services.import_products(actor=actor, file_name=name, content=content)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("产品.csv", csv_bytes([CHINESE_HEADER, *GOOD], bom=True)),
        ("产品.csv", csv_bytes([CHINESE_HEADER, *GOOD], encoding="gb18030")),
        ("products.csv", csv_bytes([ENGLISH_HEADER, *GOOD])),
        ("产品.xlsx", xlsx_bytes([CHINESE_HEADER, *GOOD])),
        ("products.xlsx", xlsx_bytes([ENGLISH_HEADER, *GOOD])),
    ],
    ids=["csv-utf8-bom", "csv-gb18030", "csv-english", "xlsx-chinese", "xlsx-english"],
)
def test_every_supported_file_imports_the_same_products(personas, name, content):
    report = run(personas.admin, content, name)
    assert (report.total_rows, report.created, report.updated, report.unchanged, report.refused) == (3, 3, 0, 0, 0)
    assert report.errors == ()
    assert products() == STORED_GOOD
    record = ProductImport.objects.get()
    assert (record.file_name, record.file_format, record.file_size) == (name, name.rsplit(".", 1)[1], len(content))
    assert record.uploaded_by == personas.admin


def test_bad_rows_are_refused_with_reasons_and_good_rows_kept(personas):
    content = csv_bytes(
        [
            CHINESE_HEADER,
            GOOD[0],
            ["", "X-1", "冰箱", "1"],
            ["美的", "", "洗衣机", "1"],
            ["美的", "MD100", "", "1"],
            ["美的", "MD200", "烤面包机", "1"],
            ["美的", "MD300", "洗衣机", "6"],
            ["美的", "MD400", "洗衣机", "1", "0"],
            ["海尔", "bcd-500wlhtd", "冰箱", "1"],
            GOOD[1],
        ]
    )
    report = run(personas.reviewer, content)
    assert (report.total_rows, report.created, report.refused) == (9, 2, 7)
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (3, "brand", "missing_brand", "品牌不能为空"),
        (4, "model_number", "missing_model_number", "型号不能为空"),
        (5, "category", "missing_category", "品类不能为空"),
        (6, "category", "unknown_category", "品类“烤面包机”不在补贴品类目录中，请填写品类代码或中文名称"),
        (7, "energy_grade", "invalid_energy_grade", "能效等级应为1至5级，没有则留空"),
        (8, "water_grade", "invalid_water_grade", "水效等级应为1至5级，没有则留空"),
        (9, "model_number", "duplicate_in_file", "品牌和型号与第 2 行重复，同一文件中每个型号只能出现一次"),
    ]
    assert products() == [STORED_GOOD[1], STORED_GOOD[2]]
    stored = services.ImportReport.of(ProductImport.objects.get(pk=report.import_id))
    assert stored == report


def test_reimporting_the_same_file_changes_nothing_and_audits_only_the_import(personas):
    content = xlsx_bytes([CHINESE_HEADER, *GOOD])
    run(personas.admin, content, "a.xlsx")
    before = list(ProductModel.objects.values_list("pk", "updated_at").order_by("pk"))
    audit_rows = AuditEntry.objects.count()
    report = run(personas.admin, content, "a.xlsx")
    assert (report.created, report.updated, report.unchanged, report.refused) == (0, 0, 3, 0)
    assert list(ProductModel.objects.values_list("pk", "updated_at").order_by("pk")) == before
    assert AuditEntry.objects.count() == audit_rows + 1
    entry = AuditEntry.objects.first()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "catalogue.products.import",
        "catalogue.productimport",
        str(report.import_id),
    )
    assert entry.actor == personas.admin
    assert {key: entry.after[key] for key in ("total_rows", "created", "updated", "unchanged", "refused")} == {
        "total_rows": 3,
        "created": 0,
        "updated": 0,
        "unchanged": 3,
        "refused": 0,
    }


def test_the_first_import_writes_one_audit_row_not_one_per_product(personas):
    run(personas.admin, csv_bytes([CHINESE_HEADER, *GOOD]))
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["catalogue.products.import"]


def test_a_changed_row_updates_the_product_and_audits_before_and_after(personas):
    run(personas.admin, csv_bytes([CHINESE_HEADER, *GOOD]))
    haier = ProductModel.objects.get(brand="海尔")
    changed = [["海尔", "bcd-500wlhtd", "fridge", "2", "1", "CEL-2023-0001", "海尔冰箱 500升"], GOOD[1], GOOD[2]]
    report = run(personas.reviewer, csv_bytes([ENGLISH_HEADER, *changed]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    haier.refresh_from_db()
    assert (haier.energy_grade, haier.water_grade) == (2, 1)
    assert ProductModel.objects.count() == 3
    update = AuditEntry.objects.get(action="catalogue.product.update")
    assert (update.object_id, update.actor) == (str(haier.pk), personas.reviewer)
    assert update.before == {"energy_grade": 1, "water_grade": None}
    assert update.after == {"energy_grade": 2, "water_grade": 1, "import": report.import_id}


def test_a_too_large_file_is_refused_and_changes_nothing(personas):
    run(personas.admin, csv_bytes([CHINESE_HEADER, *GOOD]))
    audit_rows = AuditEntry.objects.count()
    big = csv_bytes([CHINESE_HEADER, ["海尔", "NEW-1", "冰箱", "1"]]) + b" " * MAX_FILE_BYTES
    with pytest.raises(ValidationFailed) as caught:
        run(personas.admin, big)
    assert caught.value.errors[0].as_dict() == {
        "field": "file",
        "code": "file_too_large",
        "message": "文件大小超过 20 MB，请拆分为多个文件分批导入",
    }
    assert ProductModel.objects.count() == 3
    assert not ProductModel.objects.filter(model_number="NEW-1").exists()
    assert ProductImport.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("a.csv", csv_bytes([["品牌", "名称"], ["海尔", "冰箱"]]), "missing_columns"),
        ("a.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 64, "unsupported_format"),
        ("a.csv", csv_bytes([CHINESE_HEADER]), "no_rows"),
    ],
)
def test_an_unreadable_file_is_refused_whole_and_nothing_is_stored(personas, name, content, code):
    with pytest.raises(ValidationFailed) as caught:
        run(personas.admin, content, name)
    assert (caught.value.code, caught.value.errors[0].field) == (code, "file")
    assert ProductModel.objects.count() == 0
    assert ProductImport.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize("persona", ["clerk", "manager", "consumer", "finance", "auditor", "outsider"])
def test_only_administrators_and_reviewers_import(personas, persona):
    with pytest.raises(ForbiddenError) as caught:
        run(getattr(personas, persona), csv_bytes([CHINESE_HEADER, *GOOD]))
    assert caught.value.code == "import_forbidden"
    assert ProductModel.objects.count() == 0
    assert ProductImport.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_the_client_s_folder_is_not_kept_in_the_file_name(personas):
    report = run(personas.admin, csv_bytes([CHINESE_HEADER, *GOOD]), "C:\\Users\\王\\Desktop\\目录.csv")
    assert report.file_name == "目录.csv"


def test_ten_thousand_rows_import_in_a_bounded_number_of_queries(personas, django_assert_max_num_queries):
    # Batched reads and writes: about 20 lookups and 20–100 inserts (SQLite caps parameters), never one per row.
    rows = [[f"品牌{i % 50}", f"M-{i:05d}", "tv", str(i % 5 + 1)] for i in range(10_000)]
    content = csv_bytes([CHINESE_HEADER[:4], *rows])
    with django_assert_max_num_queries(150):
        report = run(personas.admin, content)
    assert (report.total_rows, report.created) == (10_000, 10_000)
    rows[0][3] = "5" if rows[0][3] != "5" else "4"
    report = run(personas.admin, csv_bytes([CHINESE_HEADER[:4], *rows]))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 9_999)
