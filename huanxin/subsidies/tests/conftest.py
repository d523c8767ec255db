"""A running trade-in scene: an open programme with a small budget, an enrolled merchant, products."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from huanxin.catalogue.models import PriceFiling, ProductModel
from huanxin.conftest import Personas, make_member, make_person
from huanxin.core import crypto
from huanxin.policy import services as policy_services
from huanxin.policy.models import Programme
from huanxin.subsidies import services
from huanxin.subsidies.models import Enrolment, Store

FRIDGE_CAP = 150_000  # cn-appliance-2026: 15 %, cap 1,500 元, grade 1 only
FILED_PRICE = 2_000_000


@dataclass
class Scene:
    personas: Personas
    programme: Programme
    store: Store
    enrolment: Enrolment
    fridge: ProductModel
    fridge_grade2: ProductModel
    tv: ProductModel

    def resident(self, district: str = "110105") -> Any:
        """A new verified resident with an account."""
        from huanxin.accounts.models import Role

        user = make_member(Role.CONSUMER)
        make_person(user=user, district=district)
        return user


def build_scene(personas: Personas, *, budget_fen: int = 10 * FRIDGE_CAP, slices: int = 2) -> Scene:
    policy_services.load_catalogue()
    services.clear_caches()
    programme = Programme.objects.get(code="cn-appliance-2026")
    Programme.objects.filter(pk=programme.pk).update(
        status="open", slices_per_district=slices, starts_on=datetime.date(2026, 1, 1), ends_on=None
    )
    programme.refresh_from_db()
    policy_services.set_budget(
        actor=personas.admin, programme=programme, total_fen=budget_fen, allocations={"110105": budget_fen}
    )
    store = Store.objects.create(
        organisation=personas.merchant, name="朝阳一店", address="北京市朝阳区测试路1号", district_id="110105"
    )
    sealed = crypto.seal("6222021234567890123", purpose="bank_account")
    phone = crypto.seal("13800000000", purpose="phone")
    enrolment = Enrolment.objects.create(
        organisation=personas.merchant,
        programme=programme,
        status="approved",
        categories=["fridge", "tv", "ac"],
        bank_name="演示银行",
        account_name="朝阳家电",
        bank_account_cipher=sealed.cipher,
        bank_account_digest=sealed.digest,
        bank_account_masked=sealed.masked,
        contact_name="周经理",
        contact_phone_cipher=phone.cipher,
        contact_phone_masked=phone.masked,
        submitted_by=personas.manager,
        decided_by=personas.district_reviewer,
        decided_at=timezone.now(),
    )
    enrolment.stores.add(store)
    fridge = ProductModel.objects.create(brand="海尔", model_number="BCD-500W", category="fridge", energy_grade=1)
    fridge_grade2 = ProductModel.objects.create(brand="海尔", model_number="BCD-300", category="fridge", energy_grade=2)
    tv = ProductModel.objects.create(brand="海信", model_number="65E5", category="tv", energy_grade=1)
    # The merchant has filed its prices (20,000 元, above every price the tests sell at), so a sale is held
    # only where a test means it to be.
    for product in (fridge, fridge_grade2, tv):
        PriceFiling.objects.create(
            merchant=personas.merchant,
            product=product,
            price_fen=FILED_PRICE,
            effective_from=datetime.date(2024, 1, 1),
            filed_by=personas.manager,
        )
    return Scene(personas, programme, store, enrolment, fridge, fridge_grade2, tv)


@pytest.fixture
def scene(personas: Personas) -> Scene:
    return build_scene(personas)
