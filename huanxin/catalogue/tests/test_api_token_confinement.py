"""A merchant's token files prices for its own merchant only, even when its holder works for another one."""

import datetime
import json

import pytest

from huanxin.catalogue.models import PriceFiling, ProductModel
from huanxin.conftest import member_of_two_merchants, token_client_for
from huanxin.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_token_files_no_price_for_another_merchant_its_holder_works_for(personas):
    product = ProductModel.objects.create(brand="海尔", model_number="BCD-501", category="fridge", energy_grade=1)
    PriceFiling.objects.create(
        merchant=personas.merchant,
        product=product,
        price_fen=420_000,
        effective_from=datetime.date(2024, 1, 1),
        filed_by=personas.manager,
    )
    holder = member_of_two_merchants(personas.other_merchant, personas.merchant)
    token = token_client_for(holder, personas.other_merchant)
    audit_rows = AuditEntry.objects.count()
    body = {
        "merchant_id": personas.merchant.pk,
        "product_id": product.pk,
        "price_fen": 399_900,
        "effective_from": (datetime.date.today() + datetime.timedelta(days=2)).isoformat(),
    }
    response = token.post("/api/v1/catalogue/prices", json.dumps(body), "application/json")
    assert response.status_code == 403
    assert PriceFiling.objects.count() == 1
    assert AuditEntry.objects.count() == audit_rows
    # The other merchant's filing is not listed to the token either.
    assert token.get("/api/v1/catalogue/prices").json()["count"] == 0
