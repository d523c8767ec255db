"""Demo data for a pilot: districts come from the migrations; organisations and one account per role here.

Every object is created through the services (so the audit log shows how the demo came to be) and
only when missing, so running it again changes nothing. All names and codes are fictitious but valid
(checksums pass); the government units carry the real bureaus' names with made-up codes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction

from huanxin.accounts import services
from huanxin.accounts.models import Licence, Membership, Organisation, OrganisationKind, Person, Role, User
from huanxin.accounts.sms import OutboxSmsBackend
from huanxin.core import audit

DEMO_PASSWORD = "Huanxin-demo-2024"


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    short_name: str
    kind: str
    uscc: str
    district: str
    licences: tuple[tuple[str, str], ...] = ()


ORGANISATIONS = (
    DemoOrganisation(
        "commerce_city", "北京市商务局", "市商务局", OrganisationKind.GOVERNMENT, "11110000MB01HX0G04", "110102"
    ),
    DemoOrganisation(
        "commerce_cy", "北京市朝阳区商务局", "朝阳区商务局", OrganisationKind.GOVERNMENT, "11110105MB01HX0H0J", "110105"
    ),
    DemoOrganisation(
        "finance_city", "北京市财政局", "市财政局", OrganisationKind.GOVERNMENT, "11110000MB01HX0J06", "110102"
    ),
    DemoOrganisation(
        "audit_city", "北京市审计局（演示）", "市审计局", OrganisationKind.GOVERNMENT, "12110000MB01HX0F00", "110102"
    ),
    DemoOrganisation(
        "merchant_cy", "北京华兴家电销售有限公司", "华兴家电", OrganisationKind.MERCHANT, "91110105MA01HX0A01", "110105"
    ),
    DemoOrganisation(
        "merchant_hd",
        "北京中关村数码商城有限公司",
        "中关村数码",
        OrganisationKind.MERCHANT,
        "91110108MA01HX0B0D",
        "110108",
    ),
    DemoOrganisation(
        "merchant_xc", "北京西单电器城有限公司", "西单电器", OrganisationKind.MERCHANT, "91110102MA01HX0K0Y", "110102"
    ),
    DemoOrganisation(
        "recycler",
        "北京绿环再生资源回收有限公司",
        "绿环回收",
        OrganisationKind.RECYCLER,
        "91110112MA01HX0C07",
        "110112",
        # The business registration beside the filing: together one of the qualifications to reverse-invoice.
        (("business", "91110112MA01HX0C07"), ("renewable_recycling", "京再生备字2024-0012")),
    ),
    DemoOrganisation(
        "dismantler",
        "北京京环电子废弃物处理有限公司",
        "京环拆解",
        OrganisationKind.DISMANTLER,
        "91110115MA01HX0D0K",
        "110115",
        (("weee_dismantling", "京废电处字2023-003"),),
    ),
    DemoOrganisation(
        "scrapper",
        "北京顺达报废汽车回收拆解有限公司",
        "顺达报废车",
        OrganisationKind.VEHICLE_SCRAPPER,
        "91110113MA01HX0E0P",
        "110113",
        (("vehicle_scrapping", "京报废车资字2022-008"),),
    ),
    # Owns operating trucks (vehicles.demo registers them in its name): applies for bj-truck-2024.
    DemoOrganisation(
        "haulier",
        "北京京运物流有限公司",
        "京运物流",
        OrganisationKind.DECLARING_ENTERPRISE,
        "91110112MA01DHX727",
        "110112",
    ),
    DemoOrganisation(
        "bank", "北京演示银行股份有限公司", "演示银行", OrganisationKind.BANK, "91110000MA01HX0L0X", "110102"
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    organisation: str | None
    district: str | None = None


ACCOUNTS = (
    DemoAccount("reviewer", "王审核（市商务局）", Role.REVIEWER, "commerce_city"),
    DemoAccount("reviewer_cy", "李审核（朝阳区商务局）", Role.REVIEWER, "commerce_cy", "110105"),
    DemoAccount("finance", "赵财务（市财政局）", Role.FINANCE_OFFICER, "finance_city"),
    DemoAccount("finance2", "钱复核（市财政局）", Role.FINANCE_OFFICER, "finance_city"),
    DemoAccount("auditor", "孙审计", Role.AUDITOR, "audit_city"),
    DemoAccount("manager", "周店长（华兴家电）", Role.MERCHANT_MANAGER, "merchant_cy"),
    DemoAccount("clerk", "吴收银（华兴家电）", Role.MERCHANT_CLERK, "merchant_cy"),
    DemoAccount("clerk_hd", "郑收银（中关村数码）", Role.MERCHANT_CLERK, "merchant_hd"),
    DemoAccount("recycler", "冯回收（绿环回收）", Role.RECYCLER, "recycler"),
    DemoAccount("dismantler", "陈拆解（京环拆解）", Role.DISMANTLER, "dismantler"),
    DemoAccount("scrapper", "褚拆车（顺达报废车）", Role.DISMANTLER, "scrapper"),
    DemoAccount("declarant", "蒋申报（京运物流）", Role.DECLARANT, "haulier"),
)

DEMO_RESIDENT_PHONE = "13800138000"
DEMO_RESIDENT_ID = "110105199003071239"
DEMO_RESIDENT_NAME = "张三"
DEMO_RESIDENT_DISTRICT = "110105"


def _bootstrap_administrator() -> User:
    """The first administrator has nobody to create it: it is made directly, and audited as 'system'."""
    admin = User.objects.filter(username="admin").first()
    if admin is not None:
        return admin
    with transaction.atomic(durable=True):
        admin = User(username="admin", display_name="系统管理员", is_staff=True, is_superuser=True)
        admin.set_password(DEMO_PASSWORD)
        admin.save()
        audit.record(
            actor="system",
            action="accounts.user.bootstrap_administrator",
            target=admin,
            after={"username": "admin", "is_superuser": True},
        )
    return admin


def load_demo() -> list[tuple[str, str, str]]:
    """Create what is missing; return (username or phone, role label, organisation) for every demo account."""
    admin = _bootstrap_administrator()
    organisations: dict[str, Organisation] = {}
    for spec in ORGANISATIONS:
        organisation = Organisation.objects.filter(uscc=spec.uscc).first()
        if organisation is None:
            organisation = services.create_organisation(
                actor=admin,
                name=spec.name,
                short_name=spec.short_name,
                kind=spec.kind,
                uscc=spec.uscc,
                district=spec.district,
            )
        for kind, number in spec.licences:
            if not Licence.objects.filter(kind=kind, number=number).exists():
                services.add_licence(
                    actor=admin,
                    organisation=organisation,
                    kind=kind,
                    number=number,
                    valid_from=datetime.date(2023, 1, 1),
                    valid_until=datetime.date(2027, 12, 31),
                )
        organisations[spec.key] = organisation
    if not Membership.objects.filter(user=admin, role=Role.ADMINISTRATOR).exists():
        services.grant_role(
            actor=admin, user=admin, role=Role.ADMINISTRATOR, organisation=organisations["commerce_city"]
        )

    printed = [("admin", Role.ADMINISTRATOR.label, organisations["commerce_city"].name)]
    for account in ACCOUNTS:
        user = User.objects.filter(username=account.username).first()
        if user is None:
            user = services.create_staff_user(
                actor=admin, username=account.username, password=DEMO_PASSWORD, display_name=account.display_name
            )
        organisation = organisations[account.organisation] if account.organisation else None
        if not Membership.objects.filter(user=user, role=account.role, organisation=organisation).exists():
            services.grant_role(
                actor=admin, user=user, role=account.role, organisation=organisation, district=account.district
            )
        printed.append(
            (
                account.username,
                Role(account.role).label,
                (organisation.name if organisation else "")
                + (f"（辖区 {account.district}）" if account.district else ""),
            )
        )

    _demo_resident()
    printed.append((DEMO_RESIDENT_PHONE, Role.CONSUMER.label, f"{DEMO_RESIDENT_NAME}，已实名，朝阳区"))
    return printed


def _demo_resident() -> None:
    """A verified resident, registered the way a real one is: code, account, then real-name verification."""
    from huanxin.core import crypto

    digest = crypto.blind_index(DEMO_RESIDENT_PHONE, purpose="phone")
    person = Person.objects.filter(phone_digest=digest).select_related("user").first()
    if person is None:
        outbox = OutboxSmsBackend()
        services.request_phone_code(phone=DEMO_RESIDENT_PHONE, sms_backend=outbox)
        known = outbox.outbox[-1][1]
        user = services.register_resident(
            phone=DEMO_RESIDENT_PHONE, code=known, password=DEMO_PASSWORD, district=DEMO_RESIDENT_DISTRICT
        )
        person = Person.objects.get(user=user)
    if not person.is_verified and person.user is not None:
        # Verification registers the district the resident's claims are charged to (Chaoyang, where the
        # demo merchant and budget are).
        services.verify_identity(
            actor=person.user, name=DEMO_RESIDENT_NAME, resident_id=DEMO_RESIDENT_ID, district=DEMO_RESIDENT_DISTRICT
        )
    elif person.is_verified and person.district_id is None and person.user is not None:
        # A demo database verified before verification asked for a district: register it once.
        services.change_registered_district(actor=person.user, district=DEMO_RESIDENT_DISTRICT)
