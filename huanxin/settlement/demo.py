"""Demo history for settlement: two days of sales at the demo merchant, left where each finance role
has something to do on its first day.

The sales are made through the real services by four extra demo residents and dated back (a demo has no
past of its own); today's sale, of a model without a filed price, is held for the reviewers' queue. The day
before yesterday is closed and its payables are in a batch that ``finance`` prepared and ``finance2`` has
yet to approve (the checker's work); yesterday is closed and its payables are in no batch yet (the maker's
work). The periodic jobs only close ended periods, so they leave both where they are.
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
from huanxin.settlement.domain.payables import period_bounds
from huanxin.subsidies import services as subsidies
from huanxin.subsidies.models import Redemption, Store

DEMO_BUYERS = (
    ("13800138001", "李明", "110105198805120018"),
    ("13800138002", "王芳", "110108199203010026"),
    ("13800138003", "赵强", "110105197711230035"),
    ("13800138004", "孙丽", "110105198402140049"),
)
# Price, brand, model, serial and how many days ago the sale was made.
SALES = (
    (499_900, "海尔", "BCD-510WGHTD", "DEMO-SN-0001", 2),
    (389_900, "美的", "BCD-431WTPZM", "DEMO-SN-0002", 2),
    (1_299_900, "小天鹅", "TG100V88", "DEMO-SN-0003", 1),
    # Today, a model with no filed price: the sale is held, so reviewers find it in their queue.
    (799_900, "TCL", "75Q10K", "DEMO-SN-0004", 0),
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


def load_demo(finance: User) -> None:
    """Idempotent: skipped once the demo sales exist. ``finance`` is the maker of the waiting batch."""
    if Redemption.objects.filter(serial__startswith="DEMO-SN-").exists():
        return
    merchant = Organisation.objects.filter(uscc="91110105MA01HX0A01").first()
    clerk = User.objects.filter(username="clerk").first()
    store = Store.objects.filter(organisation=merchant).first()
    if merchant is None or clerk is None or store is None:
        return
    today = timezone.localdate()
    for (phone, name, resident_id), (price, brand, model, serial, days_ago) in zip(DEMO_BUYERS, SALES, strict=True):
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
        ).redemption
        if days_ago:
            noon = period_bounds(today - datetime.timedelta(days=days_ago))[0] + datetime.timedelta(hours=12)
            Redemption.objects.filter(pk=redemption.pk).update(redeemed_at=noon)
    sale = Redemption.objects.filter(serial__startswith="DEMO-SN-").select_related("programme").first()
    if sale is None:
        return
    # The day before yesterday is closed as the job closed it, just after midnight, and batched by the maker.
    yesterday_start = period_bounds(today - datetime.timedelta(days=1))[0]
    services.close_due_periods(now=yesterday_start + services.CLOSE_GRACE)
    if services.prepare_refusal(actor=finance, programme=sale.programme) is None:
        services.prepare_batch(actor=finance, programme=sale.programme)
    # Yesterday is closed now; its payables wait for the maker's next batch.
    services.close_due_periods()
