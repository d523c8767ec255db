"""Demo state for trade-in: products, stores, enrolments of the demo merchants, a resident's qualification."""

from __future__ import annotations

from django.utils import timezone

from huanxin.accounts.demo import DEMO_RESIDENT_PHONE
from huanxin.accounts.models import Organisation, Person, User
from huanxin.catalogue.models import PriceFiling, ProductModel
from huanxin.catalogue.services import BEIJING, file_price, import_products
from huanxin.core import crypto
from huanxin.policy.models import Programme
from huanxin.subsidies import services
from huanxin.subsidies.models import Enrolment, Qualification, Store

# Fictitious models with realistic grades (型号 are made up).
DEMO_PRODUCTS_CSV = """品牌,型号,品类,能效等级,水效等级,名称
海尔,BCD-510WGHTD,fridge,1,,海尔十字对开门冰箱 510升
美的,BCD-431WTPZM,fridge,1,,美的法式多门冰箱 431升
容声,BCD-280,fridge,2,,容声三门冰箱 280升
小天鹅,TG100V88,washer,1,1,小天鹅滚筒洗衣机 10公斤
海信,65E5N,tv,1,,海信 65英寸 电视
格力,KFR-35GW,ac,1,,格力 1.5匹 挂机空调
华为,NOH-AN00,phone,,,华为手机
小米,XM-TAB7,tablet,,,小米平板
TCL,75Q10K,tv,1,,TCL 75英寸 电视（未备案价格）
"""

# The demo merchants' filed prices (元): checkout checks each sale against them, and a sale of a model
# without one is held for review (the TCL television has none, so the demo's sale of it waits in the queue).
DEMO_FILED_PRICES_YUAN = {
    ("海尔", "BCD-510WGHTD"): 4_999,
    ("美的", "BCD-431WTPZM"): 3_899,
    ("小天鹅", "TG100V88"): 12_999,
    ("海信", "65E5N"): 5_999,
    ("格力", "KFR-35GW"): 3_599,
    ("华为", "NOH-AN00"): 5_499,
    ("小米", "XM-TAB7"): 1_999,
}

DEMO_STORES = {
    "91110105MA01HX0A01": [("华兴家电朝阳大悦城店", "北京市朝阳区朝阳北路101号", "110105")],
    "91110108MA01HX0B0D": [("中关村数码海龙店", "北京市海淀区中关村大街1号", "110108")],
}


def load_demo(admin: User, reviewer: User) -> None:
    """Idempotent: import products, register stores, enrol the demo merchants and file their prices, give the
    resident a code."""
    if not ProductModel.objects.filter(brand="海尔", model_number="BCD-510WGHTD").exists():
        import_products(actor=admin, file_name="demo-products.csv", content=DEMO_PRODUCTS_CSV.encode())
    for uscc, stores in DEMO_STORES.items():
        merchant = Organisation.objects.filter(uscc=uscc).first()
        manager = User.objects.filter(memberships__organisation=merchant, memberships__role="merchant_manager").first()
        if merchant is None:
            continue
        for name, address, district in stores:
            # Stores are registered as a manager registers them (with the audit row), never written directly.
            if manager is not None and not Store.objects.filter(organisation=merchant, name=name).exists():
                services.create_store(actor=manager, merchant=merchant, name=name, address=address, district=district)
        for code, categories in (
            ("cn-appliance-2026", ["fridge", "washer", "tv", "ac"]),
            ("cn-digital-2026", ["phone", "tablet"]),
        ):
            programme = Programme.objects.filter(code=code, status=Programme.Status.OPEN).first()
            if programme is None or Enrolment.objects.filter(organisation=merchant, programme=programme).exists():
                continue
            store_ids = list(Store.objects.filter(organisation=merchant).values_list("pk", flat=True))
            data = services.EnrolmentInput(
                categories=categories,
                store_ids=store_ids,
                bank_name="演示银行北京分行",
                account_name=merchant.name,
                bank_account="6222021234567890123",
                contact_name="周经理",
                contact_phone="13910001000",
            )
            if manager is not None:
                enrolment = services.apply_enrolment(actor=manager, merchant=merchant, programme=programme, data=data)
                services.decide_enrolment(actor=reviewer, enrolment=enrolment, action="approve", note="材料齐全")
        if manager is not None and not PriceFiling.objects.filter(merchant=merchant).exists():
            for (brand, model), yuan in DEMO_FILED_PRICES_YUAN.items():
                product = ProductModel.objects.filter(brand=brand, model_number=model).first()
                if product is not None:
                    file_price(
                        actor=manager,
                        merchant=merchant,
                        product=product,
                        price_fen=yuan * 100,
                        effective_from=timezone.localdate(timezone=BEIJING),
                    )
    person = Person.objects.filter(phone_digest=crypto.blind_index(DEMO_RESIDENT_PHONE, purpose="phone")).first()
    if person is not None and person.user is not None and not Qualification.objects.filter(person=person).exists():
        try:
            services.claim_qualification(actor=person.user, programme_code="cn-appliance-2026", category="fridge")
        except Exception:
            return
