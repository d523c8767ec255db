"""Demo history for settlement: yesterday's sales at the demo merchant, settled, batched and approved.

The sales are made through the real services by three extra demo residents and then dated yesterday
(a demo has no yesterday of its own), so the finance pages show a closed period, a batch and its files.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from huanxin.accounts import services as accounts
from huanxin.accounts.models import Organisation, Person, User
from huanxin.accounts.sms import OutboxSmsBackend
from huanxin.catalogue.models import ProductModel
from huanxin.core import crypto
from huanxin.settlement import services
from huanxin.settlement.models import PaymentBatch, SettlementPeriod
from huanxin.subsidies import services as subsidies
from huanxin.subsidies.models import Redemption, Store

DEMO_BUYERS = (
    ("13800138001", "李明", "110105198805120018"),
    ("13800138002", "王芳", "110108199203010026"),
    ("13800138003", "赵强", "110105197711230035"),
)
SALES = (
    (499_900, "海尔", "BCD-510WGHTD", "DEMO-SN-0001"),
    (389_900, "美的", "BCD-431WTPZM", "DEMO-SN-0002"),
    (1_299_900, "小天鹅", "TG100V88", "DEMO-SN-0003"),
)


def _buyer(phone: str, name: str, resident_id: str) -> User | None:
    person = (
        Person.objects.filter(phone_digest=crypto.blind_index(phone, purpose="phone")).select_related("user").first()
    )
    if person is None:
        outbox = OutboxSmsBackend()
        accounts.request_phone_code(phone=phone, sms_backend=outbox)
        user = accounts.register_resident(
            phone=phone, code=outbox.outbox[-1][1], password="Huanxin-demo-2024", district="110105"
        )
        person = Person.objects.get(user=user)
    if not person.is_verified and person.user is not None:
        from stdnum.cn import ric

        if not ric.is_valid(resident_id):
            return None
        accounts.verify_identity(actor=person.user, name=name, resident_id=resident_id)
    return person.user


def load_demo(finance: User, checker: User) -> None:
    """Idempotent: skipped once the demo sales exist."""
    if Redemption.objects.filter(serial__startswith="DEMO-SN-").exists():
        return
    merchant = Organisation.objects.filter(uscc="91110105MA01HX0A01").first()
    clerk = User.objects.filter(username="clerk").first()
    store = Store.objects.filter(organisation=merchant).first()
    if merchant is None or clerk is None or store is None:
        return
    yesterday_noon = timezone.now().replace(hour=4, minute=0, second=0, microsecond=0) - datetime.timedelta(days=1)
    for (phone, name, resident_id), (price, brand, model, serial) in zip(DEMO_BUYERS, SALES, strict=True):
        buyer = _buyer(phone, name, resident_id)
        product = ProductModel.objects.filter(brand=brand, model_number=model).first()
        if buyer is None or product is None:
            continue
        qualification = subsidies.claim_qualification(
            actor=buyer, programme_code="cn-appliance-2026", category=product.category
        )
        redemption = subsidies.redeem(
            actor=clerk,
            merchant=merchant,
            store_id=store.pk,
            code=qualification.code,
            product_id=product.pk,
            serial=serial,
            price_fen=price,
            take_back=subsidies.TakeBackInput(category=product.category, condition="working"),
        )
        Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=yesterday_noon)
    services.close_due_periods()
    programme = Redemption.objects.filter(serial__startswith="DEMO-SN-").first()
    if programme is None or not SettlementPeriod.objects.filter(status="closed").exists():
        return
    if not PaymentBatch.objects.exists():
        batch = services.prepare_batch(actor=finance, programme=programme.programme)
        services.approve_batch(actor=checker, batch=batch)
