"""The durable entry points in real transactions (no test-wrapping atomic block), and the lost-race path."""

import pytest
from django.utils import timezone

from huanxin.catalogue import services
from huanxin.catalogue.models import PriceFiling, ProductImport, ProductModel
from huanxin.catalogue.tests.files import CHINESE_HEADER, csv_bytes
from huanxin.core.errors import ConflictError
from huanxin.core.models import AuditEntry

# serialized_rollback: the flush after a transactional test would otherwise drop the districts loaded by a data
# migration, and later tests (in any app) that need them would fail.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_import_and_price_filing_commit_with_their_audit_rows(personas):
    report = services.import_products(
        actor=personas.admin, file_name="a.csv", content=csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"]])
    )
    product = ProductModel.objects.get()
    filing = services.file_price(
        actor=personas.clerk,
        merchant=personas.merchant,
        product=product,
        price_fen=100,
        effective_from=timezone.localdate(timezone=services.BEIJING),
    )
    assert report.created == 1
    assert list(AuditEntry.objects.order_by("pk").values_list("action", "object_id")) == [
        ("catalogue.products.import", str(report.import_id)),
        ("catalogue.price.file", str(filing.pk)),
    ]


def test_an_import_that_loses_a_race_for_a_new_model_is_a_conflict_and_stores_nothing(personas, monkeypatch):
    content = csv_bytes([CHINESE_HEADER, ["海尔", "BCD-500", "冰箱", "1"], ["海尔", "BCD-600", "冰箱", "2"]])
    services.import_products(actor=personas.admin, file_name="a.csv", content=content)
    audit_rows = AuditEntry.objects.count()
    # As if another import created the same models between this import's read and its write.
    monkeypatch.setattr(services, "_existing_products", lambda keys: {})
    with pytest.raises(ConflictError) as caught:
        services.import_products(actor=personas.admin, file_name="a.csv", content=content)
    assert caught.value.code == "import_conflict"
    assert ProductModel.objects.count() == 2
    assert ProductImport.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows
    assert PriceFiling.objects.count() == 0
